"""Queries and rules for events: filters, ordering, keyset pages and the detail view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.actors import service as actors
from app.claims.models import Claim
from app.errors import InvalidParameter, NotFound
from app.events.models import Event, EventActor, EventLocation, EventRelation, EventTag
from app.events.schemas import ActorMatch, EventQuery, EventSort
from app.locations import service as locations
from app.pagination import decode_cursor, encode_cursor
from app.sources import service as sources
from app.vocab import EventStatus


def search_terms(q: str | None) -> list[str]:
    """Split a text query into the words that must all match."""
    return [term for term in (q or "").split() if term][:10]


def _text_match(term: str) -> ColumnElement[bool]:
    claim_match = exists().where(
        Claim.event_id == Event.id,
        or_(
            Claim.statement.icontains(term, autoescape=True),
            Claim.quote.icontains(term, autoescape=True),
            Claim.evidence_text.icontains(term, autoescape=True),
        ),
    )
    return or_(
        Event.title.icontains(term, autoescape=True),
        Event.summary.icontains(term, autoescape=True),
        claim_match,
    )


def conditions(session: Session, f: EventQuery) -> list[ColumnElement[bool]]:
    """Resolve the filters' references (422 when unknown) and turn them into SQL conditions."""
    if f.start and f.end and f.end < f.start:
        raise InvalidParameter("end is before start", param="end")
    conds: list[ColumnElement[bool]] = []
    actor_ids = actors.resolve(session, f.actor)
    if actor_ids and f.actor_match is ActorMatch.any:
        conds.append(
            exists().where(EventActor.event_id == Event.id, EventActor.actor_id.in_(actor_ids))
        )
    else:
        conds.extend(
            exists().where(EventActor.event_id == Event.id, EventActor.actor_id == actor_id)
            for actor_id in actor_ids
        )
    if f.start:
        # Overlap: the event's last day is on or after `start`. A missing end_date means a
        # one-day event, except for ongoing events, which run on with no known end.
        conds.append(
            or_(
                Event.end_date >= f.start,
                and_(
                    Event.end_date.is_(None),
                    Event.start_date.is_not(None),
                    or_(Event.status == EventStatus.ongoing.value, Event.start_date >= f.start),
                ),
            )
        )
    if f.end:
        conds.append(Event.start_date <= f.end)
    if f.type:
        conds.append(Event.event_type.in_([t.value for t in f.type]))
    if f.status:
        conds.append(Event.status.in_([s.value for s in f.status]))
    if f.country:
        conds.append(
            exists().where(
                EventLocation.event_id == Event.id,
                EventLocation.location_id.in_(locations.ids_in_countries(f.country)),
            )
        )
    if f.location:
        location_ids = locations.resolve(session, f.location)
        conds.append(
            exists().where(
                EventLocation.event_id == Event.id, EventLocation.location_id.in_(location_ids)
            )
        )
    if f.source:
        sources.require(session, f.source)
        conds.append(exists().where(Claim.event_id == Event.id, Claim.source_id.in_(f.source)))
    if f.tag:
        conds.append(exists().where(EventTag.event_id == Event.id, EventTag.tag.in_(f.tag)))
    conds.extend(_text_match(term) for term in search_terms(f.q))
    return conds


def _ordered(stmt: Select[Event], sort: EventSort) -> Select[Event]:
    if sort is EventSort.oldest:
        return stmt.order_by(Event.start_date.asc().nulls_last(), Event.id.asc())
    return stmt.order_by(Event.start_date.desc().nulls_last(), Event.id.desc())


def _after(sort: EventSort, last_date: date | None, last_id: str) -> ColumnElement[bool]:
    """Rows after (last_date, last_id) in the list order, where undated events come last."""
    if last_date is None:
        beyond_id = Event.id > last_id if sort is EventSort.oldest else Event.id < last_id
        return and_(Event.start_date.is_(None), beyond_id)
    if sort is EventSort.oldest:
        earlier_or_later = Event.start_date > last_date
        same_day_next = and_(Event.start_date == last_date, Event.id > last_id)
    else:
        earlier_or_later = Event.start_date < last_date
        same_day_next = and_(Event.start_date == last_date, Event.id < last_id)
    return or_(earlier_or_later, same_day_next, Event.start_date.is_(None))


def list_options() -> list[object]:
    """What a list item carries, loaded in a fixed number of statements per page."""
    return [
        selectinload(Event.actor_links).joinedload(EventActor.actor),
        selectinload(Event.location_links).joinedload(EventLocation.location),
        selectinload(Event.tag_links),
        selectinload(Event.quantities),
    ]


def get_all(session: Session, f: EventQuery) -> tuple[list[Event], int, str | None]:
    """A page of events in date order, the total matching, and the cursor of the next page."""
    sort, limit, cursor = f.sort, f.limit, f.cursor
    conds = conditions(session, f)
    total = session.scalar(select(func.count()).select_from(Event).where(*conds)) or 0
    stmt = _ordered(select(Event).where(*conds), sort).limit(limit + 1)
    if cursor:
        raw_date, last_id = decode_cursor(cursor, f"events:{sort.value}", 2)
        try:
            last_date = date.fromisoformat(raw_date) if raw_date else None
        except ValueError as exc:
            raise InvalidParameter("cursor is malformed", param="cursor") from exc
        stmt = stmt.where(_after(sort, last_date, last_id))
    rows = list(session.scalars(stmt.options(*list_options())))  # type: ignore[arg-type]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        key = [last.start_date.isoformat() if last.start_date else None, last.id]
        next_cursor = encode_cursor(f"events:{sort.value}", key)
    return rows[:limit], total, next_cursor


@dataclass
class EventWithEvidence:
    """An event, its claims and its links in both directions."""

    event: Event
    claims: list[Claim]
    outgoing: list[EventRelation]
    incoming: list[EventRelation]


def get(session: Session, event_id: str) -> EventWithEvidence:
    """One event with its claims and related events, or 404."""
    event = session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .options(
            *list_options(),  # type: ignore[arg-type]
            selectinload(Event.relations).joinedload(EventRelation.related),
        )
    )
    if event is None:
        raise NotFound(f"no event with id {event_id!r}", param="event_id")
    claims = list(
        session.scalars(
            select(Claim)
            .where(Claim.event_id == event_id)
            .options(selectinload(Claim.quantities), joinedload(Claim.speaker))
            .order_by(Claim.source_id, Claim.evidence_start, Claim.id)
        )
    )
    incoming = list(
        session.scalars(
            select(EventRelation)
            .where(EventRelation.related_event_id == event_id)
            .options(joinedload(EventRelation.origin))
            .order_by(EventRelation.event_id)
        )
    )
    return EventWithEvidence(event, claims, list(event.relations), incoming)
