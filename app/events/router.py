"""HTTP routes of events: validate the request, call the service, shape the response."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.claims.schemas import ClaimRead
from app.deps import SessionDep
from app.errors import problem_responses
from app.events import service
from app.events.schemas import EventDetail, EventPage, EventQuery, EventRead, RelatedEventRead
from app.pagination import PageMeta, set_link_header
from app.schemas import Text

router = APIRouter(prefix="/v1/events", tags=["events"])

EventId = Annotated[
    Text,
    Path(description="Event id.", examples=["putin-xi-video-summit"], max_length=160),
]


def event_page(
    session: SessionDep, request: Request, response: Response, query: EventQuery
) -> EventPage:
    """Run an event list query and wrap it as a page with a Link header."""
    rows, total, next_cursor = service.get_all(session, query)
    set_link_header(request, response, next_cursor)
    return EventPage(
        data=[EventRead.model_validate(row) for row in rows],
        meta=PageMeta(next_cursor=next_cursor, total=total, limit=query.limit),
    )


@router.get(
    "",
    summary="List events",
    response_model=EventPage,
    responses=problem_responses(422),
)
def list_events(
    session: SessionDep,
    request: Request,
    response: Response,
    query: Annotated[EventQuery, Query()],
) -> EventPage:
    """Events matching every given filter, newest first, keyset-paginated.

    Each event carries its actors (with roles), locations and quantities. `meta.total`
    counts all matches; follow `meta.next_cursor` (or the `Link: rel="next"` header) for the
    next page. Undated events are excluded whenever `start` or `end` is given.
    """
    return event_page(session, request, response, query)


@router.get(
    "/{event_id}",
    summary="Get one event with its evidence",
    response_model=EventDetail,
    responses=problem_responses(404, 422),
)
def get_event(session: SessionDep, event_id: EventId) -> EventDetail:
    """The event with every claim about it (statement, quote, speaker, hedging, evidence span
    and text) and its related events in both directions."""
    found = service.get(session, event_id)
    related = [
        RelatedEventRead(
            id=r.related.id, title=r.related.title, relation=r.relation, direction="outgoing"
        )
        for r in found.outgoing
    ] + [
        RelatedEventRead(
            id=r.origin.id, title=r.origin.title, relation=r.relation, direction="incoming"
        )
        for r in found.incoming
    ]
    base = EventRead.model_validate(found.event).model_dump()
    return EventDetail(
        **base,
        claims=[ClaimRead.model_validate(c) for c in found.claims],
        related=related,
        source_ids=sorted({c.source_id for c in found.claims}),
    )
