"""The change feed and every record's history, read from the revisions."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.changes.models import Revision
from app.changes.schemas import RevisionRead


def revision_read(revision: Revision) -> RevisionRead:
    """A revision as the API shows it."""
    before, after = _document(revision.before), _document(revision.after)
    old, new = before or {}, after or {}
    return RevisionRead(
        seq=revision.seq,
        at=revision.at,
        kind=revision.kind,
        record_id=revision.record_id,
        event_id=revision.event_id,
        op=revision.op,
        version=revision.version,
        author=revision.author,
        note=revision.note,
        changes={
            name: {"before": old.get(name), "after": new.get(name)}
            for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)
        },
        before=before,
        after=after,
    )


def _document(text: str | None) -> dict[str, Any] | None:
    return None if text is None else orjson.loads(text)


def feed(session: Session, since: int, limit: int, kinds: list[str]) -> tuple[list[Revision], bool]:
    """Revisions after sequence number `since`, oldest first, and whether more follow."""
    stmt = select(Revision).where(Revision.seq > since)
    if kinds:
        stmt = stmt.where(Revision.kind.in_(kinds))
    rows = list(session.scalars(stmt.order_by(Revision.seq).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def history(session: Session, event_id: str) -> list[Revision]:
    """Every revision of an event and of the claims that were ever about it."""
    return list(
        session.scalars(
            select(Revision).where(Revision.event_id == event_id).order_by(Revision.seq)
        )
    )
