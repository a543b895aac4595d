"""The write shapes: a record's document (what POST takes and history stores) and patches."""

from datetime import date, datetime

from pydantic import Field, model_validator

from app.actors.schemas import AffiliationCreate
from app.claims.schemas import ClaimCreate, EvidenceIn, QuantityCreate
from app.core.kinds import Kind as Kind
from app.core.kinds import Op as Op
from app.core.schemas import CountryCode, Day, Name, Schema, Slug, Tag
from app.core.vocab import ActorKind, DatePrecision, EventStatus, EventType, Hedging, SourceKind
from app.curation.seed.schemas import Bundle
from app.events.schemas import EventActorCreate, EventDoc, RelationCreate
from app.sources.schemas import SourceCreate


class SourceDoc(SourceCreate):
    """A source, with its text when supplied (evidence spans are then checked against it)."""

    text: str | None = Field(default=None, description="The full text evidence spans index.")


class ClaimDoc(ClaimCreate):
    """A claim with the source it comes from and the event it is about."""

    source_id: Slug = Field(description="The source making the claim.")
    event_id: Slug | None = Field(default=None, description="The event; null for a remark.")


class ClaimIn(ClaimCreate):
    """A claim written with its event: the source it comes from."""

    source_id: Slug = Field(description="The source making the claim.")


class EventIn(EventDoc):
    """A new event with the claims that support it (at least one: no fact without a source)."""

    claims: list[ClaimIn] = Field(min_length=1, description="The evidence for the event.")

    @model_validator(mode="after")
    def _distinct_claims(self) -> "EventIn":
        ids = [claim.id for claim in self.claims]
        if repeated := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"claims: ids given more than once: {', '.join(repeated)}")
        return self


class EventPatch(Schema):
    """Fields to change on an event; absent fields stay as they are, null clears."""

    title: str | None = Field(
        default=None, min_length=1, max_length=500, description="New short headline."
    )
    summary: str | None = Field(default=None, description="New summary; null clears it.")
    event_type: EventType | None = Field(default=None, description="New PLOVER event category.")
    status: EventStatus | None = Field(default=None, description="New status.")
    start_date: Day | None = Field(default=None, description="New first day; null when unknown.")
    end_date: Day | None = Field(
        default=None, description="New last day; null when unknown or the same."
    )
    date_precision: DatePrecision | None = Field(
        default=None, description="How precisely the new dates are known."
    )
    date_note: str | None = Field(default=None, description="Why the dates are what they are.")
    tags: list[Tag] | None = Field(default=None, description="The whole new list of tags.")
    actors: list[EventActorCreate] | None = Field(
        default=None, description="The whole new list of actors and roles."
    )
    locations: list[Slug] | None = Field(
        default=None, description="The whole new list of location ids."
    )
    related: list[RelationCreate] | None = Field(
        default=None, description="The whole new list of links to other events."
    )


class ClaimPatch(Schema):
    """Fields to change on a claim; absent fields stay as they are, null clears."""

    event_id: Slug | None = Field(
        default=None, description="The event it is about; null makes it a general remark."
    )
    statement: str | None = Field(default=None, min_length=1, description="New paraphrase.")
    quote: str | None = Field(
        default=None, description="New verbatim quote (inside the evidence); null clears it."
    )
    speaker: Slug | None = Field(
        default=None, description="Actor id of the speaker; null clears it."
    )
    hedging: Hedging | None = Field(default=None, description="How firmly the source puts it.")
    evidence: EvidenceIn | None = Field(
        default=None, description="The new span of the source text."
    )
    quantities: list[QuantityCreate] | None = Field(
        default=None, description="The whole new list of numbers the claim reports."
    )


class ActorPatch(Schema):
    """Fields to change on an actor; absent fields stay as they are, null clears."""

    name: Name | None = Field(default=None, description="New canonical name.")
    kind: ActorKind | None = Field(default=None, description="What sort of actor.")
    country: CountryCode | None = Field(
        default=None, description="Country the actor belongs to; null clears it."
    )
    aliases: list[Name] | None = Field(
        default=None, description="The whole new list of other names."
    )
    wikidata_id: str | None = Field(
        default=None, pattern=r"^Q[0-9]{1,19}$", description="Wikidata item id; null clears it."
    )
    description: str | None = Field(default=None, description="Who the actor is; null clears it.")
    affiliations: list[AffiliationCreate] | None = Field(
        default=None, description="The whole new list of memberships and offices."
    )


class SourcePatch(Schema):
    """Fields to change on a source; absent fields stay as they are, null clears."""

    kind: SourceKind | None = Field(default=None, description="What sort of document.")
    title: str | None = Field(default=None, description="Headline or title; null clears it.")
    publisher: str | None = Field(
        default=None, max_length=300, description="Who published it; null clears it."
    )
    url: str | None = Field(default=None, description="Where it was published; null clears it.")
    author: str | None = Field(default=None, max_length=300, description="Byline; null clears it.")
    published_date: date | None = Field(
        default=None, description="Publication date; null clears it."
    )
    published_date_precision: DatePrecision | None = Field(
        default=None, description="How precisely the publication date is known."
    )
    language: str | None = Field(
        default=None, max_length=20, description="BCP 47 language tag; null clears it."
    )
    retrieved_at: datetime | None = Field(
        default=None, description="When the text was retrieved; null clears it."
    )
    description: str | None = Field(
        default=None, description="What the document is; null clears it."
    )
    text: str | None = Field(
        default=None,
        description="The full text, for a source stored without one: set once, it must be "
        "the text the source's sha256 and length describe and hold every span that already "
        "cites the source. A stored text is never replaced or removed.",
    )


class IngestBundle(Bundle):
    """A bundle of new reporting: the seed's format, with the source's text required."""

    source: SourceDoc = Field(description="The document, with its full text.")

    @model_validator(mode="after")
    def _text_given(self) -> "IngestBundle":
        if self.source.text is None:
            raise ValueError("source.text is required: every span is checked against it")
        return self


class EventOutcome(Schema):
    """What ingesting did with one incoming event."""

    incoming_id: str = Field(description="The event id as written in the bundle.")
    event_id: str = Field(description="The event it is now: itself, or the one it matched.")
    outcome: str = Field(description="created, corroborated or unchanged.")


class IngestReport(Schema):
    """What an ingest wrote."""

    source_id: str = Field(description="The source ingested.")
    sha256: str = Field(description="SHA-256 of its text.")
    changed: bool = Field(description="False when the bundle was already in.")
    events: list[EventOutcome] = Field(description="Per incoming event.")
    revisions: int = Field(description="Revisions recorded (0 when nothing changed).")
