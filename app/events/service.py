"""Queries and rules for events: filters, ordering, keyset pages and the detail view."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from app.actors import service as actors
from app.actors.models import Affiliation
from app.claims.models import Claim
from app.errors import InvalidParameter, NotFound
from app.events.models import Event, EventActor, EventLocation, EventRelation, EventTag
from app.events.schemas import (
    ActorMatch,
    DateFilterPrecision,
    EventFilters,
    EventQuery,
    EventSort,
    Expand,
)
from app.locations import service as locations
from app.locations.models import Location
from app.pagination import decode_cursor, encode_cursor, stream_rows
from app.sources import service as sources
from app.vocab import CoordinatePrecision, EventStatus


def search_terms(q: str | None) -> list[str]:
    """Split a text query into the words that must all match."""
    return [term for term in (q or "").split() if term][:10]


# Every subquery below reads its tables through fresh aliases, so that it correlates only to
# `events` even inside statements that join those tables themselves (stats, network).


def _text_match(term: str) -> ColumnElement[bool]:
    claim = aliased(Claim)
    claim_match = exists().where(
        claim.event_id == Event.id,
        or_(
            claim.statement.icontains(term, autoescape=True),
            claim.quote.icontains(term, autoescape=True),
            claim.evidence_text.icontains(term, autoescape=True),
        ),
    )
    return or_(
        Event.title.icontains(term, autoescape=True),
        Event.summary.icontains(term, autoescape=True),
        claim_match,
    )


CENTROIDS = (
    CoordinatePrecision.country_centroid.value,
    CoordinatePrecision.continent_centroid.value,
)
PRECISION_KEPT = {
    DateFilterPrecision.day: ["day"],
    DateFilterPrecision.month: ["day", "month"],
    DateFilterPrecision.year: ["day", "month", "year"],
}


def _involves(actor_ids: list[str], expand: bool) -> ColumnElement[bool]:
    """The event involves one of these actors or, expanded, one of their members in time."""
    link = aliased(EventActor)
    direct = exists().where(link.event_id == Event.id, link.actor_id.in_(actor_ids))
    if not expand:
        return direct
    link, membership = aliased(EventActor), aliased(Affiliation)
    last_day = func.coalesce(Event.end_date, Event.start_date)
    member = exists().where(
        link.event_id == Event.id,
        membership.actor_id == link.actor_id,
        membership.organization_id.in_(actor_ids),
        or_(membership.start_date.is_(None), last_day.is_(None), last_day >= membership.start_date),
        or_(
            membership.end_date.is_(None),
            Event.start_date.is_(None),
            Event.start_date <= membership.end_date,
        ),
    )
    return or_(direct, member)


def _located_in(
    bbox: tuple[float, float, float, float], exclude_centroids: bool
) -> ColumnElement[bool]:
    min_lon, min_lat, max_lon, max_lat = bbox
    link, place = aliased(EventLocation), aliased(Location)
    in_lon: ColumnElement[bool]
    if min_lon <= max_lon:
        in_lon = place.longitude.between(min_lon, max_lon)
    else:  # the box crosses the antimeridian
        in_lon = or_(place.longitude >= min_lon, place.longitude <= max_lon)
    conds = [
        link.event_id == Event.id,
        place.id == link.location_id,
        place.latitude.between(min_lat, max_lat),
        in_lon,
    ]
    if exclude_centroids:
        conds.append(place.precision.not_in(CENTROIDS))
    return exists().where(*conds)


def _has_location(location_ids: Any) -> ColumnElement[bool]:
    link = aliased(EventLocation)
    return exists().where(link.event_id == Event.id, link.location_id.in_(location_ids))


def conditions(
    session: Session, f: EventFilters, *, with_precision: bool = True
) -> list[ColumnElement[bool]]:
    """Resolve the filters' references (422 when unknown) and turn them into SQL conditions."""
    if f.start and f.end and f.end < f.start:
        raise InvalidParameter("end is before start", param="end")
    conds: list[ColumnElement[bool]] = []
    actor_ids = actors.resolve(session, f.actor)
    expand = f.expand is Expand.members
    if actor_ids and f.actor_match is ActorMatch.any:
        conds.append(_involves(actor_ids, expand))
    else:
        conds.extend(_involves([actor_id], expand) for actor_id in actor_ids)
    bbox = f.bbox_values()
    if bbox is not None:
        conds.append(_located_in(bbox, f.exclude_centroids))
    if with_precision and f.precision is not None:
        conds.append(Event.date_precision.in_(PRECISION_KEPT[f.precision]))
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
        conds.append(_has_location(locations.ids_in_countries(f.country)))
    if f.location:
        location_ids = locations.resolve(session, f.location)
        conds.append(_has_location(location_ids))
    if f.source:
        sources.require(session, f.source)
        claim = aliased(Claim)
        conds.append(exists().where(claim.event_id == Event.id, claim.source_id.in_(f.source)))
    if f.tag:
        tagged = aliased(EventTag)
        conds.append(exists().where(tagged.event_id == Event.id, tagged.tag.in_(f.tag)))
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


def count(session: Session, conds: list[ColumnElement[bool]]) -> int:
    """How many events meet these conditions."""
    return session.scalar(select(func.count()).select_from(Event).where(*conds)) or 0


def extra_meta(session: Session, f: EventFilters, total: int) -> dict[str, int]:
    """What filters left out, for the response's meta."""
    if f.precision is None:
        return {}
    without = count(session, conditions(session, f, with_precision=False))
    return {"excluded_by_precision": without - total}


def get_all(
    session: Session, f: EventQuery, limit: int
) -> tuple[list[Event], int, str | None, dict[str, int]]:
    """A page of events in date order, the total matching, the next cursor and extra meta."""
    conds = conditions(session, f)
    total = count(session, conds)
    stmt = _ordered(select(Event).where(*conds), f.sort).limit(limit + 1)
    if f.cursor:
        raw_date, last_id = decode_cursor(f.cursor, f"events:{f.sort.value}", 2)
        try:
            last_date = date.fromisoformat(raw_date) if raw_date else None
        except ValueError as exc:
            raise InvalidParameter("cursor is malformed", param="cursor") from exc
        stmt = stmt.where(_after(f.sort, last_date, last_id))
    rows = list(session.scalars(stmt.options(*list_options())))  # type: ignore[arg-type]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        key = [last.start_date.isoformat() if last.start_date else None, last.id]
        next_cursor = encode_cursor(f"events:{f.sort.value}", key)
    return rows[:limit], total, next_cursor, extra_meta(session, f, total)


def export(
    session: Session, f: EventQuery, count_unlocated: bool = False
) -> tuple[int, dict[str, int], Iterator[Event]]:
    """Every matching event, streamed from a database cursor in batches; each batch's actors,
    places and quantities are loaded with one statement per relation. For a map export,
    `count_unlocated` also counts the matches that have no usable coordinates."""
    conds = conditions(session, f)
    total = count(session, conds)
    extra = extra_meta(session, f, total)
    if count_unlocated:
        link, place = aliased(EventLocation), aliased(Location)
        located = [
            link.event_id == Event.id,
            place.id == link.location_id,
            place.latitude.is_not(None),
        ]
        if f.exclude_centroids:
            located.append(place.precision.not_in(CENTROIDS))
        extra["excluded_without_coordinates"] = count(session, [*conds, ~exists().where(*located)])
    stmt = _ordered(select(Event).where(*conds), f.sort).options(*list_options())  # type: ignore[arg-type]
    return total, extra, stream_rows(session, stmt)


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
