"""Opaque keyset cursors and the page envelope every list endpoint returns."""

from __future__ import annotations

import base64
import binascii
import json
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.core.errors import InvalidParameter

T = TypeVar("T")


class Count(StrEnum):
    """How a list's `meta.total` is counted (asked for with `Prefer: count=…`)."""

    exact = "exact"  # every match counted (from a rollup when the filters allow)
    planned = "planned"  # the query planner's estimate (PostgreSQL)
    estimated = "estimated"  # exact up to ESTIMATED_EXACT_UP_TO matches, planned beyond
    none = "none"  # not counted: `total` is null


ESTIMATED_EXACT_UP_TO = 10_000


class PageMeta(BaseModel):
    """Paging information for a list response."""

    next_cursor: str | None = Field(
        description="Opaque cursor for the next page; null on the last page.",
        examples=[None],
    )
    total: int | None = Field(
        description="How many records match the filters, over all pages: exact unless a "
        "`Prefer: count=planned|estimated` header asked for less (see `count`); null for "
        "`Prefer: count=none`."
    )
    limit: int | None = Field(
        description="The page size that was applied; null for `limit=all`.", examples=[50]
    )
    count: Count | None = Field(
        default=None,
        description="How `total` was counted, present when a `Prefer: count=…` header asked "
        "(also said by the `Preference-Applied` header): `exact`, `planned` (PostgreSQL's "
        "planner estimate) or `none`. SQLite keeps no row estimates, so it counts exactly.",
    )


def counted(
    session: Session, matching: Select[Any], wanted: Count | None
) -> tuple[int | None, Count]:
    """How many rows `matching` (a SELECT of the matches' keys) returns, counted as asked:
    exactly by default; not at all for `none`; on PostgreSQL the planner's estimate for
    `planned`, and for `estimated` an exact count up to ESTIMATED_EXACT_UP_TO, the estimate
    beyond. SQLite keeps no estimates: it counts exactly."""
    if wanted is Count.none:
        return None, Count.none
    connection = session.connection()
    if wanted in (Count.planned, Count.estimated) and connection.dialect.name == "postgresql":
        if wanted is Count.estimated:
            first = matching.limit(ESTIMATED_EXACT_UP_TO + 1).subquery()
            seen = connection.scalar(select(func.count()).select_from(first)) or 0
            if seen <= ESTIMATED_EXACT_UP_TO:
                return seen, Count.exact
        compiled = matching.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        plan = connection.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
        ).scalar_one()
        document = plan if isinstance(plan, list) else json.loads(plan)
        return int(document[0]["Plan"]["Plan Rows"]), Count.planned
    total = connection.scalar(select(func.count()).select_from(matching.subquery())) or 0
    return total, Count.exact


# A record cut down by `fields=`: any subset of the record's own fields.
Projection = dict[str, Any]


class Page(BaseModel, Generic[T]):
    """A page of records and its paging information."""

    data: list[T | Projection] = Field(
        description="The records on this page, in the requested order (with `fields`, each "
        "holds just the fields asked for)."
    )
    meta: PageMeta = Field(description="Paging information.")


def encode_cursor(kind: str, key: list[Any]) -> str:
    """Pack the last row's sort key, and what it sorts by, into an opaque token."""
    raw = json.dumps({"k": kind, "v": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, kind: str, arity: int) -> list[Any]:
    """Unpack a cursor made by `encode_cursor` for the same ordering, or answer 422."""
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        values = payload["v"]
        if payload["k"] != kind or not isinstance(values, list) or len(values) != arity:
            raise ValueError("cursor made for another ordering")
        if not all(v is None or isinstance(v, str) for v in values):
            raise ValueError("cursor values malformed")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidParameter(
            "cursor is not one this endpoint issued for this sort order; "
            "start again without it and follow meta.next_cursor",
            param="cursor",
        ) from exc
    return values


def keyset_after(columns: list[Any], values: list[Any], descending: bool) -> Any:
    """Rows strictly after `values` in the order of non-null `columns` (portable SQL).

    Expands the row comparison (a, b) > (x, y) into (a > x) OR (a = x AND b > y), which both
    stores plan with an index.
    """
    clauses = []
    for i, column in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        beyond = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


EXPORT_BATCH = 250  # rows an export fetches from its cursor at a time (bounded memory per export)
