"""Pydantic schemas of events, their query parameters and their links."""

import math
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.claims.schemas import ClaimCreate, ClaimRead, QuantityRead
from app.core.errors import FieldError
from app.core.pagination import PageMeta, Projection
from app.core.schemas import (
    AsOfQuery,
    CountryCode,
    Day,
    FromDay,
    PageQuery,
    Provenance,
    Schema,
    Slug,
    Tag,
    Text,
    ThroughDay,
)
from app.core.vocab import ActorRole, Dataset, DatePrecision, EventStatus, EventType, RelationType
from app.locations.schemas import LocationRead

ATTRIBUTES_DESCRIPTION = (
    "What a dataset records about the event that is not a reported fact, under the dataset's "
    "own column names: its codes for the type (UCDP `type_of_violence`, ACLED "
    "`sub_event_type`, GDELT's CAMEO `EventCode` with PLOVER's mode and context), its "
    "precision codes (`date_prec`, `where_prec`), and coverage such as GDELT's `NumMentions` "
    "and `AvgTone`. Empty for an event of reporting."
)
AttributeName = Annotated[str, StringConstraints(min_length=1, max_length=60)]
AttributeValue = Annotated[str, StringConstraints(max_length=2000)] | int | float | bool | None


class EventActorCreate(Schema):
    """An actor's part in an event, as written in a bundle."""

    actor: Slug = Field(description="Actor id.", examples=["russia"])
    role: ActorRole = Field(description="The part the actor plays.", examples=["initiator"])


class RelationCreate(Schema):
    """A link to another event, as written in a bundle."""

    event: Slug = Field(description="The other event's id.")
    relation: RelationType = Field(description="This event <relation> the other.")


class EventDoc(Schema):
    """An event's own fields and links, without its claims: what the write path stores and
    history keeps."""

    id: Slug = Field(description="Stable id, never reused.", examples=["putin-xi-video-summit"])
    title: str = Field(min_length=1, max_length=500, description="Short headline.")
    summary: str | None = Field(default=None, description="What happened, paraphrased.")
    event_type: EventType = Field(description="PLOVER event category.")
    status: EventStatus = Field(description="What the reporting says of its reality.")
    start_date: Day | None = Field(default=None, description="First day; null if unknown.")
    end_date: Day | None = Field(default=None, description="Last day; null if unknown or same.")
    date_precision: DatePrecision = Field(description="How precisely the dates are known.")
    date_note: str | None = Field(default=None, description="Why the dates are what they are.")
    tags: list[Tag] = Field(default_factory=list, description="Free-form labels.")
    actors: list[EventActorCreate] = Field(default_factory=list, description="Who took part.")
    locations: list[Slug] = Field(default_factory=list, description="Location ids.")
    related: list[RelationCreate] = Field(default_factory=list, description="Links to events.")
    provenance: Provenance | None = Field(
        default=None,
        description="For an event imported from a dataset: the dataset, release and row; "
        "null for an event of reporting.",
    )
    attributes: dict[AttributeName, AttributeValue] = Field(
        default_factory=dict, max_length=100, description=ATTRIBUTES_DESCRIPTION
    )

    @model_validator(mode="after")
    def _dates(self) -> "EventDoc":
        check_dates(self.start_date, self.end_date, self.date_precision)
        return self


class EventCreate(EventDoc):
    """An event as written in a bundle, with the claims that support it."""

    claims: list[ClaimCreate] = Field(min_length=1, description="The evidence for the event.")


def check_dates(start: date | None, end: date | None, precision: DatePrecision) -> None:
    """Raise a FieldError naming the field at fault unless an event's dates and their
    precision agree."""
    if end is not None and start is None:
        raise FieldError("end_date", "end_date is given without a start_date; give both")
    if start and end and end < start:
        raise FieldError(
            "end_date", f"end_date ({end}) is before start_date ({start}); it must not be"
        )
    if start is None and precision is not DatePrecision.unknown:
        raise FieldError(
            "date_precision", "date_precision must be 'unknown' for an event without start_date"
        )
    if start is not None and precision is DatePrecision.unknown:
        raise FieldError(
            "date_precision", "date_precision must say how precise start_date is, not 'unknown'"
        )


class EventActorRead(Schema):
    """An actor as it appears in an event."""

    id: str = Field(description="Actor id.", examples=["vladimir-putin"])
    name: str = Field(description="Canonical name.", examples=["Vladimir Putin"])
    kind: str = Field(description="What sort of actor.", examples=["person"])
    role: ActorRole = Field(description="The part the actor plays.", examples=["participant"])


class EventRead(Schema):
    """An event with what a list view needs: actors, places, numbers and tags."""

    id: str = Field(description="Stable id, never reused.", examples=["putin-xi-video-summit"])
    title: str = Field(description="Short headline.", examples=["Putin and Xi hold video summit"])
    summary: str | None = Field(description="What happened, paraphrased from the sources.")
    event_type: EventType = Field(description="PLOVER event category.", examples=["CONSULT"])
    status: EventStatus = Field(description="What the reporting says of its reality.")
    start_date: date | None = Field(description="First day; null if unknown.")
    end_date: date | None = Field(description="Last day; equal to start_date for one-day events.")
    date_precision: DatePrecision = Field(description="How precisely the dates are known.")
    date_note: str | None = Field(description="Why the dates are what they are, when not plain.")
    tags: list[str] = Field(description="Free-form labels.", examples=[["russia-china"]])
    actors: list[EventActorRead] = Field(description="Who took part, and how.")
    locations: list[LocationRead] = Field(description="Where it happened.")
    quantities: list[QuantityRead] = Field(description="Numbers reported about it.")
    source_count: int = Field(
        default=0, description="How many different sources have claims about it."
    )
    provenance: Provenance | None = Field(
        default=None,
        description="The dataset, release and row the event was imported from; null for an "
        "event of reporting.",
    )
    attributes: dict[str, AttributeValue] = Field(
        default_factory=dict, description=ATTRIBUTES_DESCRIPTION
    )
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")


class FigureRead(Schema):
    """One source's figure for a quantity."""

    value: float = Field(description="The number in base units.")
    qualifier: str = Field(description="How the number bounds the true value.")
    as_reported: str | None = Field(description="The source's words.")
    claim_id: str = Field(description="The claim that reports it.")
    source_id: str = Field(description="The source of that claim.")


class FigureConflict(Schema):
    """Sources whose figures for one quantity cannot all be true."""

    label: str = Field(description="What is counted.")
    unit: str = Field(description="The unit.")
    figures: list[FigureRead] = Field(description="Every figure given for it, side by side.")


class RelatedEventRead(Schema):
    """Another event linked to this one."""

    id: str = Field(description="The other event's id.")
    title: str = Field(description="The other event's title.")
    relation: RelationType = Field(description="The link's type.")
    direction: str = Field(
        description="`outgoing`: this event <relation> the other; `incoming`: the other "
        "event <relation> this one.",
        examples=["outgoing"],
    )


class EventDetail(EventRead):
    """An event with its claims (the evidence) and its related events."""

    claims: list[ClaimRead] = Field(description="Every claim about the event, in source order.")
    related: list[RelatedEventRead] = Field(description="Linked events, both directions.")
    source_ids: list[str] = Field(description="The sources its claims come from.")
    figure_conflicts: list[FigureConflict] = Field(
        default_factory=list,
        description="Quantities for which sources give figures that cannot all be true (their "
        "ranges do not overlap); every figure is kept, with its source.",
    )


class EventPageMeta(PageMeta):
    """Paging information of an event list, and what its filters left out."""

    excluded_by_precision: int | None = Field(
        default=None, description="Matches left out by `precision` (only when it is given)."
    )


class EventPage(Schema):
    """A page of events."""

    data: list[EventRead | Projection] = Field(
        description="The events on this page, in the requested order (with `fields`, each "
        "holds just the fields asked for)."
    )
    meta: EventPageMeta = Field(description="Paging information.")


class EventSort(StrEnum):
    """Ordering of event lists."""

    newest = "-date"
    oldest = "date"


class DateFilterPrecision(StrEnum):
    """The least precise dating a `precision` filter keeps."""

    day = "day"
    month = "month"
    year = "year"


class Expand(StrEnum):
    """What an actor filter may expand to."""

    members = "members"


class ActorMatch(StrEnum):
    """How repeated `actor` parameters combine."""

    all = "all"
    any = "any"


class EventFilters(AsOfQuery):
    """The event filters every event list, statistic and network takes; repeated parameters
    are any-of, except `actor`."""

    actor: list[Text] = Field(
        default_factory=list,
        description="Actor id, name or alias (repeatable). Repeated values are all-of: events "
        "that involve every listed actor, in any role. Set `actor_match=any` for any-of. An "
        "unknown actor is a 422 naming it.",
        examples=[["vladimir-putin"]],
    )
    actor_match: ActorMatch = Field(
        default=ActorMatch.all, description="How repeated `actor` values combine: all or any."
    )
    start: FromDay | None = Field(
        default=None,
        description="A day (2026-02-05), a month (2026-02: from 1 February) or a year (2026: "
        "from 1 January). Events whose [start_date, end_date] interval overlaps [start, end] "
        "match; a missing end_date is a one-day event, or open-ended when the status is "
        "`ongoing`. Undated events never match a date filter.",
        examples=["2026-01-23"],
    )
    end: ThroughDay | None = Field(
        default=None,
        description="Inclusive: a day (2026-02-05), a month (2026-02: through its last day, "
        "28 February) or a year (2026: through 31 December); see `start`.",
        examples=["2026-02-05"],
    )
    type: list[EventType] = Field(
        default_factory=list, description="PLOVER event type (repeatable, any-of)."
    )
    status: list[EventStatus] = Field(
        default_factory=list, description="Reported status (repeatable, any-of)."
    )
    country: list[CountryCode] = Field(
        default_factory=list,
        description="ISO 3166-1 country code of a location of the event (repeatable, any-of).",
    )
    location: list[Text] = Field(
        default_factory=list,
        description="Location id or name (repeatable, any-of); unknown is a 422.",
        examples=[["kyiv"]],
    )
    source: list[Text] = Field(
        default_factory=list,
        description="Source id: events with a claim from it (repeatable, any-of).",
    )
    tag: list[Text] = Field(default_factory=list, description="Tag (repeatable, any-of).")
    dataset: list[Dataset | Literal["reporting"]] = Field(
        default_factory=list,
        description="Where the events come from (repeatable, any-of): a dataset they were "
        "imported from (`ucdp`, `gdelt`, `acled`), or `reporting` for the events of "
        "reporting (bundles, the write API).",
        examples=[["ucdp", "acled"]],
    )
    min_sources: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Only events that claims of at least this many different sources support.",
    )
    q: Text | None = Field(
        default=None,
        max_length=200,
        description='Search: words match as word prefixes and are AND-ed, `"exact phrase"` '
        'as typed, `OR` between alternatives, `-word` or `-"phrase"` excludes (an exclusion '
        "alone: every record without it); case and accents are ignored (`Zelenský` is "
        "`zelensky`). "
        "Over the title, the summary, the actors' names and aliases, and each claim's "
        "statement, quote, evidence text and speaker's name and aliases. A query without a "
        "word matches nothing. The README's Search section has the rest.",
        examples=["ceasefire", '"video summit" OR kyiv', "putin -xi"],
    )
    bbox: Text | None = Field(
        default=None,
        description="min_lon,min_lat,max_lon,max_lat (WGS84): events with a located place "
        "inside the box. min_lon > max_lon crosses the antimeridian.",
        examples=["22,44,41,53"],
    )
    exclude_centroids: bool = Field(
        default=False,
        description="Leave out places located only by a country, continent or region "
        "centroid (a dataset's first-order division), in `bbox` matching and in GeoJSON "
        "geometry.",
    )
    precision: DateFilterPrecision | None = Field(
        default=None,
        description="Only events dated at least this precisely (day ⊂ month ⊂ year); "
        "`meta.excluded_by_precision` says how many matches it left out.",
    )
    expand: Expand | None = Field(
        default=None,
        description="`members`: an `actor` also matches events of its members and office "
        "holders (its affiliations, one level deep) during their membership; a membership "
        "or an event without dates is not excluded by the period.",
    )

    @field_validator("bbox")
    @classmethod
    def _valid_bbox(cls, value: str | None) -> str | None:
        if value is not None:
            parse_bbox(value)
        return value

    def bbox_values(self) -> tuple[float, float, float, float] | None:
        """The bounding box as numbers, when one was given."""
        return parse_bbox(self.bbox) if self.bbox is not None else None

    def narrowed(self) -> bool:
        """Whether a filter other than the actors, the dates and `q` narrows the events:
        what decides whether a rollup, a prepared statement or the search rows alone can
        answer."""
        others = (self.type, self.status, self.country, self.location, self.source, self.tag)
        if any(others) or self.dataset or self.min_sources is not None:
            return True
        return self.bbox is not None or self.precision is not None


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """min_lon,min_lat,max_lon,max_lat within WGS84 ranges, with min_lat <= max_lat."""
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in value.split(","))
    except ValueError as exc:
        raise ValueError("bbox must be four numbers: min_lon,min_lat,max_lon,max_lat") from exc
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        raise ValueError("bbox numbers must be finite")
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise ValueError("bbox longitudes must lie in [-180, 180]")
    if not (-90 <= min_lat <= max_lat <= 90):
        raise ValueError("bbox latitudes must lie in [-90, 90] with min_lat <= max_lat")
    return min_lon, min_lat, max_lon, max_lat


class EventQuery(PageQuery, EventFilters):
    """Query parameters of event lists: the filters, paging, output and order."""

    sort: EventSort = Field(
        default=EventSort.newest,
        description="`-date` newest first (default) or `date` oldest first, by start_date; "
        "undated events come last, then ties break on id.",
    )


class Point(Schema):
    """A GeoJSON Point (RFC 7946): one located place."""

    type: Literal["Point"] = Field(description="Always `Point`.")
    coordinates: list[float] = Field(
        min_length=2, max_length=2, description="Longitude and latitude (WGS 84), in that order."
    )


class MultiPoint(Schema):
    """A GeoJSON MultiPoint (RFC 7946): every located place of an event."""

    type: Literal["MultiPoint"] = Field(description="Always `MultiPoint`.")
    coordinates: list[list[float]] = Field(
        description="Longitude and latitude (WGS 84) of each place, in the event's order."
    )


class EventFeature(Schema):
    """An event as a GeoJSON Feature: its located places, and the event as properties."""

    type: Literal["Feature"] = Field(description="Always `Feature`.")
    id: str = Field(description="The event's id.", examples=["putin-xi-video-summit"])
    geometry: Point | MultiPoint = Field(
        description="A Point for one located place, a MultiPoint for several."
    )
    properties: EventRead | Projection = Field(
        description="The event as the JSON list shows it (with `fields`, just those fields)."
    )


class EventGeoMeta(EventPageMeta):
    """Paging information of a GeoJSON event list, and the events it could not place."""

    excluded_without_coordinates: int = Field(
        description="Matching events (of this page, or of the whole export) left out because "
        "none of their places has coordinates (or, with `exclude_centroids`, only centroids)."
    )


class EventFeatureCollection(Schema):
    """Events as a GeoJSON FeatureCollection (RFC 7946), with the list's paging information."""

    type: Literal["FeatureCollection"] = Field(description="Always `FeatureCollection`.")
    features: list[EventFeature] = Field(description="The events that have coordinates.")
    meta: EventGeoMeta = Field(description="Paging information (a foreign member of GeoJSON).")
