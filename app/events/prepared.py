"""Event lists of the shapes dashboards poll most (at most one actor id, dates, the order
and a cursor) answered by two prepared statements (app.core.db.Prepared) instead of the
planner's five SQLAlchemy statements: one for what the page's meta needs (the actor known,
the rollup total, the span bounds the date filter uses) and one for the page. The SQL is
the planner's (`service.plan`, `service.total`) written out once per shape, so the answer
is the same to the byte (tests/test_prepared_lists.py compares the two on both stores);
any other shape, and an actor given by name or alias or not known, goes to the planner.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from app.core.db import Prepared, Reader, prepared_rows
from app.core.errors import InvalidParameter
from app.core.pagination import Count, decode_cursor, encode_cursor
from app.core.schemas import Format
from app.events.schemas import EventQuery, EventSort

ALL_EVENTS = "*"  # the timeline_days scope of every event (service.ALL_EVENTS)
Page = tuple[list[str], int | None, str | None, dict[str, Any]]


def covers(f: EventQuery) -> bool:
    """Whether the filters are of a shape answered here: nothing but at most one actor
    (not expanded), `start`, `end`, the order, the cursor and the limit."""
    return len(f.actor) <= 1 and f.expand is None and f.q is None and not f.narrowed()


def quick(f: EventQuery) -> bool:
    """Whether a list request is answered here as a page of JSON (not an export nor another
    format, which stream or shape every row): a few index reads, however large the data."""
    return covers(f) and f.limit != "all" and f.format in (None, Format.json)


def page(session: Reader, f: EventQuery, limit: int, count: Count | None) -> Page | None:
    """A page as `service.get_all` gives it, or None when the planner must answer (an actor
    that is not an id on record: a name, an alias, or unknown, which it resolves or
    refuses)."""
    if f.start and f.end and f.end < f.start:
        raise InvalidParameter("end is before start", param="end")
    actor = f.actor[0] if f.actor else None
    counting = count is not Count.none
    params: dict[str, Any] = {"scope": actor or ALL_EVENTS}
    if f.start:
        params["start"] = f.start
    if f.end:
        params["end"] = f.end
    known, total, undated, longest, any_open = prepared_rows(
        session, _meta(actor is not None, f.start is not None, f.end is not None, counting), params
    )[0]
    if actor is not None and not known:
        return None
    if f.start:
        params["lower"] = f.start - timedelta(days=longest or 0)
    after = None
    if f.cursor:
        last_date, last_id = read_cursor(f.cursor, f.sort)
        params["last_id"] = last_id
        if last_date is not None:
            params["last_date"] = last_date
        after = "dated" if last_date is not None else "undated"
    params["limit"] = limit + 1
    statement = _page(
        actor is not None,
        f.start is not None,
        bool(any_open),
        f.end is not None,
        f.sort is EventSort.oldest,
        after,
    )
    rows = prepared_rows(session, statement, params)
    next_cursor = None
    if len(rows) > limit:
        start_date, event_id, _ = rows[limit - 1]
        next_cursor = make_cursor(f.sort, start_date, event_id)
    extra: dict[str, Any] = {}
    if count is not None:
        extra["count"] = (Count.exact if counting else Count.none).value
    matches = None
    if counting:
        matches = int(total or 0) + (int(undated or 0) if not (f.start or f.end) else 0)
    return [row[2] for row in rows[:limit]], matches, next_cursor, extra


def read_cursor(token: str, sort: EventSort) -> tuple[date | None, str]:
    """The (start_date, id) an event list's cursor resumes after; 422 when it is not one
    this order issued."""
    raw_date, last_id = decode_cursor(token, f"events:{sort.value}", 2)
    try:
        return (date.fromisoformat(raw_date) if raw_date else None), last_id
    except ValueError as exc:
        raise InvalidParameter("cursor is malformed", param="cursor") from exc


def make_cursor(sort: EventSort, start_date: date | str | None, event_id: str) -> str:
    """The cursor after this row (its start_date a date, or SQLite's ISO text of one)."""
    day = None if start_date is None else str(start_date)[:10]
    return encode_cursor(f"events:{sort.value}", [day, event_id])


@lru_cache(maxsize=64)
def _meta(driver: bool, start: bool, end: bool, counting: bool) -> Prepared:
    """Whether the actor is on record, the rollup total (`service.rolled_up_total`), the
    undated events it leaves out, and the span bounds (`service.SPAN_BOUNDS`)."""
    known = "(SELECT count(*) FROM actors WHERE actors.id = :scope)" if driver else "1"
    total = undated = "NULL"
    if counting:
        started = "timeline_days.starts"
        if start:
            started += " - CASE WHEN timeline_days.day < :start THEN timeline_days.ends ELSE 0 END"
        until = " AND timeline_days.day <= :end" if end else ""
        total = (
            f"(SELECT coalesce(sum({started}), 0) FROM timeline_days "
            f"WHERE timeline_days.scope = :scope{until})"
        )
        if not (start or end):
            undated = (
                "(SELECT count(*) FROM actor_events WHERE actor_events.actor_id = :scope "
                "AND actor_events.start_date IS NULL)"
                if driver
                else "(SELECT count(*) FROM events WHERE events.start_date IS NULL)"
            )
    longest = any_open = "NULL"
    if start:
        longest = "(SELECT max(events.span_days) FROM events)"
        any_open = (
            "EXISTS (SELECT 1 FROM events "
            "WHERE events.last_date IS NULL AND events.start_date IS NOT NULL)"
        )
    return Prepared(f"SELECT {known}, {total}, {undated}, {longest}, {any_open}")


@lru_cache(maxsize=256)
def _page(
    driver: bool, start: bool, any_open: bool, end: bool, oldest: bool, after: str | None
) -> Prepared:
    """The page's rows (start_date, id, stored list item) as `service.get_all` reads them:
    the actor's rows of actor_events drive the scan, else events' (start_date, id) index."""
    table, key = ("actor_events", "event_id") if driver else ("events", "id")
    day, last, ident = f"{table}.start_date", f"{table}.last_date", f"{table}.{key}"
    conds = ["actor_events.actor_id = :scope"] if driver else []
    if start:
        bounded = f"{day} >= :lower AND {last} >= :start"
        open_ended = f"{last} IS NULL AND {day} IS NOT NULL"
        conds.append(f"({bounded} OR {open_ended})" if any_open else bounded)
    if end:
        conds.append(f"{day} <= :end")
    dated = start or end
    if after == "undated":
        conds.append(f"{day} IS NULL AND {ident} {'>' if oldest else '<'} :last_id")
    elif after == "dated":
        beyond, next_id = (">", ">") if oldest else ("<", "<")
        terms = [f"{day} {beyond} :last_date", f"{day} = :last_date AND {ident} {next_id} :last_id"]
        if not dated:
            terms.append(f"{day} IS NULL")
        conds.append(f"({' OR '.join(terms)})")
    direction = "ASC" if oldest else "DESC"
    nulls = "" if dated else " NULLS LAST"
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    return Prepared(
        f"SELECT {day}, {ident}, event_documents.item FROM {table} "
        f"JOIN event_documents ON event_documents.event_id = {ident}{where} "
        f"ORDER BY {day} {direction}{nulls}, {ident} {direction} LIMIT :limit"
    )
