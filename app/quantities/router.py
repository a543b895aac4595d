"""HTTP routes of reported figures."""

from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth.deps import check_reader
from app.core.errors import problem_responses
from app.quantities import service
from app.quantities.schemas import (
    QuantityFeatureCollection,
    QuantityItem,
    QuantityListQuery,
    QuantityPage,
)
from app.web import formats
from app.web.deps import ReadSessionDep
from app.web.exports import add_exports
from app.web.http_cache import record_data_version

router = APIRouter(
    prefix="/v1/quantities",
    tags=["quantities"],
    dependencies=[Depends(record_data_version), Depends(check_reader)],
)


@router.get(
    "",
    summary="List reported figures",
    response_model=QuantityPage,
    responses=problem_responses(406, 422) | formats.alternative_media(formats.EVENT_FORMATS),
)
def list_quantities(
    session: ReadSessionDep, request: Request, query: Annotated[QuantityListQuery, Query()]
) -> Response:
    """Every number a claim reports, one row each, dated or not: its label, value and unit,
    the qualifier and the bounds it implies (`low`, `high`, open when null), the source's
    words, the claim, source and event it comes from, and the event's dates and places.
    In source order (by source, then position in its text), keyset-paginated like every
    list.

    Every event filter of `GET /v1/events` applies to the figures' events; with none, the
    figures of claims about no event are listed too. `source` selects the figures a source
    reports, and `label`, `unit` and `qualifier` the figures themselves. Where
    `GET /v1/stats/quantities` sums figures per period and must leave out those of undated
    events (its `meta.undated_figures`), this list has them all.

    Formats (`format=` or `Accept`): JSON; CSV (one row per figure); NDJSON; GeoJSON (a
    Feature per figure at its event's located places; the others are counted in the
    `X-Excluded-Without-Coordinates` header and `meta`). `limit=all` streams every match;
    `Prefer: count=…` counts as for events."""

    count = formats.count_preference(request)

    def page(limit: int) -> tuple[list[dict[str, Any]], int | None, str | None, dict[str, Any]]:
        return service.get_all(session, query, limit, count)

    def export(fmt: formats.Format) -> tuple[int, dict[str, int], Iterator[dict[str, Any]]]:
        return service.export(session, query, fmt is formats.Format.geojson)

    precisions = {"point", "city", "region"} if query.exclude_centroids else None
    return formats.list_response(
        request,
        query,
        model=QuantityItem,
        allowed=formats.EVENT_FORMATS,
        page=page,
        export=export,
        geo=partial(formats.geometry, allowed_precisions=precisions),
    )


add_exports(
    router,
    "",
    list_quantities,
    formats=formats.EVENT_FORMATS,
    item=QuantityItem,
    summary="List reported figures",
    responses=problem_responses(422),
    geojson_model=QuantityFeatureCollection,
)
