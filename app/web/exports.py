"""One operation per format: `GET /v1/events.csv` beside `GET /v1/events?format=csv`.

A list answers JSON, CSV, NDJSON and (for events) GeoJSON at one URL, chosen by `format=` or
Accept. An OpenAPI operation can list those media types, but a client generated from it
parses every 200 with the first one (the page's JSON), so a CSV or a GeoJSON answer breaks
it. Each format therefore also has an operation of its own, at the list's path with the
format's extension: same parameters (but `format`), same answer, one media type. `format=`
and Accept keep working on the list itself; app.web.openapi describes both from `EXPORTS`.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from app.core.errors import InvalidParameter
from app.core.schemas import Format
from app.web.formats import MEDIA_TYPES

EXTENSIONS = {Format.csv: "csv", Format.ndjson: "ndjson", Format.geojson: "geojson"}
TITLES = {Format.csv: "CSV", Format.ndjson: "NDJSON", Format.geojson: "GeoJSON"}


@dataclass(frozen=True)
class Export:
    """A list's operation for one format."""

    base: str  # the list's own path
    fmt: Format
    item: type[BaseModel]  # what one row, line or feature's properties is
    paged: bool  # keyset-paginated (a Link header, a cursor), or one answer for everything
    geojson: type[BaseModel] | None = None  # the FeatureCollection a GeoJSON answer is


# The full path of each export operation -> what it exports.
EXPORTS: dict[str, Export] = {}


def _response_class(fmt: Format) -> type[Response]:
    """A Response class whose media type is the format's (what the document lists)."""
    return type(f"{TITLES[fmt]}Response", (Response,), {"media_type": MEDIA_TYPES[fmt]})


def _fixed(endpoint: Callable[..., Response], fmt: Format) -> Callable[..., Response]:
    """The list's endpoint with the format given by the path: the same parameters (FastAPI
    reads them through `__wrapped__`), `format` set before it runs."""

    @wraps(endpoint)
    def answer(**kwargs: Any) -> Response:
        query = kwargs["query"]
        if query.format is not None and query.format is not fmt:
            raise InvalidParameter(
                f"this URL answers {fmt.value}; drop format={query.format.value} or use the "
                "list's own URL",
                param="format",
            )
        kwargs["query"] = query.model_copy(update={"format": fmt})
        return endpoint(**kwargs)

    return answer


def add_exports(
    router: APIRouter,
    path: str,
    endpoint: Callable[..., Response],
    *,
    formats: frozenset[Format],
    item: type[BaseModel],
    summary: str,
    paged: bool = True,
    responses: dict[int | str, dict[str, Any]] | None = None,
    geojson_model: type[BaseModel] | None = None,
) -> None:
    """Declare the export operations of the list at `path` (relative to the router's
    prefix), one per non-JSON format it offers."""
    for fmt in sorted(formats - {Format.json}):
        full = f"{router.prefix}{path}.{EXTENSIONS[fmt]}"
        geo = geojson_model if fmt is Format.geojson else None
        EXPORTS[full] = Export(f"{router.prefix}{path}", fmt, item, paged, geo)
        router.add_api_route(
            f"{path}.{EXTENSIONS[fmt]}",
            _fixed(endpoint, fmt),
            methods=["GET"],
            name=f"{endpoint.__name__}_{fmt.value}",
            summary=f"{summary} as {TITLES[fmt]}",
            description=f"`GET {router.prefix}{path}?format={fmt.value}` as an operation of "
            f"its own, so that a generated client reads the answer as {TITLES[fmt]}: every "
            "parameter of the list but `format`, the same answer. "
            + inspect.cleandoc(endpoint.__doc__ or ""),
            response_class=_response_class(fmt),
            response_model=geo,
            responses=responses,
        )
