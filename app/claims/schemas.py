"""Pydantic schemas of claims, evidence spans and quantities."""

from datetime import datetime

from pydantic import Field, model_validator

from app.actors.schemas import ActorRef
from app.core.pagination import Page
from app.core.schemas import Offset, PageQuery, Provenance, Schema, Slug, Text
from app.core.vocab import Hedging, Qualifier

# The largest reported figure accepted, either sign.
MAX_FIGURE = 1e15


def bounds(
    qualifier: Qualifier, value: float, low: float | None = None, high: float | None = None
) -> tuple[float | None, float | None, bool, bool]:
    """The (low, high, low_inclusive, high_inclusive) interval a qualified number implies.

    An open side is None. 'approximately' keeps the value on both sides: the source gives
    no band and we invent none. An 'estimate' has the bounds its publisher gives.
    """
    match qualifier:
        case Qualifier.estimate:
            return low, high, low is not None, high is not None
        case Qualifier.exact | Qualifier.approximately:
            return value, value, True, True
        case Qualifier.at_least:
            return value, None, True, False
        case Qualifier.more_than:
            return value, None, False, False
        case Qualifier.up_to:
            return None, value, False, True
        case Qualifier.less_than:
            return None, value, False, False


class QuantityCreate(Schema):
    """A reported number as written in a bundle; bounds are derived, never typed in."""

    label: str = Field(
        min_length=1, max_length=200, description="What is counted.", examples=["drones launched"]
    )
    # Finite and within ±10¹⁵: JSON has no infinity or NaN (Python's parser reads 1e400 as
    # one), and sums over many figures must stay within a float.
    value: float = Field(
        ge=-MAX_FIGURE,
        le=MAX_FIGURE,
        allow_inf_nan=False,
        description="The number in base units, within ±10¹⁵.",
        examples=[450],
    )
    unit: str = Field(min_length=1, max_length=40, description="Base unit.", examples=["drones"])
    qualifier: Qualifier = Field(description="How the number bounds the true value.")
    as_reported: str | None = Field(default=None, description="The source's own words.")
    low: float | None = Field(
        default=None,
        ge=-MAX_FIGURE,
        le=MAX_FIGURE,
        allow_inf_nan=False,
        description="The publisher's lowest estimate, for a qualifier of `estimate` only "
        "(other qualifiers imply their bounds).",
    )
    high: float | None = Field(
        default=None,
        ge=-MAX_FIGURE,
        le=MAX_FIGURE,
        allow_inf_nan=False,
        description="The publisher's highest estimate, for a qualifier of `estimate` only.",
    )

    @model_validator(mode="after")
    def _given_bounds(self) -> "QuantityCreate":
        if self.qualifier is not Qualifier.estimate:
            if self.low is not None or self.high is not None:
                raise ValueError("low and high are given only with the qualifier 'estimate'")
            return self
        # The bounds as published: a dataset's best estimate may lie outside them (UCDP
        # has such rows), which the record keeps rather than correct.
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self


class QuantityRead(Schema):
    """A reported number, normalised, with the bounds its qualifier implies."""

    id: str = Field(description="Stable id of the quantity.", examples=["strike-scale-q1"])
    label: str = Field(description="What is counted.", examples=["drones launched"])
    value: float = Field(description="The number in base units.", examples=[450])
    unit: str = Field(description="Base unit (ISO 4217 code for money).", examples=["drones"])
    qualifier: Qualifier = Field(description="How the number bounds the true value.")
    low: float | None = Field(description="Lower bound; null when open.", examples=[450])
    high: float | None = Field(description="Upper bound; null when open.", examples=[450])
    low_inclusive: bool | None = Field(description="Whether `low` itself is possible.")
    high_inclusive: bool | None = Field(description="Whether `high` itself is possible.")
    as_reported: str | None = Field(description="The source's words.", examples=["450 drones"])
    claim_id: str = Field(description="The claim that reports it.")
    event_id: str | None = Field(description="The event it describes.")


class EvidenceIn(Schema):
    """A half-open character span [start, end) of the source text and the text it covers."""

    start: Offset = Field(description="Offset of the first character (Python str index).")
    end: Offset = Field(gt=0, description="Offset just past the last character.")
    text: str = Field(min_length=1, description="Exactly the source text in [start, end).")

    @model_validator(mode="after")
    def _consistent(self) -> "EvidenceIn":
        if self.end <= self.start:
            raise ValueError("evidence end must be greater than start")
        if len(self.text) != self.end - self.start:
            raise ValueError("evidence text length does not match end - start")
        return self


class EvidenceRead(Schema):
    """Where in the source the claim is supported."""

    source_id: str = Field(description="The source whose text the span points into.")
    start: int = Field(description="Offset of the first character (Python str index).")
    end: int = Field(description="Offset just past the last character (half-open span).")
    text: str = Field(description="The source text in [start, end).")


class EvidenceInContext(Schema):
    """A claim's span with the source's text around it, offsets included, to read it where
    it stands."""

    claim_id: str = Field(description="The claim.", examples=["zelensky-barbaric"])
    source_id: str = Field(description="The source whose text the span points into.")
    start: int = Field(description="Offset of the span's first character (Python str index).")
    end: int = Field(description="Offset just past the span's last character (half-open).")
    text: str = Field(description="The span: the source's text in [start, end).")
    text_stored: bool = Field(
        description="Whether the source's text is stored. Without it there is no context: "
        "`before` and `after` are null, and the span is as the claim was written."
    )
    before_start: int | None = Field(
        description="Offset where `before` begins: `start` less `context`, or 0."
    )
    before: str | None = Field(
        description="Up to `context` characters of the text just before the span, from "
        "`before_start` to `start`; null when the text is not stored."
    )
    after: str | None = Field(
        description="Up to `context` characters of the text just after the span, from `end` "
        "to `after_end`; null when the text is not stored."
    )
    after_end: int | None = Field(
        description="Offset just past `after`: `end` plus `context`, or the text's length."
    )
    text_length: int | None = Field(
        description="Length of the source's text in characters; null when unknown."
    )


class ClaimCreate(Schema):
    """A claim as written in a bundle (its source is the bundle's source)."""

    id: Slug = Field(description="Stable slug of the claim.")
    statement: str = Field(min_length=1, description="Our paraphrase of what the source says.")
    quote: str | None = Field(default=None, description="Verbatim quoted words, if any.")
    speaker: Slug | None = Field(default=None, description="Actor id the statement is from.")
    hedging: Hedging = Field(description="How firmly the source puts it.")
    evidence: EvidenceIn | None = Field(
        description="The supporting span of the source text; null only for a claim imported "
        "from a dataset (`provenance`), whose rows have no text to point into."
    )
    quantities: list[QuantityCreate] = Field(
        default_factory=list, description="Numbers the claim reports."
    )
    provenance: Provenance | None = Field(
        default=None,
        description="For a claim imported from a dataset: the dataset, release and row; null "
        "for a claim of reporting.",
    )

    @model_validator(mode="after")
    def _quote_inside(self) -> "ClaimCreate":
        if self.evidence is None:
            if self.provenance is None:
                raise ValueError(
                    "evidence is required: only a claim imported from a dataset (with "
                    "provenance) has none"
                )
            if self.quote is not None:
                raise ValueError("quote needs evidence: a quote is words of the source's text")
            return self
        if self.quote is not None and self.quote not in self.evidence.text:
            raise ValueError("quote must appear verbatim inside evidence.text")
        for q in self.quantities:
            if q.as_reported is not None and q.as_reported not in self.evidence.text:
                raise ValueError(f"as_reported {q.as_reported!r} is not inside evidence.text")
        return self


class ClaimRead(Schema):
    """One statement a source makes, with who said it, how firmly, and where."""

    id: str = Field(description="Stable slug of the claim.", examples=["zelensky-barbaric"])
    event_id: str | None = Field(description="The event it is about; null for general remarks.")
    statement: str = Field(description="Our paraphrase of what the source says.")
    quote: str | None = Field(description="Verbatim quoted words; null when none are quoted.")
    speaker: ActorRef | None = Field(description="Who is quoted or credited; null if no one.")
    source_id: str = Field(description="The source making the claim.")
    hedging: Hedging = Field(description="How firmly the source puts it.")
    evidence: EvidenceRead | None = Field(
        description="The supporting span of the source text; null for a claim imported from "
        "a dataset, whose rows have no text to point into."
    )
    quantities: list[QuantityRead] = Field(description="Numbers the claim reports.")
    provenance: Provenance | None = Field(
        description="The dataset, release and row the claim was imported from; null for a "
        "claim of reporting."
    )
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")


class ClaimPage(Page[ClaimRead]):
    """A page of claims."""


class ClaimQuery(PageQuery):
    """Query parameters of GET /v1/claims; repeated parameters are any-of."""

    event: list[Text] = Field(default_factory=list, description="Event id (repeatable).")
    speaker: list[Text] = Field(
        default_factory=list, description="Actor id, name or alias of the speaker (repeatable)."
    )
    source: list[Text] = Field(default_factory=list, description="Source id (repeatable).")
    q: Text | None = Field(
        default=None,
        max_length=200,
        description='Search: words match as word prefixes and are AND-ed, `"exact phrase"` '
        'as typed, `OR` between alternatives, `-word` or `-"phrase"` excludes (an exclusion '
        "alone: every record without it); case and accents are ignored (`Zelenský` is "
        "`zelensky`). "
        "Over the statement, the quote, the evidence text and the speaker's name and aliases. "
        "A query without a word matches nothing. The README's Search section has the rest.",
        examples=["barbaric", "Zelenskyy", "putin OR xi"],
    )
