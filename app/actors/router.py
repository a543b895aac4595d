"""HTTP routes of actors."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.actors import service
from app.actors.schemas import ActorDetail, ActorPage, ActorQuery, ActorRead, MemberRead
from app.deps import SessionDep
from app.errors import NotFound, problem_responses
from app.events.router import event_page
from app.events.schemas import EventPage, EventQuery
from app.pagination import PageMeta, set_link_header
from app.schemas import Text

router = APIRouter(prefix="/v1/actors", tags=["actors"])

ActorId = Annotated[
    Text, Path(description="Actor id.", examples=["vladimir-putin"], max_length=120)
]


@router.get("", summary="List actors", response_model=ActorPage, responses=problem_responses(422))
def list_actors(
    session: SessionDep,
    request: Request,
    response: Response,
    query: Annotated[ActorQuery, Query()],
) -> ActorPage:
    """Actors ordered by id; `q` searches names and aliases, so "EU" finds the European Union."""
    rows, total, next_cursor = service.get_all(session, query)
    set_link_header(request, response, next_cursor)
    return ActorPage(
        data=[ActorRead.model_validate(row) for row in rows],
        meta=PageMeta(next_cursor=next_cursor, total=total, limit=query.limit),
    )


@router.get(
    "/{actor_id}",
    summary="Get one actor",
    response_model=ActorDetail,
    responses=problem_responses(404, 422),
)
def get_actor(session: SessionDep, actor_id: ActorId) -> ActorDetail:
    """The actor with aliases, affiliations, members (actors affiliated with it) and the
    number of events it takes part in."""
    actor, members, event_count = service.get(session, actor_id)
    return ActorDetail(
        **ActorRead.model_validate(actor).model_dump(),
        members=[
            MemberRead(
                member=m.member,
                role=m.role,
                start_date=m.start_date,
                end_date=m.end_date,
                current=m.current,
            )
            for m in members
        ],
        event_count=event_count,
    )


@router.get(
    "/{actor_id}/events",
    summary="List an actor's events",
    response_model=EventPage,
    responses=problem_responses(404, 422),
)
def list_actor_events(
    session: SessionDep,
    request: Request,
    response: Response,
    actor_id: ActorId,
    query: Annotated[EventQuery, Query()],
) -> EventPage:
    """Events this actor takes part in, in any role, with every filter of GET /v1/events.
    Further `actor` values narrow to events that involve those actors too."""
    if not service.exists_by_id(session, actor_id):
        raise NotFound(f"no actor with id {actor_id!r}", param="actor_id")
    scoped = query.model_copy(update={"actor": [actor_id, *query.actor]})
    return event_page(session, request, response, scoped)
