"""Read and bump the data version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
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
