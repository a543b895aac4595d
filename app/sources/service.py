"""Queries for sources."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.claims.models import Claim
from app.core.errors import InvalidParameter, NotFound
from app.core.pagination import Count, counted, decode_cursor, encode_cursor, keyset_after
from app.sources.models import Source

_CLAIM_COUNT = (
    select(func.count()).where(Claim.source_id == Source.id).correlate(Source).scalar_subquery()
)


def require(session: Session, source_ids: list[str]) -> None:
    """Raise a 422 naming the first source id that does not exist."""
    found = set(session.scalars(select(Source.id).where(Source.id.in_(source_ids))))
    for source_id in source_ids:
        if source_id not in found:
            raise InvalidParameter(f"unknown source {source_id!r}", param="source", value=source_id)


def export(session: Session) -> tuple[int, Iterator[tuple[Source, int]]]:
    """Every source with its claim count, ordered by id, streamed in batches."""
    total = session.scalar(select(func.count()).select_from(Source)) or 0
    rows = session.execute(
        select(Source, _CLAIM_COUNT).order_by(Source.id).execution_options(yield_per=1000)
    )
    return total, (tuple(row) for row in rows)


def get_all(
    session: Session, limit: int, cursor: str | None, count: Count | None = None
) -> tuple[list[tuple[Source, int]], int | None, str | None, dict[str, str]]:
    """A page of sources with their claim counts, ordered by id, the total (counted as
    `count` asks), the next cursor and extra meta."""
    total, how = counted(session, select(Source.id), count)
    stmt = select(Source, _CLAIM_COUNT).order_by(Source.id).limit(limit + 1)
    if cursor:
        (last_id,) = decode_cursor(cursor, "sources", 1)
        stmt = stmt.where(keyset_after([Source.id], [last_id], descending=False))
    rows = [(source, count) for source, count in session.execute(stmt)]
    next_cursor = encode_cursor("sources", [rows[limit - 1][0].id]) if len(rows) > limit else None
    return rows[:limit], total, next_cursor, {"count": how.value} if count is not None else {}


def get(session: Session, source_id: str) -> tuple[Source, int]:
    """One source with its claim count, or 404."""
    row = session.execute(select(Source, _CLAIM_COUNT).where(Source.id == source_id)).first()
    if row is None:
        raise NotFound(f"no source with id {source_id!r}", param="source_id")
    return row[0], row[1]
