"""Read and bump the data version."""

from __future__ import annotations

from datetime import UTC, datetime

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
    if row is None:
        raise LookupError("data_version has no row; run the migrations")
    version, changed_at = row
    if isinstance(changed_at, str):  # SQLite stores datetimes as ISO text
        changed_at = datetime.fromisoformat(changed_at)
    if changed_at.tzinfo is None:
        changed_at = changed_at.replace(tzinfo=UTC)
    return int(version), changed_at.astimezone(UTC)
