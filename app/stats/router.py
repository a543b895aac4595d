"""HTTP routes of the analytics endpoints."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth.deps import check_reader
from app.core.errors import problem_responses
from app.stats import service
from app.stats.schemas import (
    Network,
    NetworkQuery,
    PlaceFeatureCollection,
    PlaceRow,
    Places,
    PlacesQuery,
    QuantityQuery,
    QuantityRow,
    QuantitySums,
    Summary,
    SummaryQuery,
    Timeline,
    TimelineQuery,
    TimelineRow,
)
from app.web import formats
from app.web.deps import ReadSessionDep
from app.web.exports import add_exports
from app.web.http_cache import record_data_version

router = APIRouter(
    tags=["analytics"], dependencies=[Depends(record_data_version), Depends(check_reader)]
)

TABLE_FORMATS = formats.LIST_FORMATS
PLACE_FORMATS = TABLE_FORMATS | {formats.Format.geojson}


def _table(
    request: Request,
    fmt: formats.Format | None,
    rows: list[dict[str, object]],
    meta: dict[str, object],
) -> Response:
    chosen = formats.negotiate(request, fmt, TABLE_FORMATS)
    return formats.render(chosen, rows, meta, None, {}, None)


@router.get(
    "/v1/stats/timeline",
    summary="Event counts per period",
    response_model=Timeline,
    responses=problem_responses(406, 422) | formats.alternative_media(TABLE_FORMATS),
)
def timeline(
    session: ReadSessionDep, request: Request, query: Annotated[TimelineQuery, Query()]
) -> Response:
    """How many matching events overlap each day, ISO week (Monday first), month or year,
    with every event filter of GET /v1/events.

    An event spanning several periods counts in each period it overlaps, so the counts can add
    up to more than `meta.total`; an ongoing event without an end counts up to the last period.
    Empty periods inside the range are present with count 0. The range is `start`..`end`
    when given, else the matching events' span. Undated events are in `meta.total` and
    `meta.undated`, never in a period. `group_by` splits each period into series.
    CSV and NDJSON give one row per period (series as `series_<key>` columns in CSV).
    """
    result = service.timeline(session, query)
    rows = [row.model_dump(mode="json", exclude_none=True) for row in result.data]
    return _table(request, query.format, rows, result.meta.model_dump(mode="json"))


add_exports(
    router,
    "/v1/stats/timeline",
    timeline,
    formats=TABLE_FORMATS,
    item=TimelineRow,
    summary="Event counts per period",
    paged=False,
    responses=problem_responses(422),
)


@router.get(
    "/v1/stats/places",
    summary="Event counts per place",
    response_model=Places,
    responses=problem_responses(406, 422) | formats.alternative_media(PLACE_FORMATS),
)
def places(
    session: ReadSessionDep, request: Request, query: Annotated[PlacesQuery, Query()]
) -> Response:
    """How many matching events each place with coordinates locates, with every event
    filter of GET /v1/events: what a map draws instead of one feature per event.

    A place's `events` is the `meta.total` of GET /v1/events with the same filters and
    `location` set to it. An event at two places counts at each, so the counts can add up to
    more than `meta.events` less `meta.without_coordinates`, the matching events that no
    place with coordinates locates. The filters choose events: every located place of a
    chosen event is counted, also one outside `bbox`; `exclude_centroids` leaves country and
    continent centroids out of the places (an event only they locate is then without
    coordinates). `limit` keeps the places with most events (ties by id); `meta` says how
    many places and how many of their counts it left out.

    Formats: JSON; CSV and NDJSON (one row per place); GeoJSON (a FeatureCollection of one
    Point per place, the row as its properties, the totals as the foreign member `meta`).
    """
    result = service.places(session, query)
    rows = [row.model_dump(mode="json") for row in result.data]
    meta = result.meta.model_dump(mode="json")
    chosen = formats.negotiate(request, query.format, PLACE_FORMATS)
    if chosen is formats.Format.geojson:
        excluded = result.meta.without_coordinates
        response = formats.point_collection(
            rows, meta, excluded, key="location_id", lon="lon", lat="lat"
        )
    else:
        columns = formats.csv_columns(PlaceRow, None)
        response = formats.render(chosen, rows, meta, None, {}, columns, model=PlaceRow)
    response.headers["X-Total-Count"] = str(result.meta.events)
    return response


add_exports(
    router,
    "/v1/stats/places",
    places,
    formats=PLACE_FORMATS,
    item=PlaceRow,
    summary="Event counts per place",
    paged=False,
    responses=problem_responses(422),
    geojson_model=PlaceFeatureCollection,
)


@router.get(
    "/v1/stats/summary",
    summary="Header numbers of the filtered events",
    response_model=Summary,
    responses=problem_responses(422),
)
def summary(session: ReadSessionDep, query: Annotated[SummaryQuery, Query()]) -> Summary:
    """Totals, the date span covered, and counts by type, status, country and top actors, for
    the events matching every given filter of GET /v1/events."""
    return service.summary(session, query)


@router.get(
    "/v1/stats/quantities",
    summary="Reported quantities summed per period",
    response_model=QuantitySums,
    responses=problem_responses(406, 422) | formats.alternative_media(TABLE_FORMATS),
)
def quantities(
    session: ReadSessionDep, request: Request, query: Annotated[QuantityQuery, Query()]
) -> Response:
    """Sums of reported figures per period, label and unit, carried as ranges: "over 30" and
    "up to 40" add up to [30, open), not to a number. `meta.method` states the rules."""
    result = service.quantities(session, query)
    rows = [row.model_dump(mode="json") for row in result.data]
    return _table(request, query.format, rows, result.meta.model_dump(mode="json"))


add_exports(
    router,
    "/v1/stats/quantities",
    quantities,
    formats=TABLE_FORMATS,
    item=QuantityRow,
    summary="Reported quantities summed per period",
    paged=False,
    responses=problem_responses(422),
)


@router.get(
    "/v1/network",
    summary="Actor network",
    response_model=Network,
    responses=problem_responses(422),
)
def network(session: ReadSessionDep, query: Annotated[NetworkQuery, Query()]) -> Response:
    """Actors of the matching events as nodes, and pairs of actors as edges weighted by their
    shared events (the count `GET /v1/events?actor=a&actor=b` gives for the same filters). In
    `directed` mode edges run from initiator to target."""
    # Built as its JSON (from stored rows the write path checked): validating a large
    # network again as the response model cost more than building it.
    return Response(service.network(session, query), media_type="application/json")
