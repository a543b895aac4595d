"""ORM models of actors, their aliases and their affiliations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, UTCDateTime, utcnow


class Actor(Base):
    """A person, state, organisation, alliance, group or unnamed speaker."""

    __tablename__ = "actors"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_norm: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    country: Mapped[str | None] = mapped_column(String(3), index=True)
    wikidata_id: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    alias_rows: Mapped[list[ActorAlias]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ActorAlias.alias"
    )
    affiliations: Mapped[list[Affiliation]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        foreign_keys="Affiliation.actor_id",
        order_by="Affiliation.id",
    )

    @property
    def aliases(self) -> list[str]:
        """The alias strings, in order."""
        return [row.alias for row in self.alias_rows]


class ActorAlias(Base):
    """Another name an actor goes by; `alias_norm` is its case-folded form for lookups."""

    __tablename__ = "actor_aliases"

    actor_id: Mapped[str] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(300), primary_key=True)
    alias_norm: Mapped[str] = mapped_column(String(300), index=True)


class Affiliation(Base):
    """A Popolo-style membership: an actor's role in an organisation over a period."""

    __tablename__ = "affiliations"
    __table_args__ = (Index("ix_affiliations_organization_id", "organization_id"),)

    id: Mapped[str] = mapped_column(String(250), primary_key=True)
    actor_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    role: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    current: Mapped[bool | None] = mapped_column(Boolean)

    organization: Mapped[Actor] = relationship(lazy="raise", foreign_keys=[organization_id])
    member: Mapped[Actor] = relationship(lazy="raise", foreign_keys=[actor_id], viewonly=True)


class ActorDocument(Base):
    """An actor as reads answer it, stored as JSON text: its list item (ActorRead's fields,
    in order) and its members (what its detail adds, but for the live event count). Derived
    data: only app.curation.projections writes it, inside the transaction of the write."""

    __tablename__ = "actor_documents"

    actor_id: Mapped[str] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(Text)
    members: Mapped[str] = mapped_column(Text)
    # What `q` searches, folded (app.search.search_text): the name and the aliases.
    words: Mapped[str] = mapped_column(Text)
