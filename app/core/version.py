"""The data version: one row every write bumps in its transaction, so that every worker and
host sharing the database agrees on what changed when. HTTP caching keys answers by it, and
writers queue on its row lock (`lock_writes`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Engine, select, true, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base, Prepared, Reader, UTCDateTime, prepared_rows, utcnow


class DataVersion(Base):
    """A single row whose counter every write bumps; it lives in the database so that every
    worker and host sharing the database agrees on it."""

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Whether no other version moved in changed_at's second. Last-Modified has one-second
    # resolution, so it identifies this version only then (see app.changes.service.bump).
    changed_alone: Mapped[bool] = mapped_column(Boolean, server_default=true())


def current(session: Reader) -> tuple[int, datetime | None]:
    """The data version and its Last-Modified: when it moved, or None when that second
    does not identify it (see `bump`)."""
    rows = prepared_rows(session, CURRENT, {})
    return _version(rows[0] if rows else None)


def bump(session: Session) -> None:
    """Record that data changed.

    Last-Modified counts whole seconds, so a second in which two versions were committed
    cannot tell a client's copy of the first from the second: such a version is marked
    not alone, and answers built from it carry no Last-Modified and never validate one.
    Writers hold the data version's row lock (lock_writes), so the previous moment read here
    is the latest one, and `changed_at` never goes backwards, even across hosts whose clocks
    differ (a write that reads a moment later than its own clock is not alone either).
    """
    lock_writes(session)
    before = session.scalar(select(DataVersion.changed_at).where(DataVersion.id == 1))
    now = utcnow()
    alone = before is None or now.replace(microsecond=0) > before.replace(microsecond=0)
    session.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(
            version=DataVersion.version + 1,
            changed_at=now if before is None else max(now, before),
            changed_alone=alone,
        )
    )


CURRENT_SQL = "SELECT version, changed_at, changed_alone FROM data_version WHERE id = 1"
CURRENT = Prepared(CURRENT_SQL)  # read by every answer: on the driver's cursor

# The data version's columns, for a read that takes them in its own statement (one snapshot,
# one statement less): the SQL text of a prepared statement (core.db.Prepared) that selects
# these first from `data_version` where `ROW` holds, then `of_row`.
COLUMNS = "data_version.version, data_version.changed_at, data_version.changed_alone"
ROW = "data_version.id = 1"


def of_row(row: Sequence[Any] | None) -> tuple[int, datetime | None]:
    """The data version and its Last-Modified from a row that selected `COLUMNS` first."""
    return _version(None if row is None else tuple(row[:3]))


def read(engine: Engine) -> tuple[int, datetime | None]:
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

    def __call__(self) -> tuple[int, datetime | None]:
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


def _version(row: Any) -> tuple[int, datetime | None]:
    if row is None:
        raise LookupError("data_version has no row; run the migrations")
    version, changed_at, alone = row
    if not alone:
        return int(version), None
    if isinstance(changed_at, str):  # SQLite stores datetimes as ISO text
        changed_at = datetime.fromisoformat(changed_at)
    if changed_at.tzinfo is None:
        changed_at = changed_at.replace(tzinfo=UTC)
    return int(version), changed_at.astimezone(UTC)


def lock_writes(session: Session) -> None:
    """Queue this transaction behind any other write: the data version's row lock, taken
    first. SQLite's write transactions already begin IMMEDIATE; on PostgreSQL this keeps two
    writers from maintaining the same derived rows (search, rollups) at once, and makes
    revisions commit in the order of their numbers. Taken once per transaction: the write
    path's steps each ask for it, and only the first asks the database."""
    if session.in_transaction() and session.info.get(LOCKED) is session.get_transaction():
        return
    session.execute(select(DataVersion.id).where(DataVersion.id == 1).with_for_update())
    session.info[LOCKED] = session.get_transaction()


# The session's key for the transaction that holds the write lock.
LOCKED = "geoevents.write_lock"
