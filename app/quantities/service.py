"""Queries for reported figures: one statement over the quantities, their claims and the
events' stored documents, under the event filters' conditions (app.events.service)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import orjson
from sqlalchemy import ColumnElement, Row, Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from app.claims.models import Claim, Quantity
from app.core.errors import InvalidParameter
from app.core.pagination import (
    EXPORT_BATCH,
    Count,
    counted,
    decode_cursor,
    encode_cursor,
    keyset_after,
)
from app.events import service as events
from app.events.models import Event, EventDocument, EventLocation
from app.locations.models import Location
from app.quantities.schemas import QuantityItem, QuantityListQuery
from app.sources import service as sources

S = TypeVar("S", bound=Select[*tuple[Any, ...]])

# Source order, as claims are listed: by source, position in its text, claim, figure.
# A figure of a claim without a span (imported from a dataset) comes first in its source.
POSITION = func.coalesce(Claim.evidence_start, -1).label("position")
ORDER = (Claim.source_id, POSITION, Quantity.claim_id, Quantity.id)
COLUMNS = (
    Quantity.id,
    Quantity.label,
    Quantity.value,
    Quantity.unit,
    Quantity.qualifier,
    Quantity.low,
    Quantity.high,
    Quantity.low_inclusive,
    Quantity.high_inclusive,
    Quantity.as_reported,
    Quantity.claim_id,
    Quantity.event_id,
    Claim.source_id,
    Claim.hedging,
    POSITION,
    EventDocument.item.label("event"),
)
FIELDS = list(QuantityItem.model_fields)
EVENT_FIELDS = {"event_title": "title", "start_date": "start_date", "end_date": "end_date"}
EVENT_FIELDS |= {"date_precision": "date_precision", "locations": "locations"}


def _from(conds: list[ColumnElement[bool]], stmt: S) -> S:
    """FROM quantities and their claims; joined to the events when an event filter is given
    (figures about no event then never match), else every figure."""
    stmt = stmt.select_from(Quantity).join(Claim, Claim.id == Quantity.claim_id)
    if conds:
        stmt = stmt.join(Event, Event.id == Quantity.event_id)
    return stmt


def conditions(
    session: Session, f: QuantityListQuery, *, with_precision: bool = True
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """The event filters as conditions on `events` (422 for unknown references), and the
    figures' own: source, label, unit, qualifier."""
    on_events = events.conditions(
        session, f.model_copy(update={"source": []}), with_precision=with_precision
    )
    own: list[ColumnElement[bool]] = []
    if f.source:
        sources.require(session, f.source)
        own.append(Claim.source_id.in_(f.source))
    if f.label:
        own.append(func.lower(Quantity.label).in_([name.lower() for name in f.label]))
    if f.unit:
        own.append(Quantity.unit.in_(f.unit))
    if f.qualifier:
        own.append(Quantity.qualifier.in_([q.value for q in f.qualifier]))
    return on_events, own


def _items(
    on_events: list[ColumnElement[bool]], own: list[ColumnElement[bool]]
) -> Select[*tuple[Any, ...]]:
    """The matching figures' columns and their events' stored list items, in source order."""
    return (
        _from(on_events, select(*COLUMNS))
        .outerjoin(EventDocument, EventDocument.event_id == Quantity.event_id)
        .where(*on_events, *own)
        .order_by(*ORDER)
    )


def item(row: Row[Any]) -> dict[str, Any]:
    """A figure in QuantityItem's shape: its own columns, its event's from the event's
    stored list item."""
    event = orjson.loads(row.event) if row.event is not None else {}
    values = dict(row._mapping) | {name: event.get(key) for name, key in EVENT_FIELDS.items()}
    values["locations"] = values["locations"] or []
    return {name: values[name] for name in FIELDS}


def _count(
    session: Session, on_events: list[ColumnElement[bool]], own: list[ColumnElement[bool]]
) -> int:
    stmt = _from(on_events, select(func.count())).where(*on_events, *own)
    return session.connection().scalar(stmt) or 0


def extra_meta(session: Session, f: QuantityListQuery, total: int | None) -> dict[str, Any]:
    """What the filters left out, for the response's meta: the figures `precision` drops."""
    if f.precision is None or total is None:
        return {}
    return {
        "excluded_by_precision": _count(session, *conditions(session, f, with_precision=False))
        - total
    }


def get_all(
    session: Session, f: QuantityListQuery, limit: int, count: Count | None = None
) -> tuple[list[dict[str, Any]], int | None, str | None, dict[str, Any]]:
    """A page of figures in source order, the total (counted as `count` asks), the next
    cursor and extra meta."""
    on_events, own = conditions(session, f)
    matching = _from(on_events, select(Quantity.id)).where(*on_events, *own)
    total, how = counted(session, matching, count)
    stmt = _items(on_events, own).limit(limit + 1)
    if f.cursor:
        source_id, start, claim_id, last_id = decode_cursor(f.cursor, "quantities", 4)
        if not (start or "").removeprefix("-").isdigit():
            raise InvalidParameter("cursor is malformed", param="cursor")
        stmt = stmt.where(
            keyset_after(list(ORDER), [source_id, int(start), claim_id, last_id], descending=False)
        )
    rows = session.connection().execute(stmt).all()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        key = [last.source_id, str(last.position), last.claim_id, last.id]
        next_cursor = encode_cursor("quantities", key)
    extra = extra_meta(session, f, total)
    if count is not None:
        extra["count"] = how.value
    return [item(row) for row in rows[:limit]], total, next_cursor, extra


def export(
    session: Session, f: QuantityListQuery, count_unlocated: bool = False
) -> tuple[int, dict[str, int], Iterator[dict[str, Any]]]:
    """Every matching figure in source order, streamed from a database cursor in batches.
    For a map export, `count_unlocated` also counts the figures whose event has no usable
    coordinates (or that are about no event)."""
    on_events, own = conditions(session, f)
    base = _from(on_events, select(func.count())).where(*on_events, *own)
    connection = session.connection()
    total = connection.scalar(base) or 0
    extra: dict[str, int] = extra_meta(session, f, total)
    if count_unlocated:
        link, place = aliased(EventLocation), aliased(Location)
        located = [
            link.event_id == Quantity.event_id,
            place.id == link.location_id,
            place.latitude.is_not(None),
        ]
        if f.exclude_centroids:
            located.append(place.precision.not_in(events.CENTROIDS))
        unlocated = base.where(~exists().where(*located))
        extra["excluded_without_coordinates"] = connection.scalar(unlocated) or 0

    def items() -> Iterator[dict[str, Any]]:
        stmt = _items(on_events, own).execution_options(yield_per=EXPORT_BATCH)
        for batch in connection.execute(stmt).partitions():
            for row in batch:
                yield item(row)

    return total, extra, items()
