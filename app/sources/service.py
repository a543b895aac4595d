"""Queries for sources."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.core.db import Prepared, Reader, prepared_rows
from app.core.errors import InvalidParameter, NotFound
from app.core.pagination import (
    EXPORT_BATCH,
    Count,
    counted,
    decode_cursor,
    encode_cursor,
    keyset_after,
)
from app.sources.models import Source, SourceDocument

# The stored documents in id order, with the id the cursor needs.
DOCUMENTS = select(SourceDocument.item, SourceDocument.source_id.label("id")).order_by(
    SourceDocument.source_id
)


def require(session: Session, source_ids: list[str]) -> None:
    """Raise a 422 naming the first source id that does not exist."""
    found = set(session.scalars(select(Source.id).where(Source.id.in_(source_ids))))
    for source_id in source_ids:
        if source_id not in found:
            raise InvalidParameter(f"unknown source {source_id!r}", param="source", value=source_id)


def export(session: Session) -> tuple[int, Iterator[str]]:
    """Every source's stored document, ordered by id, streamed in batches."""
    total = session.scalar(select(func.count()).select_from(Source)) or 0
    connection = session.connection()

    def items() -> Iterator[str]:
        for row in connection.execute(DOCUMENTS.execution_options(yield_per=EXPORT_BATCH)):
            yield row.item

    return total, items()


def get_all(
    session: Session, limit: int, cursor: str | None, count: Count | None = None
) -> tuple[list[str], int | None, str | None, dict[str, str]]:
    """A page of sources' stored documents (claim counts included) ordered by id, the total
    (counted as `count` asks), the next cursor and extra meta."""
    total, how = counted(session, select(Source.id), count)
    stmt = DOCUMENTS.limit(limit + 1)
    if cursor:
        (last_id,) = decode_cursor(cursor, "sources", 1)
        stmt = stmt.where(keyset_after([SourceDocument.source_id], [last_id], descending=False))
    rows = session.connection().execute(stmt).all()
    next_cursor = encode_cursor("sources", [rows[limit - 1].id]) if len(rows) > limit else None
    extra = {"count": how.value} if count is not None else {}
    return [row.item for row in rows[:limit]], total, next_cursor, extra


DETAIL = Prepared(
    "SELECT source_documents.item, sources.version FROM sources "
    "JOIN source_documents ON source_documents.source_id = sources.id "
    "WHERE sources.id = :source_id"
)


def get(session: Reader, source_id: str) -> tuple[bytes, int]:
    """One source's stored document and its version, or 404."""
    rows = prepared_rows(session, DETAIL, {"source_id": source_id})
    if not rows:
        raise NotFound(f"no source with id {source_id!r}", param="source_id")
    item, version = rows[0]
    return item.encode(), version


TEXT = select(Source.text).where(Source.id == bindparam("source_id"))


def text(session: Session, source_id: str) -> str:
    """One source's full text, or 404 when there is no such source or it has no text."""
    row = session.connection().execute(TEXT, {"source_id": source_id}).first()
    if row is None:
        raise NotFound(f"no source with id {source_id!r}", param="source_id")
    if row.text is None:
        raise NotFound(
            f"source {source_id!r} has no stored text: its sha256 and text_length describe "
            "it, but the text itself was never given",
            param="source_id",
        )
    return str(row.text)
