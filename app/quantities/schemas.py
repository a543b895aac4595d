"""Pydantic schemas of the reported-figures list."""

from datetime import date
from typing import Literal

from pydantic import Field

from app.claims.schemas import QuantityRead
from app.core.pagination import PageMeta, Projection
from app.core.schemas import Format, PageQuery, Schema, Text
from app.core.vocab import DatePrecision, Hedging, Qualifier
from app.events.schemas import EventFilters, MultiPoint, Point
from app.locations.schemas import LocationRead


class QuantityItem(QuantityRead):
    """One reported figure: the number, how it bounds the true value, the claim and source
    it comes from, and the event it is about (dated or not)."""

    source_id: str = Field(
        description="The source of the claim that reports it.", examples=["putin-roundup-article"]
    )
    hedging: Hedging = Field(description="How firmly the source puts the claim.")
    event_title: str | None = Field(description="The event's title; null when it has no event.")
    start_date: date | None = Field(
        description="The event's first day; null when the event is undated (or there is none)."
    )
    end_date: date | None = Field(description="The event's last day; null if unknown or none.")
    date_precision: DatePrecision | None = Field(
        description="How precisely the event's dates are known; null when there is no event."
    )
    locations: list[LocationRead] = Field(description="Where the event happened.")


class QuantityPageMeta(PageMeta):
    """Paging information of the figures list, and what its filters left out."""

    excluded_by_precision: int | None = Field(
        default=None,
        description="Figures left out by `precision` (their events dated less precisely); "
        "only when it is given.",
    )


class QuantityPage(Schema):
    """A page of reported figures."""

    data: list[QuantityItem | Projection] = Field(
        description="The figures on this page, in source order (with `fields`, each holds just "
        "the fields asked for)."
    )
    meta: QuantityPageMeta = Field(description="Paging information.")


class QuantityListQuery(PageQuery, EventFilters):
    """Query parameters of GET /v1/quantities: every event filter, and the figures' own."""

    source: list[Text] = Field(
        default_factory=list,
        description="Source id: the figures that source's claims report (repeatable, any-of). "
        "Here it selects figures, not events: another source's figure for the same event is "
        "not its figure.",
    )
    label: list[Text] = Field(
        default_factory=list,
        description="What is counted, case-insensitive (repeatable, any-of).",
        examples=[["drones used"]],
    )
    unit: list[Text] = Field(default_factory=list, description="Unit (repeatable, any-of).")
    qualifier: list[Qualifier] = Field(
        default_factory=list, description="How the figure bounds the true value (repeatable)."
    )
    format: Format | None = Field(
        default=None,
        description="Output format: json, csv, ndjson or geojson (a Feature per figure at its "
        "event's places). Overrides the Accept header, for links pasted into a browser.",
    )


class QuantityFeature(Schema):
    """A figure as a GeoJSON Feature: its event's located places, the figure as properties."""

    type: Literal["Feature"] = Field(description="Always `Feature`.")
    id: str = Field(description="The figure's id.")
    geometry: Point | MultiPoint = Field(
        description="A Point for one located place of its event, a MultiPoint for several."
    )
    properties: QuantityItem | Projection = Field(
        description="The figure as the JSON list shows it (with `fields`, just those fields)."
    )


class QuantityGeoMeta(QuantityPageMeta):
    """Paging information of a GeoJSON figures list, and the figures it could not place."""

    excluded_without_coordinates: int = Field(
        description="Matching figures (of this page, or of the whole export) left out because "
        "none of their event's places has coordinates (or, with `exclude_centroids`, only "
        "centroids), or they have no event."
    )


class QuantityFeatureCollection(Schema):
    """Figures as a GeoJSON FeatureCollection (RFC 7946), with the list's paging information."""

    type: Literal["FeatureCollection"] = Field(description="Always `FeatureCollection`.")
    features: list[QuantityFeature] = Field(description="The figures that have coordinates.")
    meta: QuantityGeoMeta = Field(description="Paging information (a foreign member of GeoJSON).")
