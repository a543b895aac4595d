"""Queries for claims."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.actors import service as actors
from app.claims.models import Claim
from app.claims.schemas import ClaimQuery
from app.core.errors import InvalidParameter, NotFound
from app.core.pagination import decode_cursor, encode_cursor, keyset_after, stream_rows
from app.events.models import Event
from app.sources import service as sources


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
    for term in (f.q or "").split()[:10]:
        conds.append(
            or_(
                Claim.statement.icontains(term, autoescape=True),
                Claim.quote.icontains(term, autoescape=True),
                Claim.evidence_text.icontains(term, autoescape=True),
            )
        )
    return conds


ORDER = (Claim.source_id, Claim.evidence_start, Claim.id)


def _loaded() -> tuple[Any, ...]:
    return (selectinload(Claim.quantities), joinedload(Claim.speaker))


def export(session: Session, f: ClaimQuery) -> tuple[int, Iterator[Claim]]:
    """Every matching claim in source order, streamed in batches."""
    conds = _conditions(session, f)
    total = session.scalar(select(func.count()).select_from(Claim).where(*conds)) or 0
    stmt = select(Claim).where(*conds).order_by(*ORDER).options(*_loaded())
    return total, stream_rows(session, stmt)


def get_all(session: Session, f: ClaimQuery, limit: int) -> tuple[list[Claim], int, str | None]:
    """A page of claims in source order (source, then position in its text)."""
    cursor = f.cursor
    conds = _conditions(session, f)
    total = session.scalar(select(func.count()).select_from(Claim).where(*conds)) or 0
    order = list(ORDER)
    stmt = select(Claim).where(*conds).order_by(*order).limit(limit + 1)
    if cursor:
        source_id, start, last_id = decode_cursor(cursor, "claims", 3)
        if not (start or "").isdigit():
            raise InvalidParameter("cursor is malformed", param="cursor")
        stmt = stmt.where(keyset_after(order, [source_id, int(start), last_id], descending=False))
    rows = list(session.scalars(stmt.options(*_loaded())))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        key = [last.source_id, str(last.evidence_start), last.id]
        next_cursor = encode_cursor("claims", key)
    return rows[:limit], total, next_cursor


def get(session: Session, claim_id: str) -> Claim:
    """One claim with its speaker and quantities, or 404."""
    claim = session.scalar(select(Claim).where(Claim.id == claim_id).options(*_loaded()))
    if claim is None:
        raise NotFound(f"no claim with id {claim_id!r}", param="claim_id")
    return claim
