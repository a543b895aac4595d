"""Queries and rules for events: filters, ordering, keyset pages and the detail view."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from app import search
from app.actors import service as actors
from app.actors.models import Affiliation
from app.claims.models import Claim
from app.core import version as data_version
from app.core.db import Prepared, Reader, prepared_rows
from app.core.errors import InvalidParameter, NotFound
from app.core.pagination import (
    EXPORT_BATCH,
    Count,
    counted,
)
from app.core.vocab import CoordinatePrecision, Dataset, EventStatus
from app.events import prepared
from app.events.models import (
    ActorEvent,
    Event,
    EventActor,
    EventDocument,
    EventLine,
    EventLocation,
    EventTag,
    TimelineDay,
)
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
from app.sources import service as sources

# Every subquery below reads its tables through fresh aliases, so that it correlates only to
# `events` even inside statements that join those tables themselves (stats, network).


ALL_EVENTS = "*"  # the timeline_days scope of every event, beside one per actor
# timeline_days scopes of the events of one type and of one status: `type:CONSULT`,
# `status:occurred` (actor ids are slugs, so they never hold a colon).
TYPE_SCOPE, STATUS_SCOPE = "type:", "status:"
CENTROIDS = (
    CoordinatePrecision.country_centroid.value,
    CoordinatePrecision.continent_centroid.value,
    CoordinatePrecision.region_centroid.value,
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

    def documents(self) -> Select[Any]:
        """The matching events' (start_date, id, stored list item), in no order yet."""
        columns = (self.date_col.label("start_date"), self.id_col.label("id"), EventDocument.item)
        return self.select(*columns).join(EventDocument, EventDocument.event_id == self.id_col)


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
        longest, any_open = session.connection().execute(SPAN_BOUNDS).one()
        lower = date_col >= f.start - timedelta(days=longest or 0)
        if any_open:
            conds.append(or_(and_(lower, last_col >= f.start), open_ended))
        else:
            conds += [lower, last_col >= f.start]
    if f.end:
        conds.append(date_col <= f.end)
    return conds


# The longest span on record, and whether any dated event is open-ended; both by index.
SPAN_BOUNDS = select(
    select(func.max(Event.__table__.c.span_days)).scalar_subquery(),
    exists().where(
        Event.__table__.c.last_date.is_(None), Event.__table__.c.start_date.is_not(None)
    ),
)


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
    if f.dataset:
        datasets = [d.value for d in f.dataset if isinstance(d, Dataset)]
        reporting = "reporting" in f.dataset
        matched = [Event.dataset.in_(datasets)] if datasets else []
        conds.append(or_(*matched, *([Event.dataset.is_(None)] if reporting else [])))
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


def _ordered(
    stmt: Select[Any], p: Plan, sort: EventSort, date_col: Any = None, id_col: Any = None
) -> Select[Any]:
    """The statement in the list order, by the plan's columns or those given."""
    date_col = p.date_col if date_col is None else date_col
    id_col = p.id_col if id_col is None else id_col
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


def count(session: Session, conds: list[ColumnElement[bool]]) -> int:
    """How many events meet these conditions."""
    return session.connection().scalar(select(func.count()).select_from(Event).where(*conds)) or 0


def count_planned(session: Session, p: Plan) -> int:
    """How many events a plan matches."""
    return session.connection().scalar(p.select(func.count())) or 0


def unlocated(session: Session, p: Plan, exclude_centroids: bool) -> int:
    """How many events a plan matches that no place with coordinates locates (with
    `exclude_centroids`, none but a country or continent centroid)."""
    link, place = aliased(EventLocation), aliased(Location)
    located = [
        link.event_id == Event.id,
        place.id == link.location_id,
        place.latitude.is_not(None),
    ]
    if exclude_centroids:
        located.append(place.precision.not_in(CENTROIDS))
    return count_planned(session, Plan([*p.conds, ~exists().where(*located)], p.driver, p.dated))


def extra_meta(session: Session, f: EventFilters, total: int | None) -> dict[str, int]:
    """What filters left out, for the response's meta."""
    if f.precision is None or total is None:
        return {}
    without = count_planned(session, plan(session, f, with_precision=False))
    return {"excluded_by_precision": without - total}


def rolled_up_total(session: Session, f: EventFilters, p: Plan) -> int | None:
    """The exact number of matches read off timeline_days, when the filters are dates and at
    most one actor (not expanded, all-of); None when they are anything else.

    Dated matches are the events started by `end` less those that ended before `start`;
    without dates, the undated events count too."""
    if f.narrowed() or f.q is not None or f.expand is Expand.members:
        return None
    if f.actor and (len(f.actor) > 1 or p.driver is None):
        return None
    scope = p.driver or ALL_EVENTS
    days = TimelineDay.__table__.c
    started: Any = days.starts
    if f.start is not None:
        started = days.starts - case((days.day < f.start, days.ends), else_=0)
    rolled = select(func.coalesce(func.sum(started), 0)).where(days.scope == scope)
    if f.end is not None:
        rolled = rolled.where(days.day <= f.end)
    total = int(session.connection().scalar(rolled) or 0)
    if f.start is None and f.end is None:
        undated: Select[Any] = (
            select(func.count()).where(
                ActorEvent.actor_id == scope, ActorEvent.start_date.is_(None)
            )
            if p.driver
            else select(func.count()).select_from(Event).where(Event.start_date.is_(None))
        )
        total += session.connection().scalar(undated) or 0
    return total


def searched_total(session: Session, f: EventFilters) -> int | None:
    """The exact number of matches of a search with no other filter, counted off the search
    rows alone (`search.count_matching`); None for any other filters."""
    if f.q is None or f.actor or f.start is not None or f.end is not None or f.narrowed():
        return None
    return search.count_matching(session, f.q)


def total(
    session: Session, f: EventFilters, p: Plan, wanted: Count | None
) -> tuple[int | None, Count]:
    """The matches of a plan counted as asked, and how they were counted: off the rollups or
    the search rows when the filters allow (exact, and cheaper than any estimate), else as
    `counted` says."""
    if wanted is Count.none:
        return None, Count.none
    rolled = rolled_up_total(session, f, p)
    if rolled is None:
        rolled = searched_total(session, f)
    if rolled is not None:
        return rolled, Count.exact
    if wanted in (Count.planned, Count.estimated):
        return counted(session, p.select(p.id_col), wanted)
    return count_planned(session, p), Count.exact


def get_all(
    session: Session,
    f: EventQuery,
    limit: int,
    count: Count | None = None,
    *,
    use_prepared: bool = True,
) -> tuple[list[str], int | None, str | None, dict[str, Any]]:
    """A page of events in date order as their stored list items (JSON texts), the total
    matching (counted as `count` asks), the next cursor and extra meta. The shapes
    dashboards poll most take two prepared statements (app.events.prepared), unless
    `use_prepared` is off (what the tests compare them with)."""
    if use_prepared and prepared.covers(f):
        answered = prepared.page(session, f, limit, count)
        if answered is not None:
            return answered
    p = plan(session, f)
    matches, counted = total(session, f, p, count)
    # The page's keys first, then its stored items: sorting the keys of many matches (a
    # search's thousands) costs less than sorting them with their items.
    keys = _ordered(p.select(p.date_col.label("start_date"), p.id_col.label("id")), p, f.sort)
    if f.cursor:
        last_date, last_id = prepared.read_cursor(f.cursor, f.sort)
        keys = keys.where(_after(p, f.sort, last_date, last_id))
    page = keys.limit(limit + 1).subquery("page")
    items = select(page.c.start_date, page.c.id, EventDocument.item).join(
        EventDocument, EventDocument.event_id == page.c.id
    )
    stmt = _ordered(items, p, f.sort, page.c.start_date, page.c.id)
    rows = session.connection().execute(stmt).all()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = prepared.make_cursor(f.sort, last.start_date, last.id)
    extra: dict[str, Any] = extra_meta(session, f, matches)
    if count is not None:
        extra["count"] = counted.value
    return [row.item for row in rows[:limit]], matches, next_cursor, extra


def export(
    session: Session, f: EventQuery, count_unlocated: bool = False
) -> tuple[int, dict[str, int], Iterator[str]]:
    """Every matching event's stored list item, streamed from a database cursor in batches.
    For a map export, `count_unlocated` also counts the matches that have no usable
    coordinates."""
    p = plan(session, f)
    matches = rolled_up_total(session, f, p)
    if matches is None:
        matches = count_planned(session, p)
    extra = extra_meta(session, f, matches)
    if count_unlocated:
        extra["excluded_without_coordinates"] = unlocated(session, p, f.exclude_centroids)
    stmt = _ordered(p.documents(), p, f.sort)
    return matches, extra, _stored(session, stmt)


def export_csv(session: Session, f: EventQuery) -> tuple[int, dict[str, int], Iterator[str]]:
    """Every matching event's stored CSV line (every column), in the export's order."""
    p = plan(session, f)
    matches = rolled_up_total(session, f, p)
    if matches is None:
        matches = count_planned(session, p)
    columns = (p.date_col.label("start_date"), p.id_col.label("id"), EventLine.csv)
    lines = p.select(*columns).join(EventLine, EventLine.event_id == p.id_col)
    stmt = _ordered(lines, p, f.sort)
    return matches, extra_meta(session, f, matches), _stored(session, stmt)


def _stored(session: Session, stmt: Select[Any]) -> Iterator[str]:
    """The last column of a statement's rows (a stored item or CSV line), batch by batch
    from a database cursor."""
    result = session.connection().execute(stmt.execution_options(yield_per=EXPORT_BATCH))
    for batch in result.partitions():
        for row in batch:
            yield row[-1]


def detail(session: Session, event_id: str) -> tuple[bytes, int]:
    """One event's detail as stored (its list item spliced with what the detail adds) and
    the event's version, in one statement; 404 when there is no such event."""
    row = session.connection().execute(DETAIL, {"event_id": event_id}).first()
    if row is None:
        raise NotFound(f"no event with id {event_id!r}", param="event_id")
    return splice(row.item, row.detail).encode(), row.version


def detail_at_version(
    session: Reader, event_id: str
) -> tuple[bytes, int, tuple[int, datetime | None]]:
    """`detail`, and the data version with it, in one statement (so of one snapshot)."""
    rows = prepared_rows(session, DETAIL_AT_VERSION, {"event_id": event_id})
    data = data_version.of_row(rows[0] if rows else None)
    *_, item, detail, version = rows[0]
    if item is None:
        raise NotFound(f"no event with id {event_id!r}", param="event_id")
    return splice(item, detail).encode(), version, data


_DOCUMENTS = EventDocument.__table__.c
DETAIL = (
    select(_DOCUMENTS.item, _DOCUMENTS.detail, Event.__table__.c.version)
    .join_from(
        EventDocument.__table__, Event.__table__, Event.__table__.c.id == _DOCUMENTS.event_id
    )
    .where(_DOCUMENTS.event_id == bindparam("event_id"))
)


# The data version's row, and the event's documents when there is such an event; on the
# driver's cursor (the busiest read there is).
DETAIL_AT_VERSION = Prepared(
    f"SELECT {data_version.COLUMNS}, event_documents.item, event_documents.detail, "
    "events.version FROM data_version "
    "LEFT OUTER JOIN event_documents ON event_documents.event_id = :event_id "
    f"LEFT OUTER JOIN events ON events.id = event_documents.event_id WHERE {data_version.ROW}"
)


def splice(item: str, detail: str) -> str:
    """The detail's JSON: the item's object, continued with the detail's own fields."""
    return item[:-1] + "," + detail[1:]


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
