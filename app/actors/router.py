"""HTTP routes of actors."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.actors import service
from app.actors.schemas import ActorDetail, ActorPage, ActorQuery, ActorRead
from app.auth.deps import check_reader
from app.core.db import DriverRead
from app.core.errors import NotFound, problem_responses
from app.core.schemas import Text
from app.events.router import event_list
from app.events.schemas import EventFeatureCollection, EventPage, EventQuery, EventRead
from app.web import formats
from app.web.deps import ReadSessionDep
from app.web.exports import add_exports
from app.web.http_cache import record_data_version, record_response
from app.web.reads import Read

router = APIRouter(
    prefix="/v1/actors",
    tags=["actors"],
    dependencies=[Depends(record_data_version), Depends(check_reader)],
)

ActorId = Annotated[
    Text, Path(description="Actor id.", examples=["vladimir-putin"], max_length=120)
]


@router.get(
    "",
    summary="List actors",
    response_model=ActorPage,
    responses=problem_responses(406, 422) | formats.alternative_media(formats.LIST_FORMATS),
)
def list_actors(
    session: ReadSessionDep, request: Request, query: Annotated[ActorQuery, Query()]
) -> Response:
    """Actors ordered by id; `q` searches names and aliases, so "EU" finds the European Union.
    JSON, CSV or NDJSON; `limit=all` streams every match."""
    return actor_list(session, request, query)


def actor_list(session: Session, request: Request, query: ActorQuery) -> Response:
    """Answer an actor list request in the negotiated format (a page or an export)."""
    count = formats.count_preference(request)

    def page(limit: int) -> tuple[list[str], int | None, str | None, dict[str, str]]:
        return service.get_all(session, query, limit, count)

    def export(fmt: formats.Format) -> tuple[int, dict[str, int], Iterator[str]]:
        total, items = service.export(session, query)
        return total, {}, items

    return formats.list_response(
        request,
        query,
        model=ActorRead,
        allowed=formats.LIST_FORMATS,
        page=page,
        export=export,
    )


add_exports(
    router,
    "",
    list_actors,
    formats=formats.LIST_FORMATS,
    item=ActorRead,
    summary="List actors",
    responses=problem_responses(422),
)


@router.get(
    "/{actor_id}",
    summary="Get one actor",
    response_model=ActorDetail,
    responses=problem_responses(404, 422),
)
def get_actor(session: ReadSessionDep, actor_id: ActorId) -> Response:
    """The actor with aliases, affiliations, members (actors affiliated with it) and the
    number of events it takes part in."""
    return record_response(*service.get(session, actor_id))


@router.get(
    "/{actor_id}/events",
    summary="List an actor's events",
    response_model=EventPage,
    responses=problem_responses(404, 406, 422) | formats.alternative_media(formats.EVENT_FORMATS),
)
def list_actor_events(
    session: ReadSessionDep,
    request: Request,
    actor_id: ActorId,
    query: Annotated[EventQuery, Query()],
) -> Response:
    """Events this actor takes part in, in any role, with every filter and format of
    GET /v1/events. Further `actor` values narrow to events that involve those actors too;
    `expand=members` applies to this actor as well."""
    return actor_events(session, request, actor_id, query)


def actor_events(session: Session, request: Request, actor_id: str, query: EventQuery) -> Response:
    """An actor's events as GET /v1/events lists them, narrowed to this actor; 404 when
    there is no such actor."""
    if not service.exists_by_id(session, actor_id):
        raise NotFound(f"no actor with id {actor_id!r}", param="actor_id")
    scoped = query.model_copy(update={"actor": [actor_id, *query.actor]})
    return event_list(session, request, scoped)


add_exports(
    router,
    "/{actor_id}/events",
    list_actor_events,
    formats=formats.EVENT_FORMATS,
    item=EventRead,
    summary="List an actor's events",
    responses=problem_responses(404, 422),
    geojson_model=EventFeatureCollection,
)


def _read_detail(reader: DriverRead, request: Request, query: None) -> Response:
    return record_response(*service.get(reader, request.path_params["actor_id"]))


def _read_events(session: Session, request: Request, query: EventQuery) -> Response:
    return actor_events(session, request, request.path_params["actor_id"], query)


def _read_list(session: Session, request: Request, query: ActorQuery) -> Response:
    return actor_list(session, request, query)


# What the lean read path answers without the route machinery (see app.web.reads).
READS = (
    Read("/v1/actors", _read_list, ActorQuery),
    Read("/v1/actors/{actor_id}", driver=_read_detail),
    Read("/v1/actors/{actor_id}/events", _read_events, EventQuery),
)
