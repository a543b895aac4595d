"""HTTP routes of the change feed and of an event's history."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from app.auth.deps import check_reader
from app.changes import service
from app.changes.schemas import ChangesMeta, ChangesPage, HistoryPage
from app.core.errors import InvalidParameter, NotFound, problem_responses
from app.core.kinds import Kind
from app.core.pagination import decode_cursor
from app.core.schemas import Text
from app.events.models import Event
from app.web.deps import SessionDep
from app.web.formats import check_page_size
from app.web.http_cache import record_data_version

router = APIRouter(
    tags=["changes"], dependencies=[Depends(record_data_version), Depends(check_reader)]
)


@router.get(
    "/v1/changes",
    summary="The change feed",
    response_model=ChangesPage,
    responses=problem_responses(422),
)
def list_changes(
    session: SessionDep,
    request: Request,
    since: Annotated[
        str | None,
        Query(
            description="Changes after this one: a `seq`, as the feed and an event's history "
            "show it, or `meta.next_cursor` of the previous call (the last `seq` that call "
            "saw; the opaque cursors of earlier versions are still taken). Omit to start at "
            "the beginning.",
            max_length=200,
            examples=["133"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Changes per page.")] = 100,
    kind: Annotated[list[Kind], Query(description="Only these kinds of record (repeatable).")] = [],  # noqa: B006
) -> ChangesPage:
    """Every created, updated, deleted and merged record across all resources, in the order
    the changes were committed. A mirror stores `meta.next_cursor` and polls with it: it
    sees each change exactly once, never one out of order. Deleted records appear as
    tombstones (`op: deleted`, `after: null`). Replaying `after` documents in order
    rebuilds every record as it stands."""
    check_page_size(request, limit)
    position = 0 if since is None else _position(since)
    rows, more = service.feed(session, position, limit, [k.value for k in kind])
    last = rows[-1].seq if rows else position
    return ChangesPage(
        data=[service.revision_read(r) for r in rows],
        meta=ChangesMeta(next_cursor=str(last), has_more=more, limit=limit),
    )


# A seq as written, and the largest one a BIGINT holds.
SEQ = re.compile(r"[0-9]{1,19}")
MAX_SEQ = 2**63 - 1


def _position(since: str) -> int:
    """The seq the feed continues after: `since` itself, or the seq in a cursor of old."""
    text = since.strip()
    raw: str | None = text
    if not SEQ.fullmatch(text):
        try:
            (raw,) = decode_cursor(text, "changes", 1)
        except InvalidParameter:
            raw = None
    if raw is None or not SEQ.fullmatch(raw) or int(raw) > MAX_SEQ:
        raise InvalidParameter(
            f"since must be a seq (a whole number from 0, as /v1/changes and an event's "
            f"history show it) or meta.next_cursor, not {since[:40]!r}",
            param="since",
        )
    return int(raw)


@router.get(
    "/v1/events/{event_id}/history",
    summary="An event's history",
    response_model=HistoryPage,
    responses=problem_responses(404, 422),
)
def event_history(
    session: SessionDep,
    event_id: Annotated[Text, Path(description="Event id.", max_length=160)],
) -> HistoryPage:
    """Every revision of the event and of the claims about it, oldest first: who (the API
    key's name), when, and per field what it was before and after. A deleted event keeps
    its history."""
    rows = service.history(session, event_id)
    if not rows and session.get(Event, event_id) is None:
        raise NotFound(f"no event with id {event_id!r}", param="event_id")
    return HistoryPage(
        data=[service.revision_read(r) for r in rows],
        meta={"event_id": event_id, "count": len(rows)},
    )
