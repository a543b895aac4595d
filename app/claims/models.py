"""ORM models of claims and the quantities they report."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.actors.models import Actor


class Claim(Base):
    """One statement a source makes, and the half-open character span that supports it."""

    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(
            "(evidence_start IS NULL AND evidence_end IS NULL AND evidence_text IS NULL) OR "
            "(evidence_start >= 0 AND evidence_end > evidence_start)",
            name="span",
        ),
        Index("ix_claims_source_span", "source_id", "evidence_start"),
    )

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    event_id: Mapped[str | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"))
    speaker_id: Mapped[str | None] = mapped_column(
        ForeignKey("actors.id", ondelete="RESTRICT"), index=True
    )
    statement: Mapped[str] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)
    hedging: Mapped[str] = mapped_column(String(20))
    # NULL for a claim imported from a dataset: its row has no text to point into.
    evidence_start: Mapped[int | None] = mapped_column()
    evidence_end: Mapped[int | None] = mapped_column()
    evidence_text: Mapped[str | None] = mapped_column(Text)
    # Provenance of an imported claim (NULL for reporting), as for events.
    dataset: Mapped[str | None] = mapped_column(String(20))
    dataset_release: Mapped[str | None] = mapped_column(String(100))
    dataset_row: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    speaker: Mapped[Actor | None] = relationship(lazy="raise")
    quantities: Mapped[list[Quantity]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Quantity.id"
    )

    @property
    def evidence(self) -> dict[str, object] | None:
        """The supporting span in the shape the API documents; None without one."""
        if self.evidence_start is None:
            return None
        return {
            "source_id": self.source_id,
            "start": self.evidence_start,
            "end": self.evidence_end,
            "text": self.evidence_text,
        }


class Quantity(Base):
    """A reported number in base units, with its qualifier and the bounds it implies."""

    __tablename__ = "quantities"

    id: Mapped[str] = mapped_column(String(180), primary_key=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40))
    qualifier: Mapped[str] = mapped_column(String(20))
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    low_inclusive: Mapped[bool | None] = mapped_column(Boolean)
    high_inclusive: Mapped[bool | None] = mapped_column(Boolean)
    as_reported: Mapped[str | None] = mapped_column(Text)


class ClaimDocument(Base):
    """A claim as reads answer it, stored as JSON text (ClaimRead's fields, in order). Derived
    data: only app.curation.projections writes it, inside the transaction of the write."""

    __tablename__ = "claim_documents"

    claim_id: Mapped[str] = mapped_column(
        ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(Text)
    # What `q` searches, folded (app.search.search_text): the statement, the quote, the
    # evidence text, the speaker's name and aliases.
    words: Mapped[str] = mapped_column(Text)
