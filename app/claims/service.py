"""Queries for claims."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, Integer, Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from app import search
from app.actors import service as actors
from app.claims.models import Claim, ClaimDocument
from app.claims.schemas import ClaimQuery, EvidenceInContext
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
from app.events.models import Event
from app.sources import service as sources
from app.sources.models import Source


def _conditions(session: Session, f: ClaimQuery) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.event:
        found = set(session.scalars(select(Event.id).where(Event.id.in_(f.event))))
        for event_id in f.event:
            if event_id not in found:
                raise InvalidParameter(f"unknown event {event_id!r}", param="event", value=event_id)
        conds.append(Claim.event_id.in_(f.event))
    if f.speaker:
        conds.append(Claim.speaker_id.in_(actors.resolve(session, f.speaker, param="speaker")))
    if f.source:
        sources.require(session, f.source)
        conds.append(Claim.source_id.in_(f.source))
    if f.q is not None:
        matching = search.matching(ClaimDocument.words, f.q)
        conds.append(Claim.id.in_(select(ClaimDocument.claim_id).where(matching)))
    return conds


# A claim without a span (imported from a dataset) comes first among its source's claims.
POSITION = func.coalesce(Claim.evidence_start, -1).label("position")
ORDER = (Claim.source_id, POSITION, Claim.id)


def _documents(conds: list[ColumnElement[bool]]) -> Select[str, str, int, str]:
    """The matching claims' stored documents, with the columns of their order."""
    return (
        select(ClaimDocument.item, *ORDER)
        .join(ClaimDocument, ClaimDocument.claim_id == Claim.id)
        .where(*conds)
        .order_by(*ORDER)
    )


def export(session: Session, f: ClaimQuery) -> tuple[int, Iterator[str]]:
    """Every matching claim's stored document in source order, streamed in batches."""
    conds = _conditions(session, f)
    total = session.scalar(select(func.count()).select_from(Claim).where(*conds)) or 0
    connection = session.connection()

    def items() -> Iterator[str]:
        stmt = _documents(conds).execution_options(yield_per=EXPORT_BATCH)
        for row in connection.execute(stmt):
            yield row.item

    return total, items()


def get_all(
    session: Session, f: ClaimQuery, limit: int, count: Count | None = None
) -> tuple[list[str], int | None, str | None, dict[str, str]]:
    """A page of claims' stored documents in source order (source, then position in its
    text), the total (counted as `count` asks), the next cursor and extra meta."""
    cursor = f.cursor
    conds = _conditions(session, f)
    total, how = counted(session, select(Claim.id).where(*conds), count)
    stmt = _documents(conds).limit(limit + 1)
    if cursor:
        source_id, start, last_id = decode_cursor(cursor, "claims", 3)
        if not (start or "").removeprefix("-").isdigit():
            raise InvalidParameter("cursor is malformed", param="cursor")
        stmt = stmt.where(
            keyset_after(list(ORDER), [source_id, int(start), last_id], descending=False)
        )
    rows = session.connection().execute(stmt).all()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor("claims", [last.source_id, str(last.position), last.id])
    extra = {"count": how.value} if count is not None else {}
    return [row.item for row in rows[:limit]], total, next_cursor, extra


DETAIL = Prepared(
    "SELECT claim_documents.item, claims.version FROM claims "
    "JOIN claim_documents ON claim_documents.claim_id = claims.id WHERE claims.id = :claim_id"
)


def get(session: Reader, claim_id: str) -> tuple[bytes, int]:
    """One claim's stored document and its version, or 404."""
    rows = prepared_rows(session, DETAIL, {"claim_id": claim_id})
    if not rows:
        raise NotFound(f"no claim with id {claim_id!r}", param="claim_id")
    item, version = rows[0]
    return item.encode(), version


_CONTEXT = bindparam("context", type_=Integer)
_BEFORE = case((Claim.evidence_start > _CONTEXT, Claim.evidence_start - _CONTEXT), else_=0)
# The span's surroundings cut out in SQL (SUBSTR counts characters on both stores, from 1),
# so that a long text is not read whole for a few hundred characters of it.
EVIDENCE = (
    select(
        Claim.source_id,
        Claim.evidence_start,
        Claim.evidence_end,
        Claim.evidence_text,
        Claim.dataset,
        Claim.dataset_release,
        Claim.dataset_row,
        Source.text_length,
        Source.text.is_not(None).label("stored"),
        _BEFORE.label("before_start"),
        func.substr(Source.text, _BEFORE + 1, Claim.evidence_start - _BEFORE).label("before"),
        func.substr(Source.text, Claim.evidence_end + 1, _CONTEXT).label("after"),
    )
    .join(Source, Source.id == Claim.source_id)
    .where(Claim.id == bindparam("claim_id"))
)


def evidence(session: Session, claim_id: str, context: int) -> EvidenceInContext:
    """One claim's span with up to `context` characters of its source's text on each side,
    or 404."""
    row = session.connection().execute(EVIDENCE, {"claim_id": claim_id, "context": context}).first()
    if row is None:
        raise NotFound(f"no claim with id {claim_id!r}", param="claim_id")
    if row.evidence_start is None:
        raise NotFound(
            f"claim {claim_id!r} has no evidence span: it was imported from the "
            f"{row.dataset} dataset (release {row.dataset_release!r}, row {row.dataset_row}), "
            "whose rows have no text to point into; its provenance says where it comes from",
            param="claim_id",
        )
    return EvidenceInContext(
        claim_id=claim_id,
        source_id=row.source_id,
        start=row.evidence_start,
        end=row.evidence_end,
        text=row.evidence_text,
        text_stored=row.stored,
        before_start=row.before_start if row.stored else None,
        before=row.before if row.stored else None,
        after=row.after if row.stored else None,
        after_end=row.evidence_end + len(row.after) if row.stored else None,
        text_length=row.text_length,
    )
