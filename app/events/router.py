"""HTTP routes of events: validate the request, call the service, shape the response."""

from collections.abc import Callable, Iterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.auth.deps import check_reader
from app.core.db import DriverRead
from app.core.errors import problem_responses
from app.core.schemas import Text
from app.events import prepared, service
from app.events.schemas import (
    EventDetail,
    EventFeatureCollection,
    EventPage,
    EventQuery,
    EventRead,
)
from app.web import formats
from app.web.deps import ReadSessionDep, in_session
from app.web.exports import add_exports
from app.web.http_cache import record_data_version, record_response, record_version
from app.web.reads import Read, ToSession

router = APIRouter(
    prefix="/v1/events",
    tags=["events"],
    dependencies=[Depends(record_data_version), Depends(check_reader)],
)

EventId = Annotated[
    Text,
    Path(description="Event id.", examples=["putin-xi-video-summit"], max_length=160),
]


def event_list(session: ReadSessionDep, request: Request, query: EventQuery) -> Response:
    """Answer an event list request in the negotiated format (a page or an export)."""

    count = formats.count_preference(request)

    def page(limit: int) -> tuple[list[str], int | None, str | None, dict[str, Any]]:
        return service.get_all(session, query, limit, count)

    def export(fmt: formats.Format) -> tuple[int, dict[str, int], Iterator[str]]:
        return service.export(session, query, fmt is formats.Format.geojson)

    def csv_export() -> tuple[int, dict[str, int], Iterator[str]]:
        return service.export_csv(session, query)

    return _respond(request, query, page, export, csv_export)


def _respond(
    request: Request,
    query: EventQuery,
    page: Callable[[int], prepared.Page],
    export: Callable[[formats.Format], tuple[int, dict[str, int], Iterator[str]]],
    csv_export: Callable[[], tuple[int, dict[str, int], Iterator[str]]] | None = None,
) -> Response:
    precisions = None
    if query.exclude_centroids:
        precisions = {"point", "city", "region"}
    return formats.list_response(
        request,
        query,
        model=EventRead,
        allowed=formats.EVENT_FORMATS,
        page=page,
        export=export,
        geo=partial(formats.geometry, allowed_precisions=precisions),
        csv_export=csv_export,
    )


@router.get(
    "",
    summary="List events",
    response_model=EventPage,
    responses=problem_responses(406, 422) | formats.alternative_media(formats.EVENT_FORMATS),
)
def list_events(
    session: ReadSessionDep, request: Request, query: Annotated[EventQuery, Query()]
) -> Response:
    """Events matching every given filter, newest first, keyset-paginated.

    Each event carries its actors (with roles), locations and quantities. `meta.total`
    counts all matches; follow `meta.next_cursor` (or the `Link: rel="next"` header) for the
    next page. Undated events are excluded whenever `start` or `end` is given.

    Formats (`format=` or `Accept`): JSON; CSV (one row per event, lists joined by `;`,
    quantities as `label=value`); NDJSON (one event per line); GeoJSON (a FeatureCollection of
    the events that have coordinates; the others are counted in the
    `X-Excluded-Without-Coordinates` header and `meta`). `limit=all` streams every match.

    Counting: `meta.total` is exact by default, read off the rollups when the filters are
    dates and at most one actor. A `Prefer: count=planned` header takes PostgreSQL's planner
    estimate instead, `count=estimated` counts exactly up to 10,000 matches and estimates
    beyond, and `count=none` skips the count (`total` is null); `Preference-Applied` and
    `meta.count` say what was done.
    """
    return event_list(session, request, query)


add_exports(
    router,
    "",
    list_events,
    formats=formats.EVENT_FORMATS,
    item=EventRead,
    summary="List events",
    responses=problem_responses(422),
    geojson_model=EventFeatureCollection,
)


@router.get(
    "/{event_id}",
    summary="Get one event with its evidence",
    response_model=EventDetail,
    responses=problem_responses(404, 422),
)
async def get_event(session: ReadSessionDep, event_id: EventId) -> Response:
    """The event with every claim about it (statement, quote, speaker, hedging, evidence span
    and text) and its related events in both directions."""
    # One primary-key statement: on SQLite it runs on the event loop (see `in_session`).
    return record_response(*await in_session(session, event_detail, session, event_id))


def event_detail(session: Session, event_id: str) -> tuple[bytes, int]:
    """The event as its detail shows it (its stored documents), and the event's version."""
    return service.detail(session, event_id)


def _read_list(session: Session, request: Request, query: EventQuery) -> Response:
    return event_list(session, request, query)


def _driver_list(reader: DriverRead, request: Request, query: EventQuery) -> Response:
    """A page of the shapes prepared statements answer (`prepared.quick`); an actor that is
    not an id on record (a name, an alias, unknown) goes to the planner, on a session."""
    count = formats.count_preference(request)

    def page(limit: int) -> prepared.Page:
        answered = prepared.page(reader, query, limit, count)
        if answered is None:
            raise ToSession
        return answered

    def export(fmt: formats.Format) -> tuple[int, dict[str, int], Iterator[str]]:
        raise ToSession  # never: `prepared.quick` holds no export

    return _respond(request, query, page, export)


def _read_detail(reader: DriverRead, request: Request, query: None) -> Response:
    body, version, data = service.detail_at_version(reader, request.path_params["event_id"])
    record_version(request, data)
    return record_response(body, version)


# What the lean read path answers without the route machinery (see app.web.reads).
READS = (
    Read("/v1/events", _read_list, EventQuery, quick=prepared.quick, driver=_driver_list),
    Read("/v1/events/{event_id}", driver=_read_detail, reads_version=True),
)
