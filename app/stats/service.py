"""Analytics computed by SQL aggregation on both stores: no event rows are loaded into Python.

Periods are generated here and joined as a VALUES table, so counting an event in every
period it overlaps is one GROUP BY, the same SQL on SQLite and PostgreSQL.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

import orjson
import pycountry
from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    union_all,
    values,
)
from sqlalchemy.orm import Session, aliased

from app.actors import service as actors
from app.actors.models import Actor
from app.claims.models import Claim, Quantity
from app.core.db import as_day, plain_rows
from app.core.errors import InvalidParameter
from app.core.vocab import EventStatus, EventType
from app.events import service as events
from app.events.models import (
    ActorEvent,
    ActorPeriod,
    Event,
    EventActor,
    EventLocation,
    NetworkPair,
    NetworkPairPeriod,
    TimelineDay,
)
from app.events.schemas import EventFilters, Expand
from app.locations.models import Location
from app.stats.schemas import (
    Count,
    GroupBy,
    Interval,
    NetworkMode,
    NetworkQuery,
    PlaceRow,
    Places,
    PlacesMeta,
    PlacesQuery,
    QuantityMeta,
    QuantityQuery,
    QuantityRow,
    QuantitySums,
    Summary,
    SummaryQuery,
    Timeline,
    TimelineMeta,
    TimelineQuery,
    TimelineRow,
)

MAX_PERIODS = 5000
BEFORE = date(1, 1, 1)  # the timeline bucket of the days before `start`


def period_start(day: date, interval: Interval) -> date:
    """The first day of the period containing `day`."""
    match interval:
        case Interval.day:
            return day
        case Interval.week:
            return day - timedelta(days=day.weekday())
        case Interval.month:
            return day.replace(day=1)
        case Interval.year:
            return day.replace(month=1, day=1)


def next_period(start: date, interval: Interval) -> date:
    """The first day of the period after the one starting on `start`."""
    match interval:
        case Interval.day:
            return start + timedelta(days=1)
        case Interval.week:
            return start + timedelta(days=7)
        case Interval.month:
            return date(start.year + start.month // 12, start.month % 12 + 1, 1)
        case Interval.year:
            return date(start.year + 1, 1, 1)


def periods(first: date, last: date, interval: Interval) -> list[tuple[date, date]]:
    """(start, end) of every period from the one containing `first` to the one with `last`."""
    out: list[tuple[date, date]] = []
    start = period_start(first, interval)
    while start <= last:
        following = next_period(start, interval)
        out.append((start, following - timedelta(days=1)))
        if len(out) > MAX_PERIODS:
            raise InvalidParameter(
                f"more than {MAX_PERIODS} {interval.value} periods; narrow start/end or use a "
                "longer interval",
                param="interval",
            )
        start = following
    return out


def _range(
    session: Session, f: EventFilters, conds: list[ColumnElement[bool]]
) -> tuple[date, date] | None:
    """The days a timeline covers: the filter's range, or the matching events' span."""
    if f.start is not None and f.end is not None:
        return f.start, f.end
    first, last_start, last_end = session.execute(
        select(
            func.min(Event.start_date), func.max(Event.start_date), func.max(Event.end_date)
        ).where(*conds)
    ).one()
    if first is None:
        return None
    known_last = max(d for d in (last_start, last_end) if d is not None)
    # Past the last day on record only open-ended events run on: one period shows them.
    return f.start or first, f.end or max(known_last, f.start or first)


def _undated(session: Session, conds: list[ColumnElement[bool]]) -> int:
    return events.count(session, [*conds, Event.start_date.is_(None)])


def _period_table(spans: list[tuple[date, date]]) -> Any:
    return (
        values(column("p_start", Date), column("p_end", Date), name="periods")
        .data(spans)
        .cte("periods")
    )


def _series_pairs(group_by: GroupBy) -> Any:
    """Distinct (event_id, key) pairs a timeline splits on: an event counts once per key."""
    match group_by:
        case GroupBy.type:
            return select(Event.id.label("event_id"), Event.event_type.label("key")).subquery()
        case GroupBy.status:
            return select(Event.id.label("event_id"), Event.status.label("key")).subquery()
        case GroupBy.actor:
            return select(
                ActorEvent.event_id.label("event_id"), ActorEvent.actor_id.label("key")
            ).subquery()
        case GroupBy.country:
            return (
                select(EventLocation.event_id.label("event_id"), Location.country.label("key"))
                .join(Location, Location.id == EventLocation.location_id)
                .where(Location.country.is_not(None))
                .distinct()
                .subquery()
            )


def period_key(session: Session, day: Any, interval: Interval) -> ColumnElement[Any]:
    """The first day of the period containing `day`, in SQL: the one dialect-specific piece
    of the analytics (SQLite date modifiers, PostgreSQL date_trunc; ISO weeks on both)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc(interval.value, day), Date)
    modifiers = {
        Interval.day: (),
        Interval.week: ("-6 days", "weekday 1"),
        Interval.month: ("start of month",),
        Interval.year: ("start of year",),
    }[interval]
    return func.date(day, *modifiers)


def _running_counts(
    session: Session,
    f: TimelineQuery,
    p: events.Plan,
    covered: tuple[date, date],
    pairs: Any | None,
    keys: list[str] | None,
) -> dict[tuple[date, str | None], int]:
    """Events active per (period, series key), counted in every period they overlap.

    Two GROUP BY passes over the matching events: how many start in each period and how many
    end in each (both clamped to the range); a running sum over the periods then gives, for
    each period, the events that started in or before it and had not ended before it.
    """
    first, last = covered
    start = case((p.date_col < first, literal(first, Date)), else_=p.date_col)
    last_day = func.coalesce(p.last_col, literal(last, Date))  # open-ended: to the range end
    end = case((last_day > last, literal(last, Date)), else_=last_day)
    deltas: dict[tuple[date, str | None], int] = defaultdict(int)
    for day, sign in ((start, 1), (end, -1)):
        bucket = period_key(session, day, f.interval).label("bucket")
        columns: list[Any] = [bucket]
        if pairs is not None:
            columns.append(pairs.c.key)
            stmt = (
                p.select(Event.id)
                .join(pairs, pairs.c.event_id == Event.id)
                .where(p.date_col.is_not(None), pairs.c.key.in_(keys or []))
            )
        else:
            stmt = p.select(p.id_col).where(p.date_col.is_not(None))
        stmt = stmt.with_only_columns(*columns, func.count()).group_by(*columns)
        for row in session.execute(stmt):
            series = str(row[1]) if pairs is not None else None
            key = (as_day(row[0]), series)
            if sign > 0:
                deltas[key] += row[-1]
            else:  # an event ending in period P stops counting from the period after P
                deltas[(next_period(key[0], f.interval), series)] -= row[-1]
    return deltas


SERIES_SCOPES = {GroupBy.type: events.TYPE_SCOPE, GroupBy.status: events.STATUS_SCOPE}
SERIES_VALUES = {
    GroupBy.type: [t.value for t in EventType],
    GroupBy.status: [s.value for s in EventStatus],
}


def _rollup_scope(session: Session, f: TimelineQuery) -> str | None:
    """The timeline_days scope that answers these filters exactly, if one does: no filter
    but dates and at most one actor (not expanded to members), or one type, or one status;
    a split by type or status only over every event."""
    others = (f.country, f.location, f.source, f.tag, f.dataset)
    if any(others) or f.q is not None or f.bbox is not None or f.precision is not None:
        return None
    if f.min_sources is not None or f.expand is Expand.members:
        return None
    if f.group_by is not None and (
        f.group_by not in SERIES_SCOPES or f.actor or f.type or f.status
    ):
        return None
    if f.type or f.status:
        if f.actor or len(f.type) + len(f.status) > 1:
            return None
        if f.type:
            return events.TYPE_SCOPE + f.type[0].value
        return events.STATUS_SCOPE + f.status[0].value
    actor_ids = actors.resolve(session, f.actor)
    if len(actor_ids) > 1:
        return None
    return actor_ids[0] if actor_ids else events.ALL_EVENTS


class _Rolled:
    """One scope's timeline_days rows summed per period: `keys` the periods with rows (in
    order, the bucket before `start` first), `started` and `ended` the running sums of starts
    and ends before each, and `dated` the events of the scope the dates match."""

    def __init__(self, f: TimelineQuery, rows: list[tuple[date, int, int]]) -> None:
        self.keys = [key for key, _, _ in rows]
        self.started = list(accumulate((starts for _, starts, _ in rows), initial=0))
        self.ended = list(accumulate((ends for _, _, ends in rows), initial=0))
        before = self.ended[bisect_right(self.keys, BEFORE)] if f.start else 0
        self.dated = self.started[-1] - before

    def count(self, p_start: date) -> int:
        """The events of the scope overlapping the period that begins on this day."""
        return (
            self.started[bisect_right(self.keys, p_start)]
            - self.ended[bisect_left(self.keys, p_start)]
        )


def _rolled(session: Session, f: TimelineQuery, scopes: list[str]) -> dict[str, _Rolled]:
    """Each scope's rows of timeline_days summed per period of `f.interval`, in one
    statement.

    Days after `end` are left out; days before `start` fall into one bucket ahead of every
    period, so an event that ended before `start` is never counted and one that started
    before it counts from the first period on.
    """
    table = TimelineDay.__table__.c
    bucket: Any = period_key(session, table.day, f.interval)
    if f.start is not None:
        bucket = case((table.day < f.start, literal(BEFORE, Date)), else_=bucket)
    stmt = select(table.scope, bucket, func.sum(table.starts), func.sum(table.ends)).where(
        table.scope.in_(scopes)
    )
    if f.end is not None:
        stmt = stmt.where(table.day <= f.end)
    rows: dict[str, list[tuple[date, int, int]]] = {scope: [] for scope in scopes}
    for scope, key, starts, ends in session.execute(stmt.group_by(table.scope, bucket)):
        rows[scope].append((as_day(key), int(starts), int(ends)))
    return {scope: _Rolled(f, sorted(found)) for scope, found in rows.items()}


def _rollup_timeline(session: Session, f: TimelineQuery, scope: str) -> Timeline:
    """The timeline from timeline_days: in each period, the events that started by its end
    and had not ended before its start, from running sums of starts and ends per period;
    split by type or status, the same from each type's or status's scope."""
    prefix = SERIES_SCOPES.get(f.group_by) if f.group_by is not None else None
    values = SERIES_VALUES[f.group_by] if f.group_by is not None else ()
    split = [f"{prefix}{value}" for value in values]
    rolled = _rolled(session, f, [scope, *split])
    whole = rolled[scope]
    if f.start is not None and f.end is not None:
        covered: tuple[date, date] | None = (f.start, f.end)
    elif whole.dated == 0:
        covered = None
    else:
        first = f.start or whole.keys[bisect_right(whole.started, 0) - 1]
        # Past the last day on record only open-ended events run on: one period shows them.
        covered = (first, f.end or max(whole.keys[-1], first))
    undated = 0
    if f.start is None and f.end is None:
        undated = _undated(session, events.plan(session, f).on_events())
    # The series with matching events, most first (then by value), as a count would rank them.
    ranking = sorted(
        ((name.removeprefix(prefix or ""), rolled[name].dated) for name in split),
        key=lambda pair: (-pair[1], pair[0]),
    )
    ranking = [pair for pair in ranking if pair[1] > 0]
    keys = [key for key, _ in ranking[: f.series_limit]]
    meta: dict[str, Any] = {
        "interval": f.interval,
        "group_by": f.group_by,
        "total": whole.dated + undated,
        "undated": undated,
        "series": keys,
        "series_omitted": max(0, len(ranking) - f.series_limit),
    }
    if covered is None:
        return Timeline(data=[], meta=TimelineMeta(start=None, end=None, **meta))
    spans = periods(covered[0], covered[1], f.interval)
    data = [
        TimelineRow(
            period_start=p_start,
            period_end=p_end,
            count=whole.count(p_start),
            series=(
                {k: rolled[(prefix or "") + k].count(p_start) for k in keys}
                if f.group_by is not None
                else None
            ),
        )
        for p_start, p_end in spans
    ]
    return Timeline(data=data, meta=TimelineMeta(start=spans[0][0], end=spans[-1][1], **meta))


def timeline(session: Session, f: TimelineQuery) -> Timeline:
    """Events per period (each event in every period it overlaps), with empty periods.

    Read off the per-day rollups when the filters allow (see `_rollup_scope`), else
    counted over the matching events."""
    if f.start and f.end and f.end < f.start:
        raise InvalidParameter("end is before start", param="end")
    scope = _rollup_scope(session, f)
    if scope is not None:
        return _rollup_timeline(session, f, scope)
    planned = events.plan(session, f)
    conds = planned.on_events()
    total = events.count_planned(session, planned)
    undated = _undated(session, conds)
    covered = _range(session, f, conds)
    meta: dict[str, Any] = {
        "interval": f.interval,
        "group_by": f.group_by,
        "total": total,
        "undated": undated,
        "series": [],
        "series_omitted": 0,
    }
    if covered is None:
        return Timeline(data=[], meta=TimelineMeta(start=None, end=None, **meta))
    spans = periods(covered[0], covered[1], f.interval)
    deltas = _running_counts(session, f, planned, covered, None, None)
    keys: list[str] = []
    series_deltas: dict[tuple[date, str | None], int] = {}
    if f.group_by is not None:
        pairs = _series_pairs(f.group_by)
        counted = func.count()
        ranking = session.execute(
            select(pairs.c.key, counted)
            .join(Event, Event.id == pairs.c.event_id)
            .where(*conds, Event.start_date.is_not(None))
            .group_by(pairs.c.key)
            .order_by(counted.desc(), pairs.c.key)
            .limit(1000)
        ).all()
        keys = [str(k) for k, _ in ranking[: f.series_limit]]
        meta["series_omitted"] = max(0, len(ranking) - f.series_limit)
        meta["series"] = keys
        if keys:
            series_deltas = _running_counts(session, f, planned, covered, pairs, keys)
    running: dict[str | None, int] = defaultdict(int)
    data = []
    for p_start, p_end in spans:
        running[None] += deltas.get((p_start, None), 0)
        for k in keys:
            running[k] += series_deltas.get((p_start, k), 0)
        data.append(
            TimelineRow(
                period_start=p_start,
                period_end=p_end,
                count=running[None],
                series={k: running[k] for k in keys} if f.group_by else None,
            )
        )
    return Timeline(data=data, meta=TimelineMeta(start=spans[0][0], end=spans[-1][1], **meta))


def _counts(session: Session, stmt: Any) -> list[Count]:
    return [Count(key=str(k), count=n) for k, n in session.execute(stmt)]


def country_name(code: str) -> str | None:
    """The English short name of an ISO 3166-1 alpha-3 code (the common one where ISO gives
    one, e.g. 'Bolivia'), or None for a code it does not know."""
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return None
    return str(getattr(country, "common_name", None) or country.name)


def summary(session: Session, f: SummaryQuery) -> Summary:
    """Totals, the date span, and counts by type, status, country and top actors."""
    conds = events.conditions(session, f)
    matching = select(Event.id).where(*conds).scalar_subquery()
    counted = func.count(func.distinct(Event.id))
    total, undated, first, last_start, last_end = session.execute(
        select(
            func.count(),
            func.count(case((Event.start_date.is_(None), 1))),
            func.min(Event.start_date),
            func.max(Event.start_date),
            func.max(Event.end_date),
        ).where(*conds)
    ).one()
    claims, sources = session.execute(
        select(func.count(), func.count(func.distinct(Claim.source_id))).where(
            Claim.event_id.in_(matching)
        )
    ).one()
    without_event = session.scalar(
        select(func.count()).select_from(Claim).where(Claim.event_id.is_(None))
    )
    by = [
        select(Event.event_type, counted).where(*conds).group_by(Event.event_type),
        select(Event.status, counted).where(*conds).group_by(Event.status),
        select(Location.country, counted)
        .join(EventLocation, EventLocation.event_id == Event.id)
        .join(Location, Location.id == EventLocation.location_id)
        .where(*conds, Location.country.is_not(None))
        .group_by(Location.country),
    ]
    by_type, by_status, by_country = (
        _counts(session, stmt.order_by(counted.desc(), stmt.selected_columns[0])) for stmt in by
    )
    top = session.execute(
        select(Actor.id, Actor.name, counted)
        .join(EventActor, EventActor.actor_id == Actor.id)
        .join(Event, Event.id == EventActor.event_id)
        .where(*conds)
        .group_by(Actor.id, Actor.name)
        .order_by(counted.desc(), Actor.id)
        .limit(f.top)
    ).all()
    known_last = [d for d in (last_start, last_end) if d is not None]
    return Summary(
        total=total,
        undated=undated,
        first_date=first,
        last_date=max(known_last) if known_last else None,
        claims=claims,
        claims_without_event=without_event or 0,
        sources=sources,
        by_type=by_type,
        by_status=by_status,
        by_country=[c.model_copy(update={"name": country_name(c.key)}) for c in by_country],
        top_actors=[Count(key=i, name=name, count=n) for i, name, n in top],
    )


QUANTITY_METHOD = (
    "Figures are placed in the period of their event's start_date. Several figures for one "
    "event, label and unit are combined into the tightest range all of them allow (the largest "
    "lower bound, the smallest upper bound); when they contradict each other the event counts "
    "as conflicting and its widest range is used. Sums add lower bounds (an open lower bound "
    "counts as 0) and upper bounds (any open upper bound leaves the sum open, null). Figures "
    "of events without a start date have no period: they are left out, and counted in "
    "`undated_figures`; GET /v1/quantities lists every figure, dated or not."
)


def quantities(session: Session, f: QuantityQuery) -> QuantitySums:
    """Reported figures summed per period as [low, high] ranges, per label and unit."""
    conds = events.conditions(session, f)
    total = events.count(session, conds)
    undated = _undated(session, conds)
    label = func.lower(Quantity.label)
    low = func.coalesce(Quantity.low, 0.0)
    per_event = (
        select(
            Quantity.event_id.label("event_id"),
            label.label("label"),
            Quantity.unit.label("unit"),
            func.max(low).label("tight_low"),
            func.min(Quantity.high).label("tight_high"),
            func.min(low).label("wide_low"),
            func.max(Quantity.high).label("wide_high"),
            (func.count(Quantity.high) == func.count()).label("closed"),
        )
        .join(Event, Event.id == Quantity.event_id)
        .where(*conds, Event.start_date.is_not(None))
        .group_by(Quantity.event_id, label, Quantity.unit)
    )
    asked: list[ColumnElement[bool]] = []
    if f.label:
        asked.append(label.in_([name.lower() for name in f.label]))
    if f.unit:
        asked.append(Quantity.unit.in_(f.unit))
    per_event = per_event.where(*asked)
    left_out = session.execute(
        select(func.count(), func.count(Quantity.event_id.distinct()))
        .join(Event, Event.id == Quantity.event_id)
        .where(*conds, *asked, Event.start_date.is_(None))
    ).one()
    meta = QuantityMeta(
        interval=f.interval,
        total=total,
        undated=undated,
        undated_figures=left_out[0],
        undated_figure_events=left_out[1],
        method=QUANTITY_METHOD,
    )
    q = per_event.subquery()
    conflict = and_(q.c.tight_high.is_not(None), q.c.tight_low > q.c.tight_high)
    ev_low = case((conflict, q.c.wide_low), else_=q.c.tight_low)
    ev_high = case((conflict, case((q.c.closed, q.c.wide_high), else_=None)), else_=q.c.tight_high)
    placed = aliased(Event)
    first_last = session.execute(
        select(func.min(placed.start_date), func.max(placed.start_date)).join(
            q, q.c.event_id == placed.id
        )
    ).one()
    if first_last[0] is None or first_last[1] is None:
        return QuantitySums(data=[], meta=meta)
    start: date = f.start or first_last[0]
    end: date = f.end or first_last[1]
    spans = periods(start, end, f.interval)
    table = _period_table(spans)
    rows = session.execute(
        select(
            table.c.p_start,
            q.c.label,
            q.c.unit,
            func.count(),
            func.sum(ev_low),
            case((func.count(ev_high) == func.count(), func.sum(ev_high)), else_=None),
            func.count(case((conflict, 1))),
        )
        .select_from(q)
        .join(placed, placed.id == q.c.event_id)
        .join(table, and_(placed.start_date >= table.c.p_start, placed.start_date <= table.c.p_end))
        .group_by(table.c.p_start, q.c.label, q.c.unit)
    ).all()
    found = {(r[0], r[1], r[2]): r[3:] for r in rows}
    series = sorted({(r[1], r[2]) for r in rows})
    data = []
    for p_start, p_end in spans:
        for name, unit in series:
            n, lo, hi, conflicts = found.get((p_start, name, unit), (0, 0.0, 0.0, 0))
            data.append(
                QuantityRow(
                    period_start=p_start,
                    period_end=p_end,
                    label=name,
                    unit=unit,
                    events=n,
                    low=lo,
                    high=hi,
                    conflicting=conflicts,
                )
            )
    return QuantitySums(data=data, meta=meta)


def network(session: Session, f: NetworkQuery) -> bytes:
    """Actors as nodes (most events first) and their shared events as edges, as the JSON
    of `Network`.

    Read off the network rollups when the filters allow (`_network_rollups_apply`), else
    gathered from the matching events: a CTE over the date-range index, then their actors;
    each pair is grouped by event type in one pass, and weights, types and dates are summed
    from those groups.
    """
    planned = events.plan(session, f)
    directed = f.mode is NetworkMode.directed
    total: int | None
    if _network_rollups_apply(f):
        total = events.rolled_up_total(session, f, planned)
        beyond = _beyond_rollups(f, planned)
        kept, ranked = _rolled_up_nodes(session, f, beyond)
        groups = _rolled_up_pairs(session, f, beyond, [row[0] for row in kept])
    else:
        total = events.count_planned(session, planned)
        matching = _matching(planned)
        every = _ranked_nodes(session, matching)
        kept, ranked = every[: f.node_limit], len(every)
        groups = _scanned_pairs(session, matching, [row[0] for row in kept], directed)
    # Per pair: [weight, {type: events}, first day, last day]. Dates as the driver gives
    # them: ISO text from SQLite (which orders as the days do), dates from PostgreSQL;
    # either is written as the ISO day.
    edges: dict[tuple[str, str], list[Any]] = {}
    for source, target, event_type, n, first, last in groups:
        edge = edges.get((source, target))
        if edge is None:
            edges[source, target] = [n, {event_type: n}, first, last]
            continue
        edge[0] += n
        types = edge[1]
        types[event_type] = types.get(event_type, 0) + n
        if first is not None and (edge[2] is None or first < edge[2]):
            edge[2] = first
        if last is not None and (edge[3] is None or last > edge[3]):
            edge[3] = last
    ordered = sorted(
        ((k, v) for k, v in edges.items() if v[0] >= f.min_weight),
        key=lambda item: (-item[1][0], item[0]),
    )
    # Asking for heavier edges asks for the actors they join: one left without any is noise
    # beside them, and is counted instead. With every edge kept (min_weight 1), an actor
    # without a co-actor still shows it took part in matching events.
    linked = {end for (source, target), _ in ordered for end in (source, target)}
    shown = kept if f.min_weight <= 1 else [row for row in kept if row[0] in linked]
    # The body built as the response model would serialize it (tests/stats pin the two
    # against each other): every value comes from stored rows the write path checked, and
    # building the models alone was a third of a large network's time.
    body = {
        "nodes": [{"id": i, "name": name, "kind": kind, "events": n} for i, name, kind, n in shown],
        "edges": [
            {
                "source": source,
                "target": target,
                "weight": weight,
                "directed": directed,
                "types": dict(sorted(types.items())),
                "first_date": first,
                "last_date": last,
            }
            for (source, target), (weight, types, first, last) in ordered
        ],
        "meta": {
            "mode": f.mode.value,
            "total_events": total or 0,
            "nodes_omitted": ranked - len(kept),
            "isolated_omitted": len(kept) - len(shown),
        },
    }
    return orjson.dumps(body)


def _matching(planned: events.Plan) -> Any:
    """The matching events, materialised once: id, type, first and last day."""
    return (
        planned.select(
            Event.id.label("id"),
            Event.event_type.label("event_type"),
            Event.start_date.label("start_date"),
            func.coalesce(Event.end_date, Event.start_date).label("last_date"),
        )
        .cte("matching")
        .prefix_with("MATERIALIZED")
    )


def _ranked_nodes(session: Session, matching: Any) -> list[Any]:
    """Every actor of the matching events with how many it takes part in, most first."""
    counted = func.count()
    return list(
        session.execute(
            select(Actor.id, Actor.name, Actor.kind, counted)
            .select_from(matching)
            .join(ActorEvent, ActorEvent.event_id == matching.c.id)
            .join(Actor, Actor.id == ActorEvent.actor_id)
            .group_by(Actor.id, Actor.name, Actor.kind)
            .order_by(counted.desc(), Actor.id)
        ).all()
    )


def _scanned_pairs(session: Session, matching: Any, ids: list[str], directed: bool) -> list[Any]:
    """(source, target, type, events, first day, last day) of the kept actors' pairs among
    the matching events."""
    a: Any
    b: Any
    if directed:
        a, b = aliased(EventActor), aliased(EventActor)
        pair = and_(
            b.event_id == a.event_id,
            a.role == "initiator",
            b.role == "target",
            a.actor_id != b.actor_id,
        )
        per_event = (
            select(matching.c.id, a.actor_id.label("source"), b.actor_id.label("target"))
            .select_from(matching)
            .join(a, a.event_id == matching.c.id)
            .join(b, pair)
            .distinct()
            .cte("pairs")
            .prefix_with("MATERIALIZED")
        )
    else:
        a, b = aliased(ActorEvent), aliased(ActorEvent)
        per_event = (
            select(matching.c.id, a.actor_id.label("source"), b.actor_id.label("target"))
            .select_from(matching)
            .join(a, a.event_id == matching.c.id)
            .join(b, and_(b.event_id == matching.c.id, a.actor_id < b.actor_id))
            .cte("pairs")
            .prefix_with("MATERIALIZED")
        )
    return plain_rows(
        session,
        select(
            per_event.c.source,
            per_event.c.target,
            matching.c.event_type,
            func.count(),
            func.min(matching.c.start_date),
            func.max(matching.c.last_date),
        )
        .join(matching, matching.c.id == per_event.c.id)
        # Filtering the kept actors after the pairs are formed keeps every planner reading
        # the matching events first, not the (large) histories of the popular actors.
        .where(per_event.c.source.in_(ids), per_event.c.target.in_(ids))
        .group_by(per_event.c.source, per_event.c.target, matching.c.event_type),
    )


def _network_rollups_apply(f: NetworkQuery) -> bool:
    """Whether network_pairs and actor_periods answer these filters exactly: co-occurrence,
    no filter but dates, not expanded to members."""
    if f.mode is not NetworkMode.cooccurrence or f.actor or f.expand is Expand.members:
        return False
    return not (f.narrowed() or f.q is not None)


def _beyond_rollups(f: NetworkQuery, planned: events.Plan) -> Any:
    """The matching events the rollups' rows do not hold: those that started before `start`
    and run into the range, or without dates the undated ones (few, by index)."""
    if f.start is not None:
        # The tighter bound first: SQLite ranges its date index up to the first upper bound
        # it reads (`start` here, not the plan's `end`) and tests the others row by row.
        return replace(planned, conds=[Event.start_date < f.start, *planned.conds]).select(Event.id)
    if f.end is None:
        return planned.select(Event.id).where(Event.start_date.is_(None))
    return None


def _rolled_up_nodes(session: Session, f: NetworkQuery, beyond: Any) -> tuple[list[Any], int]:
    """The actors in most matching events (at most node_limit, most first, then by id) and
    how many actors the matching events have: the events starting in the range counted off
    actor_periods, plus those beyond the rollups.

    The ranking is cut in SQL before the few events beyond are added: an actor outside the
    first node_limit by its periods alone, and in none of the events beyond, has node_limit
    actors ahead of it that additions only move further ahead. So the kept actors are among
    those first ones and the actors of the events beyond, each with its exact count. One
    month or one year is read in index order, without grouping (one row per actor)."""
    periods = ActorPeriod.__table__.c
    segments = _segments(f.start, f.end)
    beyond_counts: dict[str, int] = {}
    if beyond is not None:
        beyond_counts = dict(
            plain_rows(
                session,
                select(ActorEvent.actor_id, func.count())
                .where(ActorEvent.event_id.in_(beyond))
                .group_by(ActorEvent.actor_id),
            )
        )
    counts: dict[str, int] = {}
    held = 0
    if segments:
        spans = or_(
            *(
                and_(periods.grain == grain, periods.period >= first, periods.period < after)
                for grain, first, after in segments
            )
        )
        one = len(segments) == 1 and _one_period(*segments[0])
        starts = periods.starts if one else func.sum(periods.starts)
        leading = select(periods.actor_id, starts).where(spans)
        if not one:
            leading = leading.group_by(periods.actor_id)
        counts = dict(
            plain_rows(
                session, leading.order_by(starts.desc(), periods.actor_id).limit(f.node_limit)
            )
        )
        among_beyond = [a for a in beyond_counts if a not in counts]
        if among_beyond:
            counts |= dict(
                plain_rows(
                    session,
                    select(periods.actor_id, func.sum(periods.starts))
                    .where(spans, periods.actor_id.in_(among_beyond))
                    .group_by(periods.actor_id),
                )
            )
        held = session.execute(
            select(func.count(periods.actor_id if one else periods.actor_id.distinct())).where(
                spans
            )
        ).scalar_one()
    # Actors of the events beyond with no period rows are actors the count has not met.
    held += sum(1 for a in beyond_counts if a not in counts)
    for actor_id, n in beyond_counts.items():
        counts[actor_id] = counts.get(actor_id, 0) + n
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: f.node_limit]
    if not top:
        return [], held
    names = {
        row[0]: row[1:]
        for row in session.execute(
            select(Actor.id, Actor.name, Actor.kind).where(Actor.id.in_([a for a, _ in top]))
        )
    }
    # A rollup id with no actor row (the write path leaves none) is left out, as a join would.
    return [(a, *names[a], n) for a, n in top if a in names], held


def _rolled_up_pairs(session: Session, f: NetworkQuery, beyond: Any, ids: list[str]) -> list[Any]:
    """(source, target, type, events, first day, last day) of the kept actors' pairs: the
    events starting in the range from the rollups (network_pair_periods for its whole months
    and years, network_pairs for the days at its edges), plus those beyond the rollups."""
    if len(ids) < 2:
        return []
    days, spans = NetworkPair.__table__.c, NetworkPairPeriod.__table__.c
    parts: list[Any] = []
    segments = _segments(f.start, f.end)
    for grain, first, after in segments:
        if grain == "day":
            parts.append(
                select(
                    days.source,
                    days.target,
                    days.event_type,
                    days.events,
                    days.start_date.label("first_date"),
                    days.last_date,
                ).where(
                    days.source.in_(ids),
                    days.target.in_(ids),
                    days.start_date >= first,
                    days.start_date < after,
                )
            )
        else:
            parts.append(
                select(
                    spans.source,
                    spans.target,
                    spans.event_type,
                    spans.events,
                    spans.first_date,
                    spans.last_date,
                ).where(
                    spans.source.in_(ids),
                    spans.target.in_(ids),
                    spans.grain == grain,
                    spans.period >= first,
                    spans.period < after,
                )
            )
    groups: list[Any] = []
    if len(segments) == 1 and _one_period(*segments[0]):
        # One month or one year: a row per pair and type already.
        groups = plain_rows(session, parts[0])
    elif parts:
        rows = union_all(*parts).subquery("rows")
        groups = plain_rows(
            session,
            select(
                rows.c.source,
                rows.c.target,
                rows.c.event_type,
                func.sum(rows.c.events),
                func.min(rows.c.first_date),
                func.max(rows.c.last_date),
            ).group_by(rows.c.source, rows.c.target, rows.c.event_type),
        )
    if beyond is None:
        return groups
    a, b = aliased(ActorEvent), aliased(ActorEvent)
    # The pairs of the (few) events beyond, formed first and then cut to the kept actors:
    # with the actors' list in the join, SQLite would look up every kept pair in every event.
    shared = (
        select(
            a.actor_id.label("source"),
            b.actor_id.label("target"),
            Event.event_type.label("event_type"),
            Event.start_date.label("start_date"),
            func.coalesce(Event.end_date, Event.start_date).label("last_date"),
        )
        .select_from(Event)
        .join(a, a.event_id == Event.id)
        .join(b, and_(b.event_id == Event.id, a.actor_id < b.actor_id))
        .where(Event.id.in_(beyond))
        .cte("beyond_pairs")
        .prefix_with("MATERIALIZED")
    )
    return groups + plain_rows(
        session,
        select(
            shared.c.source,
            shared.c.target,
            shared.c.event_type,
            func.count(),
            func.min(shared.c.start_date),
            func.max(shared.c.last_date),
        )
        .where(shared.c.source.in_(ids), shared.c.target.in_(ids))
        .group_by(shared.c.source, shared.c.target, shared.c.event_type),
    )


FIRST_DAY, LAST_DAY = date(1, 1, 1), date(9999, 12, 31)


def _segments(start: date | None, end: date | None) -> list[tuple[str, date, date]]:
    """[start, end] as (grain, first period, period after the last) of actor_periods: days
    up to the first month boundary, months up to the first year boundary, years, and the
    same back down to `end`. Unbounded sides run to the ends of the calendar."""
    lo = start or FIRST_DAY
    hi = end + timedelta(days=1) if end is not None and end < LAST_DAY else LAST_DAY
    if hi <= lo:
        return []
    month_lo = lo if lo.day == 1 else next_period(lo.replace(day=1), Interval.month)
    month_hi = hi.replace(day=1)
    if month_lo >= month_hi:
        return [("day", lo, hi)]
    year_lo = month_lo if month_lo.month == 1 else date(month_lo.year + 1, 1, 1)
    year_hi = date(month_hi.year, 1, 1)
    segments = [("day", lo, month_lo), ("day", month_hi, hi)]
    if year_lo >= year_hi:
        segments.append(("month", month_lo, month_hi))
    else:
        segments += [("month", month_lo, year_lo), ("month", year_hi, month_hi)]
        segments.append(("year", year_lo, year_hi))
    return [(grain, first, after) for grain, first, after in segments if first < after]


def _one_period(grain: str, first: date, after: date) -> bool:
    """Whether a segment of `_segments` is a single month or year (network_pair_periods
    holds one row per pair and type in it; a day's rows differ by last day too)."""
    return grain != "day" and after == next_period(first, Interval(grain))


def places(session: Session, f: PlacesQuery) -> Places:
    """The matching events counted per place with coordinates, most first: one GROUP BY of
    their event_locations rows by place, joined to the places, with the number of places and
    the sum of their counts taken over every group before `limit` cuts (window functions)."""
    planned = events.plan(session, f)
    total = events.rolled_up_total(session, f, planned)
    if total is None:
        total = events.count_planned(session, planned)
    unlocated = events.unlocated(session, planned, f.exclude_centroids)
    links = select(EventLocation.location_id.label("location_id"), func.count().label("n"))
    if planned.conds or planned.driver:  # else every event matches: no need to look them up
        matching = planned.select(planned.id_col.label("event_id")).subquery("matching")
        links = links.join(matching, matching.c.event_id == EventLocation.event_id)
    per_place = links.group_by(EventLocation.location_id).subquery("per_place")
    located: list[ColumnElement[bool]] = [Location.latitude.is_not(None)]
    if f.exclude_centroids:
        located.append(Location.precision.not_in(events.CENTROIDS))
    rows = session.execute(
        select(
            Location.id,
            Location.name,
            Location.country,
            Location.latitude,
            Location.longitude,
            Location.precision,
            per_place.c.n,
            func.count().over(),
            func.sum(per_place.c.n).over(),
        )
        .join(per_place, per_place.c.location_id == Location.id)
        .where(*located)
        .order_by(per_place.c.n.desc(), Location.id)
        .limit(f.limit)
    ).all()
    data = [
        PlaceRow(
            location_id=row[0],
            name=row[1],
            country=row[2],
            lat=row[3],
            lon=row[4],
            precision=row[5],
            events=row[6],
        )
        for row in rows
    ]
    counted = int(rows[0][7]) if rows else 0
    pairs = int(rows[0][8]) if rows else 0
    return Places(
        data=data,
        meta=PlacesMeta(
            events=total,
            places=counted,
            omitted_places=counted - len(data),
            omitted_events=pairs - sum(row.events for row in data),
            without_coordinates=unlocated,
        ),
    )
