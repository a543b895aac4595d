"""Small factories that add records through the write path (`app.curation.kinds.put`), so
that every derived row and stored document is kept as a real write keeps it."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.core import version as data_version
from app.core.kinds import Kind
from app.curation import kinds
from app.curation.schemas import ClaimDoc
from app.events.schemas import EventDoc


def make_event(
    session: Session,
    event_id: str,
    start: date | None,
    end: date | None = None,
    *,
    status: str = "occurred",
    actors: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    title: str | None = None,
    locations: tuple[str, ...] = (),
    quantities: tuple[tuple[str, float, str, str], ...] = (),
    precision: str | None = None,
) -> None:
    """Write an event (with a claim pointing into the seed source) and commit it."""
    event = EventDoc.model_validate(
        {
            "id": event_id,
            "title": title or f"Test event {event_id}",
            "event_type": "CONSULT",
            "status": status,
            "start_date": start,
            "end_date": end,
            "date_precision": precision or ("day" if start else "unknown"),
            "tags": list(tags),
            "actors": [{"actor": a, "role": "participant"} for a in actors],
            "locations": list(locations),
        }
    )
    claim = ClaimDoc.model_validate(
        {
            "id": f"{event_id}-claim",
            "event_id": event_id,
            "source_id": "putin-roundup-article",
            "statement": "A test claim.",
            "hedging": "asserted",
            "evidence": {"start": 0, "end": 4, "text": "News"},
            "quantities": [
                {"label": label, "value": value, "unit": unit, "qualifier": qualifier}
                for label, value, unit, qualifier in quantities
            ],
        }
    )
    kinds.put(session, Kind.event, [event])
    kinds.put(session, Kind.claim, [claim])
    data_version.bump(session)
    session.commit()
