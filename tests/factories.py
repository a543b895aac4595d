"""Small factories that add records inside a test's rolled-back transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app import search
from app.claims.models import Claim, Quantity
from app.claims.schemas import bounds
from app.core import version as data_version
from app.core.vocab import Qualifier
from app.events import service as events
from app.events.models import Event, EventActor, EventLocation, EventTag


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
) -> Event:
    """Insert an event (with a claim pointing into the seed source) and flush it."""
    event = Event(
        id=event_id,
        title=title or f"Test event {event_id}",
        summary=None,
        event_type="CONSULT",
        status=status,
        start_date=start,
        end_date=end,
        date_precision=precision or ("day" if start else "unknown"),
        span_days=events.span_days(start, end),
        last_date=events.last_date(start, end, status),
    )
    with events.maintaining(session, [event_id]):
        session.add(event)
        session.flush()
        session.add_all(
            [
                EventActor(event_id=event_id, actor_id=a, role="participant", position=n)
                for n, a in enumerate(actors)
            ]
            + [EventTag(event_id=event_id, tag=t) for t in tags]
            + [
                EventLocation(event_id=event_id, location_id=loc, position=n)
                for n, loc in enumerate(locations)
            ]
        )
    session.add(
        Claim(
            id=f"{event_id}-claim",
            event_id=event_id,
            source_id="putin-roundup-article",
            statement="A test claim.",
            hedging="asserted",
            evidence_start=0,
            evidence_end=4,
            evidence_text="News",
        )
    )
    session.flush()
    search.refresh(session, [event_id])
    for n, (label, value, unit, qualifier) in enumerate(quantities, start=1):
        low, high, low_inc, high_inc = bounds(Qualifier(qualifier), value)
        session.add(
            Quantity(
                id=f"{event_id}-claim-q{n}",
                claim_id=f"{event_id}-claim",
                event_id=event_id,
                label=label,
                value=value,
                unit=unit,
                qualifier=qualifier,
                low=low,
                high=high,
                low_inclusive=low_inc,
                high_inclusive=high_inc,
            )
        )
    data_version.bump(session)
    session.commit()
    return event
