"""ORM model of the data version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime


class Revision(Base):
    """One change to one record: the change feed and every record's history.

    `before` and `after` are the record's document (the shape the write API takes) as JSON
    text; a creation has no `before`, a deletion (a tombstone) no `after`. `event_id` is the
    event the record belongs to (itself for an event, its event for a claim), so an event's
    history includes its claims'.
    """

    __tablename__ = "revisions"
    __table_args__ = (
        Index("ix_revisions_record", "kind", "record_id", "seq"),
        Index("ix_revisions_event", "event_id", "seq"),
        Index("ix_revisions_at", "at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(180))
    event_id: Mapped[str | None] = mapped_column(String(160))
    op: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column()
    author: Mapped[str] = mapped_column(String(100))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class IdempotentRequest(Base):
    """A POST answered once under an Idempotency-Key: a retry with the same key and body gets
    the stored answer; the same key with another body is refused."""

    __tablename__ = "idempotent_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    author: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
