"""Queries and rules for events: filters, ordering, keyset pages and the detail view."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased, joinedload, selectinload
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from app import search
from app.actors import service as actors
from app.actors.models import Affiliation
from app.claims.models import Claim, Quantity
from app.core.errors import InvalidParameter, NotFound
from app.core.pagination import EXPORT_BATCH, decode_cursor, encode_cursor
from app.core.vocab import CoordinatePrecision, EventStatus
from app.events.models import (
    ActorEvent,
    Event,
    EventActor,
    EventLocation,
    EventRelation,
    EventTag,
    TimelineDay,
)
from app.events.schemas import (
    ActorMatch,
    DateFilterPrecision,
    EventFilters,
    EventQuery,
    EventRead,
    EventSort,
    Expand,
    FigureConflict,
    FigureRead,
)
from app.locations import service as locations
from app.locations.models import Location
from app.locations.schemas import ENRICHMENT_NOTE
from app.sources import service as sources

# Every subquery below reads its tables through fresh aliases, so that it correlates only to
# `events` even inside statements that join those tables themselves (stats, network).


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


@dataclass
class Plan:
    """How to read the events matching some filters.

    With an actor filter (all-of), the first actor's rows of `actor_events` drive the scan:
    "this actor, this date range, newest first" is then one index range whatever the actor's
    popularity. Otherwise `events` is read through its (start_date, id) index.
    """

    conds: list[ColumnElement[bool]]
    driver: str | None = None
    dated: bool = False

    @property
    def date_col(self) -> Any:
        """The start_date the order and the date bounds use."""
        return ActorEvent.start_date if self.driver else Event.start_date

    @property
    def last_col(self) -> Any:
        """The last_date the overlap test uses."""
        return ActorEvent.last_date if self.driver else Event.last_date

    @property
    def id_col(self) -> Any:
        """The event id that breaks ties in the order."""
        return ActorEvent.event_id if self.driver else Event.id

    def on_events(self) -> list[ColumnElement[bool]]:
        """The same filter as conditions on `events` alone, the driving index as EXISTS."""
        if self.driver is None:
            return self.conds
        link = aliased(ActorEvent)
        driven = exists().where(link.event_id == Event.id, link.actor_id == self.driver)
        return [driven, *(_rebind(c) for c in self.conds)]

    def select(self, *columns: Any) -> Select[Any]:
        """SELECT columns FROM events (joined to the driving actor's index) WHERE conds.

        When nothing but the driving index is needed (no condition or column on `events`),
        the index is read alone.
        """
        if self.driver and not any(_touches_events(c) for c in [*self.conds, *columns]):
            return select(*columns).where(ActorEvent.actor_id == self.driver, *self.conds)
        stmt = select(*columns).select_from(Event)
        if self.driver:
            stmt = stmt.join(
                ActorEvent,
                and_(ActorEvent.event_id == Event.id, ActorEvent.actor_id == self.driver),
            )
        return stmt.where(*self.conds)


def _touches_events(clause: Any) -> bool:
    """Whether an expression reads the events table (directly or in a subquery)."""
    if isinstance(clause, type):  # a mapped class selected whole
        return getattr(clause, "__table__", None) is Event.__table__
    element = clause.__clause_element__() if hasattr(clause, "__clause_element__") else clause
    return any(getattr(e, "table", None) is Event.__table__ for e in iterate(element))


def _date_bounds(
    session: Session, f: EventFilters, date_col: Any, last_col: Any
) -> list[ColumnElement[bool]]:
    """Overlap with [start, end], plus start_date bounds an index can range over.

    An event covers [start_date, last_date]; last_date is end_date, else start_date (a
    one-day event), and NULL for an ongoing event with no known end, which runs on.
    """
    conds: list[ColumnElement[bool]] = []
    if f.start:
        open_ended = and_(last_col.is_(None), date_col.is_not(None))
        # No event lasts longer than the longest span on record, so none that starts earlier
        # than that before `start` can overlap; open-ended events are the exception.
        longest = session.scalar(select(func.max(Event.span_days)))
        lower = date_col >= f.start - timedelta(days=longest or 0)
        any_open = session.scalar(
            select(exists().where(Event.last_date.is_(None), Event.start_date.is_not(None)))
        )
        if any_open:
            conds.append(or_(and_(lower, last_col >= f.start), open_ended))
        else:
            conds += [lower, last_col >= f.start]
    if f.end:
        conds.append(date_col <= f.end)
    return conds


def plan(session: Session, f: EventFilters, *, with_precision: bool = True) -> Plan:
    """Resolve the filters' references (422 when unknown) and plan the SQL."""
    if f.start and f.end and f.end < f.start:
        raise InvalidParameter("end is before start", param="end")
    conds: list[ColumnElement[bool]] = []
    actor_ids = actors.resolve(session, f.actor)
    expand = f.expand is Expand.members
    driver = None
    if actor_ids and f.actor_match is ActorMatch.any:
        conds.append(_involves(actor_ids, expand))
    elif actor_ids and not expand:
        driver = actor_ids[0]
        conds.extend(_involves([actor_id], expand) for actor_id in actor_ids[1:])
    else:
        conds.extend(_involves([actor_id], expand) for actor_id in actor_ids)
    result = Plan(conds, driver, dated=bool(f.start or f.end))
    conds.extend(_date_bounds(session, f, result.date_col, result.last_col))
    bbox = f.bbox_values()
    if bbox is not None:
        conds.append(_located_in(bbox, f.exclude_centroids))
    if with_precision and f.precision is not None:
        conds.append(Event.date_precision.in_(PRECISION_KEPT[f.precision]))
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
    if f.min_sources is not None:
        cited = aliased(Claim)
        sources_of = (
            select(func.count(cited.source_id.distinct()))
            .where(cited.event_id == Event.id)
            .scalar_subquery()
        )
        conds.append(sources_of >= f.min_sources)
    if f.q is not None:
        conds.append(search.matching_events(session, f.q))
    return result


def conditions(
    session: Session, f: EventFilters, *, with_precision: bool = True
) -> list[ColumnElement[bool]]:
    """The filters as conditions on `events` alone (for aggregations that join other tables)."""
    return plan(session, f, with_precision=with_precision).on_events()


def _rebind(cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """Move conditions on actor_events dates onto the events columns (equal by design)."""

    def swap(element: Any) -> Any:
        if getattr(element, "table", None) is ActorEvent.__table__:
            name = getattr(element, "name", None)
            if name in ("start_date", "last_date"):
                return Event.__table__.c[name]
        return None

    rebound: ColumnElement[bool] = replacement_traverse(cond, {}, swap)  # type: ignore[call-overload]
    return rebound


def _ordered(stmt: Select[Any], p: Plan, sort: EventSort) -> Select[Any]:
    date_col, id_col = p.date_col, p.id_col
    if sort is EventSort.oldest:
        first = date_col.asc() if p.dated else date_col.asc().nulls_last()
        return stmt.order_by(first, id_col.asc())
    first = date_col.desc() if p.dated else date_col.desc().nulls_last()
    return stmt.order_by(first, id_col.desc())


def _after(p: Plan, sort: EventSort, last_date: date | None, last_id: str) -> ColumnElement[bool]:
    """Rows after (last_date, last_id) in the list order, where undated events come last."""
    date_col, id_col = p.date_col, p.id_col
    if last_date is None:
        beyond_id = id_col > last_id if sort is EventSort.oldest else id_col < last_id
        return and_(date_col.is_(None), beyond_id)
    if sort is EventSort.oldest:
        beyond = date_col > last_date
        same_day_next = and_(date_col == last_date, id_col > last_id)
    else:
        beyond = date_col < last_date
        same_day_next = and_(date_col == last_date, id_col < last_id)
    if p.dated:
        return or_(beyond, same_day_next)
    return or_(beyond, same_day_next, date_col.is_(None))


def list_options() -> list[Any]:
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


def count_planned(session: Session, p: Plan) -> int:
    """How many events a plan matches."""
    return session.scalar(p.select(func.count())) or 0


def extra_meta(session: Session, f: EventFilters, total: int) -> dict[str, int]:
    """What filters left out, for the response's meta."""
    if f.precision is None:
        return {}
    without = count_planned(session, plan(session, f, with_precision=False))
    return {"excluded_by_precision": without - total}


def get_all(
    session: Session, f: EventQuery, limit: int
) -> tuple[list[dict[str, Any]], int, str | None, dict[str, int]]:
    """A page of event records in date order, the total matching, the next cursor and extra
    meta. Records are built from Core rows (see `_records`), not ORM objects."""
    p = plan(session, f)
    total = count_planned(session, p)
    stmt = _ordered(p.select(*EVENT_COLUMNS), p, f.sort).limit(limit + 1)
    if f.cursor:
        raw_date, last_id = decode_cursor(f.cursor, f"events:{f.sort.value}", 2)
        try:
            last_date = date.fromisoformat(raw_date) if raw_date else None
        except ValueError as exc:
            raise InvalidParameter("cursor is malformed", param="cursor") from exc
        stmt = stmt.where(_after(p, f.sort, last_date, last_id))
    rows = session.execute(stmt).all()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        key = [last.start_date.isoformat() if last.start_date else None, last.id]
        next_cursor = encode_cursor(f"events:{f.sort.value}", key)
    records = list(_records(session, rows[:limit]))
    return records, total, next_cursor, extra_meta(session, f, total)


def export(
    session: Session, f: EventQuery, count_unlocated: bool = False
) -> tuple[int, dict[str, int], Iterator[dict[str, Any]]]:
    """Every matching event, streamed from a database cursor in batches; each batch's actors,
    places and quantities are loaded with one statement per relation. For a map export,
    `count_unlocated` also counts the matches that have no usable coordinates."""
    p = plan(session, f)
    total = count_planned(session, p)
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
        unlocated = Plan([*p.conds, ~exists().where(*located)], p.driver, p.dated)
        extra["excluded_without_coordinates"] = count_planned(session, unlocated)
    stmt = _ordered(p.select(*EVENT_COLUMNS), p, f.sort)
    return total, extra, _export_records(session, stmt)


EVENT_COLUMNS = [c for c in Event.__table__.columns if c.name not in ("span_days", "last_date")]
LOCATION_COLUMNS = [c for c in Location.__table__.columns if c.name != "name_norm"]
QUANTITY_COLUMNS = list(Quantity.__table__.columns)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _export_records(session: Session, stmt: Select[Any]) -> Iterator[dict[str, Any]]:
    """Event records for an export, batch by batch from a database cursor."""
    result = session.execute(stmt.execution_options(yield_per=EXPORT_BATCH))
    for batch in result.partitions():
        yield from _records(session, batch)


def _records(session: Session, batch: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """Event records as plain dicts in the EventRead JSON shape, from rows of EVENT_COLUMNS.

    Lists and exports read through Core, not the ORM: no identity map, no instrumented
    collections; the batch's actors, places, tags and quantities come from one statement
    that has the database build them as JSON arrays (see `_RELATIONS`). `tests/test_formats.py`
    pins these records equal to the EventRead of the detail route.
    """
    if not batch:
        return
    statement = _RELATIONS[session.get_bind().dialect.name]
    related = {
        row[0]: row[1:] for row in session.execute(statement, {"ids": [row.id for row in batch]})
    }
    for row in batch:
        record = {key: _iso(value) for key, value in row._mapping.items()}
        tags, actors_json, places_json, quantities_json, source_count = related[row.id]
        record["tags"] = orjson.loads(tags)
        record["actors"] = orjson.loads(actors_json)
        places = orjson.loads(places_json)
        for place in places:
            place["coordinates_note"] = ENRICHMENT_NOTE
        record["locations"] = places
        record["quantities"] = orjson.loads(quantities_json)
        record["source_count"] = source_count
        yield {key: record[key] for key in EVENT_FIELDS}


def _relations_sql(array: str, obj: str, booleans: str) -> str:
    """Per event id: its tags, actors, places and quantities as JSON array texts, ordered as
    the detail view orders them. `array` aggregates {value} over {rows} in {order}."""

    def agg(value: str, rows: str, order: str, scalar: bool = False) -> str:
        elem = "j" if scalar else "json(j)"
        return "(" + array.format(value=value, rows=rows, order=order, elem=elem) + ")"

    def fields(alias: str, names: list[str]) -> str:
        return obj + "(" + ", ".join(f"'{n}', {alias}.{n}" for n in names) + ")"

    place_fields = [c.name for c in LOCATION_COLUMNS]
    quantity_fields = [
        booleans.format(f"q.{c.name}") if c.name.endswith("_inclusive") else f"q.{c.name}"
        for c in QUANTITY_COLUMNS
    ]
    quantity = (
        obj
        + "("
        + ", ".join(
            f"'{c.name}', {v}" for c, v in zip(QUANTITY_COLUMNS, quantity_fields, strict=True)
        )
        + ")"
    )
    actor = obj + "('id', a.id, 'name', a.name, 'kind', a.kind, 'role', x.role)"
    return f"""SELECT e.id,
  {agg("t.tag", "event_tags t WHERE t.event_id = e.id", "t.tag", scalar=True)},
  {
        agg(
            actor,
            "event_actors x JOIN actors a ON a.id = x.actor_id WHERE x.event_id = e.id",
            "x.position, x.actor_id, x.role",
        )
    },
  {
        agg(
            fields("l", place_fields),
            "event_locations x JOIN locations l ON l.id = x.location_id WHERE x.event_id = e.id",
            "x.position, x.location_id",
        )
    },
  {agg(quantity, "quantities q WHERE q.event_id = e.id", "q.id")},
  (SELECT count(DISTINCT c.source_id) FROM claims c WHERE c.event_id = e.id)
FROM events e WHERE e.id IN :ids"""


# SQLite (before 3.44) has no ORDER BY inside an aggregate: order a subquery, then aggregate.
_RELATIONS = {
    "sqlite": text(
        _relations_sql(
            "SELECT json_group_array({elem})"
            " FROM (SELECT {value} AS j FROM {rows} ORDER BY {order})",
            "json_object",
            "json(CASE {} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)",
        )
    ).bindparams(bindparam("ids", expanding=True)),
    "postgresql": text(
        _relations_sql(
            "SELECT coalesce(json_agg({value} ORDER BY {order}), '[]')::text FROM {rows}",
            "json_build_object",
            "{}",
        )
    ).bindparams(bindparam("ids", expanding=True)),
}


EVENT_FIELDS = list(EventRead.model_fields)


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
            *list_options(),
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


def figure_conflicts(claims: Sequence[Claim]) -> list[FigureConflict]:
    """Quantities (same label and unit) for which two sources give figures whose ranges do
    not overlap: both cannot be true, so both are shown, each with its source."""
    groups: dict[tuple[str, str], list[tuple[Claim, Quantity]]] = defaultdict(list)
    for claim in claims:
        for q in claim.quantities:
            groups[(q.label, q.unit)].append((claim, q))
    conflicts = []
    for (label, unit), figures in groups.items():
        disjoint = any(
            a.source_id != b.source_id and not _overlap(p, q)
            for n, (a, p) in enumerate(figures)
            for b, q in figures[n + 1 :]
        )
        if disjoint:
            conflicts.append(
                FigureConflict(
                    label=label,
                    unit=unit,
                    figures=[
                        FigureRead(
                            value=q.value,
                            qualifier=q.qualifier,
                            as_reported=q.as_reported,
                            claim_id=c.id,
                            source_id=c.source_id,
                        )
                        for c, q in figures
                    ],
                )
            )
    return conflicts


def _overlap(a: Quantity, b: Quantity) -> bool:
    """Whether two reported ranges share a possible value."""

    def below(
        high: float | None, high_in: bool | None, low: float | None, low_in: bool | None
    ) -> bool:
        # the range ending at `high` lies wholly below the one starting at `low`
        if high is None or low is None:
            return False
        return high < low or (high == low and not (high_in and low_in))

    return not (
        below(a.high, a.high_inclusive, b.low, b.low_inclusive)
        or below(b.high, b.high_inclusive, a.low, a.low_inclusive)
    )


def span_days(start: date | None, end: date | None) -> int | None:
    """The value of events.span_days for these dates."""
    if start is None:
        return None
    return (end - start).days if end is not None else 0


def last_date(start: date | None, end: date | None, status: str) -> date | None:
    """The value of events.last_date: the last day covered, None when open-ended."""
    if end is None and status == EventStatus.ongoing.value:
        return None
    return end or start


ALL_EVENTS = "*"  # the timeline_days scope of every event, beside one per actor

EventState = frozenset[tuple[str, str | None, date | None, date | None]]


def _state(session: Session, event_ids: list[str]) -> EventState:
    """What the derived tables hold of these events: (event, actor or None, start, last)."""
    rows = session.execute(
        select(Event.id, EventActor.actor_id, Event.start_date, Event.last_date)
        .outerjoin(EventActor, EventActor.event_id == Event.id)
        .where(Event.id.in_(event_ids))
    )
    state: set[tuple[str, str | None, date | None, date | None]] = set()
    for event_id, actor_id, start, last in rows:
        state.add((event_id, None, start, last))
        if actor_id is not None:
            state.add((event_id, actor_id, start, last))
    return frozenset(state)


def _day_counts(state: EventState) -> Counter[tuple[str, date, bool]]:
    """timeline_days contributions: (scope, day, is_end) -> events."""
    counts: Counter[tuple[str, date, bool]] = Counter()
    for _, actor_id, start, last in state:
        if start is None:
            continue
        scope = actor_id or ALL_EVENTS
        counts[(scope, start, False)] += 1
        if last is not None:
            counts[(scope, last, True)] += 1
    return counts


def _apply_day_counts(session: Session, before: EventState, after: EventState) -> None:
    """Add the difference of two states to timeline_days, in one upsert."""
    delta: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for sign, state in ((-1, before), (1, after)):
        for (scope, day, is_end), n in _day_counts(state).items():
            delta[(scope, day)][is_end] += sign * n
    rows = [
        {"scope": scope, "day": day, "starts": starts, "ends": ends}
        for (scope, day), (starts, ends) in delta.items()
        if starts or ends
    ]
    if not rows:
        return
    upsert = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(
        TimelineDay
    )
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[TimelineDay.scope, TimelineDay.day],
            set_={
                "starts": TimelineDay.starts + upsert.excluded.starts,
                "ends": TimelineDay.ends + upsert.excluded.ends,
            },
        ),
        rows,
    )


@contextmanager
def maintaining(session: Session, event_ids: list[str]) -> Iterator[None]:
    """Keep the derived tables (actor_events, timeline_days) exact across a change to these
    events: what they held of the events before is replaced by what they hold after."""
    session.flush()
    before = _state(session, event_ids)
    yield
    session.flush()
    after = _state(session, event_ids)
    if after != before:
        refresh_actor_events(session, event_ids)
        _apply_day_counts(session, before, after)


def rebuild_timeline_days(connection: Connection) -> None:
    """Recompute timeline_days from scratch (after a bulk load)."""
    connection.execute(delete(TimelineDay))
    connection.execute(text(TIMELINE_DAYS))


TIMELINE_DAYS = f"""
INSERT INTO timeline_days (scope, day, starts, ends)
SELECT scope, day, sum(starts), sum(ends) FROM (
    SELECT '{ALL_EVENTS}' AS scope, start_date AS day, 1 AS starts, 0 AS ends
      FROM events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT '{ALL_EVENTS}', last_date, 0, 1
      FROM events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
    UNION ALL
    SELECT actor_id, start_date, 1, 0
      FROM actor_events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT actor_id, last_date, 0, 1
      FROM actor_events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
) AS contributions
GROUP BY scope, day
"""


def refresh_actor_events(session: Session, event_ids: list[str]) -> None:
    """Rebuild the derived actor_events rows of these events from event_actors, in SQL."""
    session.execute(delete(ActorEvent).where(ActorEvent.event_id.in_(event_ids)))
    pairs = (
        select(EventActor.actor_id, EventActor.event_id, Event.start_date, Event.last_date)
        .join(Event, Event.id == EventActor.event_id)
        .where(EventActor.event_id.in_(event_ids))
        .distinct()
    )
    columns = ["actor_id", "event_id", "start_date", "last_date"]
    session.execute(insert(ActorEvent).from_select(columns, pairs))
