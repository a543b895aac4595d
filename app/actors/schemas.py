"""Pydantic schemas of actors and affiliations."""

from datetime import date, datetime

from pydantic import Field, model_validator

from app.core.pagination import Page
from app.core.schemas import CountryCode, Name, PageQuery, Schema, Slug, Text
from app.core.vocab import ActorKind


class AffiliationCreate(Schema):
    """A membership as written in a bundle: this actor holds `role` in `organization`."""

    organization: Slug = Field(description="Actor id of the organisation.", examples=["russia"])
    role: str | None = Field(
        default=None, max_length=200, description="Role or office held, when reported."
    )
    start_date: date | None = Field(default=None, description="Start of the membership.")
    end_date: date | None = Field(default=None, description="End of the membership.")
    current: bool | None = Field(
        default=None, description="True if current, false if former, null if unknown."
    )

    @model_validator(mode="after")
    def _ordered(self) -> "AffiliationCreate":
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class ActorCreate(Schema):
    """An actor as written in a bundle."""

    id: Slug = Field(description="Stable slug of the canonical name.", examples=["vladimir-putin"])
    name: Name = Field(description="Canonical English name.")
    kind: ActorKind = Field(description="What sort of actor.")
    country: CountryCode | None = Field(default=None, description="Country the actor belongs to.")
    aliases: list[Name] = Field(default_factory=list, description="Other names it goes by.")
    wikidata_id: str | None = Field(
        default=None, pattern=r"^Q[0-9]{1,19}$", description="Wikidata item id."
    )
    description: str | None = Field(default=None, description="Who the actor is, briefly.")
    affiliations: list[AffiliationCreate] = Field(
        default_factory=list, description="Memberships and offices."
    )


class ActorRef(Schema):
    """The short form of an actor used inside other records."""

    id: str = Field(description="Actor id.", examples=["vladimir-putin"])
    name: str = Field(description="Canonical name.", examples=["Vladimir Putin"])
    kind: str = Field(description="What sort of actor.", examples=["person"])


class AffiliationRead(Schema):
    """A membership: the actor holds `role` in `organization` over a period."""

    organization: ActorRef = Field(description="The organisation, state or alliance.")
    role: str | None = Field(description="Role or office held; null when not reported.")
    start_date: date | None = Field(description="Start of the membership; null if unknown.")
    end_date: date | None = Field(description="End of the membership; null if unknown or open.")
    current: bool | None = Field(description="True if current, false if former, null if unknown.")


class MemberRead(Schema):
    """An actor that is affiliated with this one (the other side of an affiliation)."""

    member: ActorRef = Field(description="The member, office holder or affiliate.")
    role: str | None = Field(description="The member's role; null when not reported.")
    start_date: date | None = Field(description="Start of the membership; null if unknown.")
    end_date: date | None = Field(description="End of the membership; null if unknown or open.")
    current: bool | None = Field(description="True if current, false if former, null if unknown.")


class ActorRead(Schema):
    """An actor with its aliases and affiliations."""

    id: str = Field(description="Stable slug of the canonical name.", examples=["vladimir-putin"])
    name: str = Field(description="Canonical English name.", examples=["Vladimir Putin"])
    kind: ActorKind = Field(description="What sort of actor.", examples=["person"])
    country: str | None = Field(description="ISO 3166-1 alpha-3 country.", examples=["RUS"])
    aliases: list[str] = Field(description="Other names it goes by.", examples=[["Putin"]])
    wikidata_id: str | None = Field(description="Wikidata item id, when known.")
    description: str | None = Field(description="Who the actor is, briefly.")
    affiliations: list[AffiliationRead] = Field(description="Memberships and offices it holds.")
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")


class ActorDetail(ActorRead):
    """An actor with its affiliations in both directions and its event count."""

    members: list[MemberRead] = Field(description="Actors affiliated with this one.")
    event_count: int = Field(description="Events the actor takes part in, in any role.")


class ActorQuery(PageQuery):
    """Query parameters of GET /v1/actors."""

    q: Text | None = Field(
        default=None,
        max_length=200,
        description='Search: words match as word prefixes and are AND-ed, `"exact phrase"` '
        'as typed, `OR` between alternatives, `-word` or `-"phrase"` excludes (an exclusion '
        "alone: every record without it); case and accents are ignored (`Zelenský` is "
        "`zelensky`). "
        "Over the name and the aliases (`EU` finds the European Union). A query without a "
        "word matches nothing. The README's Search section has the rest.",
        examples=["Zelenskyy", "U.S.", "nato -allies"],
    )
    kind: list[ActorKind] = Field(default_factory=list, description="Actor kind (any-of).")
    country: list[CountryCode] = Field(
        default_factory=list, description="ISO 3166-1 country code (any-of)."
    )


class ActorPage(Page[ActorRead]):
    """A page of actors."""
