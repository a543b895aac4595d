"""Pydantic schemas of the analytics endpoints."""

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from app.core.schemas import Schema, Text
from app.core.vocab import CoordinatePrecision
from app.events.schemas import EventFilters, Point
from app.web.formats import Format


class Interval(StrEnum):
    """Calendar periods of a timeline (ISO weeks start on Monday)."""

    day = "day"
    week = "week"
    month = "month"
    year = "year"


class GroupBy(StrEnum):
    """What a timeline's periods can be split by."""

    type = "type"
    status = "status"
    actor = "actor"
    country = "country"


class TimelineQuery(EventFilters):
    """Query parameters of GET /v1/stats/timeline: every event filter, plus the periods."""

    interval: Interval = Field(default=Interval.month, description="Period length.")
    group_by: GroupBy | None = Field(
        default=None,
        description="Split each period into series: by event type, status, actor or country "
        "(of the event's places). An event with two actors or countries counts in both series.",
    )
    series_limit: int = Field(
        default=10, ge=1, le=100, description="Most series kept (the largest overall)."
    )
    format: Format | None = Field(
        default=None, description="json (default), csv or ndjson; overrides Accept."
    )


class TimelineRow(Schema):
    """One period of a timeline."""

    period_start: date = Field(description="First day of the period.")
    period_end: date = Field(description="Last day of the period.")
    count: int = Field(description="Events overlapping the period (each counted once).")
    series: dict[str, int] | None = Field(
        default=None, description="Counts per series, when `group_by` is given."
    )


class TimelineMeta(Schema):
    """What a timeline covers."""

    interval: Interval = Field(description="Period length.")
    group_by: GroupBy | None = Field(description="The series split, if any.")
    start: date | None = Field(description="First day covered; null when nothing is dated.")
    end: date | None = Field(description="Last day covered; null when nothing is dated.")
    total: int = Field(description="Events matching the filters: the /v1/events total.")
    undated: int = Field(description="Matching events with no date, which no period shows.")
    series: list[str] = Field(description="The series keys, largest first.")
    series_omitted: int = Field(description="Series left out by `series_limit`.")


class Timeline(Schema):
    """Event counts per period, empty periods included."""

    data: list[TimelineRow] = Field(description="One row per period, oldest first.")
    meta: TimelineMeta = Field(description="What the timeline covers.")


class Count(Schema):
    """A key and how many events have it."""

    key: str = Field(description="The value counted (a type, status, country or actor id).")
    name: str | None = Field(
        default=None,
        description="Display name: an actor's name, or a country's English short name "
        "(ISO 3166-1); null for types and statuses.",
    )
    count: int = Field(description="Matching events with it.")


class Summary(Schema):
    """The numbers a dashboard's header shows, for the filtered events."""

    total: int = Field(description="Matching events.")
    undated: int = Field(description="Matching events without a date.")
    first_date: date | None = Field(description="Earliest start_date among them.")
    last_date: date | None = Field(description="Latest end (or start) date among them.")
    claims: int = Field(
        description="Claims about the matching events (a claim counts once, under its event). "
        "Claims about no event (a source's general statements) are not among them: see "
        "`claims_without_event`."
    )
    claims_without_event: int = Field(
        description="Claims that are about no event, which no event filter matches; with no "
        "filter, `claims` plus this is every claim."
    )
    sources: int = Field(description="Distinct sources of the claims counted in `claims`.")
    by_type: list[Count] = Field(description="Counts per PLOVER type, largest first.")
    by_status: list[Count] = Field(description="Counts per status, largest first.")
    by_country: list[Count] = Field(description="Counts per country of their places.")
    top_actors: list[Count] = Field(description="Actors in most of them, largest first.")


class SummaryQuery(EventFilters):
    """Query parameters of GET /v1/stats/summary."""

    top: int = Field(default=10, ge=1, le=100, description="How many top actors to list.")


class QuantityQuery(EventFilters):
    """Query parameters of GET /v1/stats/quantities."""

    label: list[Text] = Field(
        default_factory=list,
        description="Quantity label, case-insensitive (repeatable); all labels when absent.",
        examples=[["drones used"]],
    )
    unit: list[Text] = Field(default_factory=list, description="Unit (repeatable).")
    interval: Interval = Field(default=Interval.year, description="Period length.")
    format: Format | None = Field(
        default=None, description="json (default), csv or ndjson; overrides Accept."
    )


class QuantityRow(Schema):
    """The reported figures of one label and unit, summed over one period."""

    period_start: date = Field(description="First day of the period.")
    period_end: date = Field(description="Last day of the period.")
    label: str = Field(description="What is counted.")
    unit: str = Field(description="Unit of the figures.")
    events: int = Field(description="Events reporting a figure for it in the period.")
    low: float = Field(description="Sum of the lower bounds (an open lower bound counts 0).")
    high: float | None = Field(description="Sum of the upper bounds; null when any is open.")
    conflicting: int = Field(
        description="Events whose sources give figures that cannot all be true."
    )


class QuantityMeta(Schema):
    """What a quantity sum covers and how it was computed."""

    interval: Interval = Field(description="Period length.")
    total: int = Field(description="Events matching the filters.")
    undated: int = Field(description="Matching events without a date, left out of periods.")
    undated_figures: int = Field(
        description="Figures (of the labels and units asked for) that matching events without "
        "a start date report. No period can hold them, so every sum leaves them out; "
        "`GET /v1/quantities` with the same filters lists them, each with its event."
    )
    undated_figure_events: int = Field(
        description="How many events those left-out figures are about."
    )
    method: str = Field(description="How figures are combined.")


class QuantitySums(Schema):
    """Reported quantities summed per period, as ranges."""

    data: list[QuantityRow] = Field(description="One row per period and label, oldest first.")
    meta: QuantityMeta = Field(description="What the sums cover.")


class NetworkMode(StrEnum):
    """Which edges a network has."""

    cooccurrence = "cooccurrence"
    directed = "directed"


class NetworkQuery(EventFilters):
    """Query parameters of GET /v1/network."""

    mode: NetworkMode = Field(
        default=NetworkMode.cooccurrence,
        description="`cooccurrence`: an undirected edge per pair of actors sharing events, "
        "weighted by how many. `directed`: an edge initiator → target per pair, weighted by "
        "the events in which the source initiated and the target was targeted.",
    )
    min_weight: int = Field(default=1, ge=1, description="Leave out lighter edges.")
    node_limit: int = Field(
        default=50, ge=1, le=1000, description="Keep the actors in most events, at most this many."
    )


class NetworkNode(Schema):
    """An actor in the network."""

    id: str = Field(description="Actor id.")
    name: str = Field(description="Canonical name.")
    kind: str = Field(description="What sort of actor.")
    events: int = Field(description="Matching events it takes part in.")


class NetworkEdge(Schema):
    """A link between two actors."""

    source: str = Field(description="Actor id (the initiator, when directed).")
    target: str = Field(description="Actor id (the target, when directed).")
    weight: int = Field(description="Shared events (directed: initiator → target events).")
    directed: bool = Field(description="Whether the edge has a direction.")
    types: dict[str, int] = Field(description="The shared events per PLOVER type.")
    first_date: date | None = Field(description="Earliest start_date of the shared events.")
    last_date: date | None = Field(description="Latest end (or start) date of them.")


class NetworkMeta(Schema):
    """What the network covers."""

    mode: NetworkMode = Field(description="Which edges.")
    total_events: int = Field(description="Events matching the filters.")
    nodes_omitted: int = Field(description="Actors left out by `node_limit`.")
    isolated_omitted: int = Field(
        default=0,
        description="Actors within `node_limit` left out because no edge of at least "
        "`min_weight` reaches them; always 0 when `min_weight` is 1, where an actor without "
        "a co-actor is kept.",
    )


class Network(Schema):
    """The actor graph of the filtered events."""

    nodes: list[NetworkNode] = Field(description="Actors, most events first.")
    edges: list[NetworkEdge] = Field(description="Links among those actors, heaviest first.")
    meta: NetworkMeta = Field(description="Mode, totals and what was left out.")


class PlacesQuery(EventFilters):
    """Query parameters of GET /v1/stats/places: every event filter, plus how many places."""

    limit: int = Field(
        default=2000,
        ge=1,
        le=10000,
        description="Most places returned, those with most events first (ties by id); "
        "`meta.omitted_places` and `meta.omitted_events` count what it leaves out.",
    )
    format: Format | None = Field(
        default=None, description="json (default), csv, ndjson or geojson; overrides Accept."
    )


class PlaceRow(Schema):
    """One place with coordinates and how many matching events it locates."""

    location_id: str = Field(description="The location's id.", examples=["kyiv"])
    name: str = Field(description="The place name as reported.", examples=["Kyiv"])
    country: str | None = Field(
        description="ISO 3166-1 alpha-3 country, as the location stores it.", examples=["UKR"]
    )
    lat: float = Field(description="WGS84 latitude (gazetteer enrichment).", examples=[50.45466])
    lon: float = Field(description="WGS84 longitude (gazetteer enrichment).", examples=[30.5238])
    precision: CoordinatePrecision = Field(
        description="What the coordinates stand for, as the location's `precision`: "
        "`country_centroid` and `continent_centroid` mark the centre of a country or "
        "continent, not where anything happened.",
        examples=["city"],
    )
    events: int = Field(
        description="Matching events at this place: the `meta.total` of GET /v1/events with "
        "the same filters and `location` set to this id. An event at two places counts at "
        "each."
    )


class PlacesMeta(Schema):
    """What the place counts cover and what `limit` left out."""

    events: int = Field(description="Events matching the filters: the /v1/events total.")
    places: int = Field(
        description="Distinct places with coordinates of the matching events (before `limit`; "
        "with `exclude_centroids`, centroids are not among them)."
    )
    omitted_places: int = Field(description="Places left out by `limit`.")
    omitted_events: int = Field(
        description="The `events` of the places left out by `limit`, summed: an event at a "
        "kept and an omitted place counts here too, an event at two omitted places twice."
    )
    without_coordinates: int = Field(
        description="Matching events that no place with coordinates locates (with "
        "`exclude_centroids`, none but a centroid): in `events`, at no place of `data`."
    )


class Places(Schema):
    """Matching events counted per place, for a map."""

    data: list[PlaceRow] = Field(description="One row per place, most events first, then by id.")
    meta: PlacesMeta = Field(description="Totals, and what `limit` left out.")


class PlacesGeoMeta(PlacesMeta):
    """The place counts' totals in a GeoJSON answer."""

    excluded_without_coordinates: int = Field(
        description="`without_coordinates` under the name every GeoJSON answer gives it: "
        "matching events that no feature shows for want of coordinates."
    )


class PlaceFeature(Schema):
    """A place as a GeoJSON Feature: its Point, and the place's row as properties."""

    type: Literal["Feature"] = Field(description="Always `Feature`.")
    id: str = Field(description="The location's id.", examples=["kyiv"])
    geometry: Point = Field(description="The place's coordinates.")
    properties: PlaceRow = Field(description="The place's row, as the JSON answer has it.")


class PlaceFeatureCollection(Schema):
    """Places as a GeoJSON FeatureCollection (RFC 7946), with the totals."""

    type: Literal["FeatureCollection"] = Field(description="Always `FeatureCollection`.")
    features: list[PlaceFeature] = Field(description="One Point per place, most events first.")
    meta: PlacesGeoMeta = Field(description="Totals, and what `limit` left out (a foreign member).")
