"""Read and bump the data version."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from app.changes.models import DataVersion
from app.db import utcnow


def current(session: Session) -> tuple[int, datetime]:
    """The data version and when it last moved."""
    row = session.execute(select(DataVersion.version, DataVersion.changed_at)).one()
    return row.version, row.changed_at


def bump(session: Session) -> None:
    """Record that data changed; atomic, so concurrent writers never lose a bump."""
    session.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(version=DataVersion.version + 1, changed_at=utcnow())
    )


CURRENT_SQL = "SELECT version, changed_at FROM data_version WHERE id = 1"


def read(engine: Engine) -> tuple[int, datetime]:
    """The data version and when it last moved, on a pooled DBAPI connection without a
    session: the read every cached answer costs, so it is kept to one plain statement."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(CURRENT_SQL)
        row = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()
    return _version(row)


class LocalReader:
    """Reads the data version of a SQLite file on a connection of its own, outside the pool.

    Cheap enough to run on the event loop (a few microseconds; in WAL mode a reader never
    waits on a writer), and never waits for a pooled connection, which only the event loop
    can give back. Opened on first use, so in the process that uses it.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def __call__(self) -> tuple[int, datetime]:
        """The data version and when it last moved."""
        if self._connection is None:
            self._connection = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=1.0
            )
        try:
            return _version(self._connection.execute(CURRENT_SQL).fetchone())
        except sqlite3.Error:
            self._connection.close()
            self._connection = None
            raise


def _version(row: Any) -> tuple[int, datetime]:
    if row is None:
        raise LookupError("data_version has no row; run the migrations")
    version, changed_at = row
    if isinstance(changed_at, str):  # SQLite stores datetimes as ISO text
        changed_at = datetime.fromisoformat(changed_at)
    if changed_at.tzinfo is None:
        changed_at = changed_at.replace(tzinfo=UTC)
    return int(version), changed_at.astimezone(UTC)
