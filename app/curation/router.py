"""HTTP routes that write: create, patch and delete records, and ingest new reporting.

Every route here needs an API key with scope write, is committed before it answers (so a 2xx
means the change is stored; `app.web.deps.commit_write`, the router's dependency), and answers
with the record as GET shows it, with its ETag, and the write's Consistency-Token.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.actors import service as actors
from app.actors.schemas import ActorCreate, ActorDetail
from app.auth.deps import WriterDep
from app.claims import service as claims
from app.claims.schemas import ClaimRead
from app.core import version as data_version
from app.core.errors import problem_responses
from app.core.schemas import Text
from app.curation import ingest as ingesting
from app.curation import projections, revisions, writes
from app.curation.schemas import (
    ActorPatch,
    ClaimDoc,
    ClaimPatch,
    EventIn,
    EventPatch,
    IngestBundle,
    IngestReport,
    Kind,
    SourceDoc,
    SourcePatch,
)
from app.events.router import event_detail
from app.events.schemas import EventDetail, EventDoc
from app.sources import service as sources
from app.sources.schemas import SourceRead
from app.web.deps import CommitWrite, SessionDep
from app.web.http_cache import record_body, record_etag

router = APIRouter(dependencies=[CommitWrite])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Any unique string: a retry with the same key and body is answered "
        "once, as the first time; the same key with another body is a 422.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        description="The ETag of the record as you read it (`*`: whatever its version).",
    ),
]
# The same path parameter names as the reads of the same URLs, so that each URL is one path
# of the document.
EventId = Annotated[Text, Path(description="Event id.", max_length=160)]
ActorId = Annotated[Text, Path(description="Actor id.", max_length=120)]
ClaimId = Annotated[Text, Path(description="Claim id.", max_length=160)]
SourceId = Annotated[Text, Path(description="Source id.", max_length=120)]

CREATE_ERRORS = problem_responses(401, 403, 409, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 412, 422, 428)
# Deleting what others still name is refused.
GUARDED_DELETE_ERRORS = WRITE_ERRORS | problem_responses(409)
INGEST_ERRORS = problem_responses(401, 403, 422)

READERS: dict[Kind, Callable[[Session, str], tuple[BaseModel | bytes, int]]] = {
    Kind.event: event_detail,
    Kind.actor: actors.get,
    Kind.source: sources.get,
    Kind.claim: claims.get,
}


def current_etag(session: Session, kind: Kind, record_id: str) -> str:
    """The record's ETag as a GET of it would answer now."""
    projections.settle(session)
    record, version = READERS[kind](session, record_id)
    return record_etag(version, record_body(record))


def _answer(session: Session, kind: Kind, record_id: str, status: int) -> Response:
    """The record as GET shows it, with its ETag (and Location for a creation)."""
    projections.settle(session)
    record, version = READERS[kind](session, record_id)
    body = record_body(record)
    headers = {"ETag": record_etag(version, body)}
    if status == 201:
        headers["Location"] = f"/v1/{kind.value}s/{record_id}"
    return Response(body, status, headers=headers, media_type="application/json")


def _once(
    session: Session,
    request: Request,
    writer: str,
    key: str | None,
    body: BaseModel,
    write: Callable[[], Response],
) -> Response:
    """Run a POST once per Idempotency-Key."""
    fingerprint = revisions.request_hash(
        request.method, request.url.path, body.model_dump_json().encode()
    )
    data_version.lock_writes(session)  # one writer at a time: a retry waits for the first try
    if key is not None:
        stored = writes.remembered(session, writer, key, fingerprint)
        if stored is not None:
            status, text = stored
            return Response(
                text,
                status,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
    answer = write()
    if key is not None:
        writes.remember(
            session, writer, key, fingerprint, answer.status_code, bytes(answer.body).decode()
        )
    return answer


# -- events ----------------------------------------------------------------------------------


@router.post(
    "/v1/events",
    tags=["events"],
    summary="Create an event with its claims",
    status_code=201,
    response_model=EventDetail,
    responses=CREATE_ERRORS,
)
def create_event(
    session: SessionDep,
    request: Request,
    writer: WriterDep,
    body: EventIn,
    key: IdempotencyKey = None,
) -> Response:
    """A new event and the claims that support it (each names its source). Referenced actors,
    places, related events and sources must exist; each evidence span must lie inside its
    source and, when the source's text is stored, be exactly that text."""

    def write() -> Response:
        doc = EventDoc.model_validate(body.model_dump(exclude={"claims"}))
        claims = [
            ClaimDoc.model_validate(c.model_dump() | {"event_id": body.id}) for c in body.claims
        ]
        writes.create(session, writer.name, Kind.event, doc, claims)
        return _answer(session, Kind.event, body.id, 201)

    return _once(session, request, writer.name, key, body, write)


@router.patch(
    "/v1/events/{event_id}",
    tags=["events"],
    summary="Change an event",
    response_model=EventDetail,
    responses=WRITE_ERRORS,
)
def patch_event(
    session: SessionDep,
    writer: WriterDep,
    event_id: EventId,
    body: EventPatch,
    if_match: IfMatch = None,
) -> Response:
    """Change the fields given (null clears one); lists given replace the whole list. Needs
    If-Match: 412 when the event changed since you read it, 428 without the header."""
    writes.update_record(session, writer.name, Kind.event, event_id, if_match, body, current_etag)
    return _answer(session, Kind.event, event_id, 200)


@router.delete(
    "/v1/events/{event_id}",
    tags=["events"],
    summary="Delete an event",
    status_code=204,
    responses=WRITE_ERRORS,
)
def delete_event(
    session: SessionDep, writer: WriterDep, event_id: EventId, if_match: IfMatch = None
) -> Response:
    """Remove the event and its claims from reads; they stay in its history and the change
    feed (as tombstones). Needs If-Match."""
    writes.delete_record(session, writer.name, Kind.event, event_id, if_match, current_etag)
    return Response(status_code=204)


# -- claims, actors, sources -----------------------------------------------------------------


@router.post(
    "/v1/claims",
    tags=["claims"],
    summary="Create a claim",
    status_code=201,
    response_model=ClaimRead,
    responses=CREATE_ERRORS,
)
def create_claim(
    session: SessionDep,
    request: Request,
    writer: WriterDep,
    body: ClaimDoc,
    key: IdempotencyKey = None,
) -> Response:
    """A new statement of a source, about an event (or none: a general remark)."""

    def write() -> Response:
        writes.create(session, writer.name, Kind.claim, body)
        return _answer(session, Kind.claim, body.id, 201)

    return _once(session, request, writer.name, key, body, write)


@router.patch(
    "/v1/claims/{claim_id}",
    tags=["claims"],
    summary="Change a claim",
    response_model=ClaimRead,
    responses=WRITE_ERRORS,
)
def patch_claim(
    session: SessionDep,
    writer: WriterDep,
    claim_id: ClaimId,
    body: ClaimPatch,
    if_match: IfMatch = None,
) -> Response:
    """Change the fields given; needs If-Match."""
    writes.update_record(session, writer.name, Kind.claim, claim_id, if_match, body, current_etag)
    return _answer(session, Kind.claim, claim_id, 200)


@router.delete(
    "/v1/claims/{claim_id}",
    tags=["claims"],
    summary="Delete a claim",
    status_code=204,
    responses=WRITE_ERRORS,
)
def delete_claim(
    session: SessionDep, writer: WriterDep, claim_id: ClaimId, if_match: IfMatch = None
) -> Response:
    """Remove the claim from reads (it stays in history); needs If-Match."""
    writes.delete_record(session, writer.name, Kind.claim, claim_id, if_match, current_etag)
    return Response(status_code=204)


@router.post(
    "/v1/actors",
    tags=["actors"],
    summary="Create an actor",
    status_code=201,
    response_model=ActorDetail,
    responses=CREATE_ERRORS,
)
def create_actor(
    session: SessionDep,
    request: Request,
    writer: WriterDep,
    body: ActorCreate,
    key: IdempotencyKey = None,
) -> Response:
    """A new person, state, organisation or group."""

    def write() -> Response:
        writes.create(session, writer.name, Kind.actor, body)
        return _answer(session, Kind.actor, body.id, 201)

    return _once(session, request, writer.name, key, body, write)


@router.patch(
    "/v1/actors/{actor_id}",
    tags=["actors"],
    summary="Change an actor",
    response_model=ActorDetail,
    responses=WRITE_ERRORS,
)
def patch_actor(
    session: SessionDep,
    writer: WriterDep,
    actor_id: ActorId,
    body: ActorPatch,
    if_match: IfMatch = None,
) -> Response:
    """Change the fields given; needs If-Match."""
    writes.update_record(session, writer.name, Kind.actor, actor_id, if_match, body, current_etag)
    return _answer(session, Kind.actor, actor_id, 200)


@router.delete(
    "/v1/actors/{actor_id}",
    tags=["actors"],
    summary="Delete an actor",
    status_code=204,
    responses=GUARDED_DELETE_ERRORS,
)
def delete_actor(
    session: SessionDep, writer: WriterDep, actor_id: ActorId, if_match: IfMatch = None
) -> Response:
    """Remove an actor no event, claim or affiliation names (409 otherwise); needs If-Match."""
    writes.delete_record(session, writer.name, Kind.actor, actor_id, if_match, current_etag)
    return Response(status_code=204)


@router.post(
    "/v1/sources",
    tags=["sources"],
    summary="Create a source",
    status_code=201,
    response_model=SourceRead,
    responses=CREATE_ERRORS,
)
def create_source(
    session: SessionDep,
    request: Request,
    writer: WriterDep,
    body: SourceDoc,
    key: IdempotencyKey = None,
) -> Response:
    """A new document. With `text`, its sha256 and length are computed (422 when they are
    given and disagree), `GET /v1/sources/{source_id}/text` serves it, and every claim's span
    is checked against it."""

    def write() -> Response:
        writes.create(session, writer.name, Kind.source, body)
        return _answer(session, Kind.source, body.id, 201)

    return _once(session, request, writer.name, key, body, write)


@router.patch(
    "/v1/sources/{source_id}",
    tags=["sources"],
    summary="Change a source",
    response_model=SourceRead,
    responses=WRITE_ERRORS,
)
def patch_source(
    session: SessionDep,
    writer: WriterDep,
    source_id: SourceId,
    body: SourcePatch,
    if_match: IfMatch = None,
) -> Response:
    """Change the metadata given; needs If-Match. `text` can be given once, to a source
    stored without one: it must be the text its sha256 and length describe, and every claim
    already citing the source must quote it exactly (422 otherwise). A stored text is never
    replaced or removed (422): evidence points into it."""
    writes.update_record(session, writer.name, Kind.source, source_id, if_match, body, current_etag)
    return _answer(session, Kind.source, source_id, 200)


@router.delete(
    "/v1/sources/{source_id}",
    tags=["sources"],
    summary="Delete a source",
    status_code=204,
    responses=GUARDED_DELETE_ERRORS,
)
def delete_source(
    session: SessionDep, writer: WriterDep, source_id: SourceId, if_match: IfMatch = None
) -> Response:
    """Remove a source no claim cites (409 otherwise); needs If-Match."""
    writes.delete_record(session, writer.name, Kind.source, source_id, if_match, current_etag)
    return Response(status_code=204)


# -- ingestion -------------------------------------------------------------------------------


@router.post(
    "/v1/ingest",
    tags=["curation"],
    summary="Ingest new reporting",
    response_model=IngestReport,
    responses=INGEST_ERRORS,
)
def ingest(
    session: SessionDep,
    request: Request,
    writer: WriterDep,
    body: IngestBundle,
    key: IdempotencyKey = None,
) -> Response:
    """One source with its text, and the actors, places, events and claims found in it, in
    the seed's bundle format (JSON here; `geoevents ingest FILE` also reads YAML).

    All or nothing, in one transaction: every span, quote and reported number is checked
    against the text before anything is written, and the text's sha256 is stored. An
    incoming event that matches an existing one (same type, overlapping dates, the same
    principal actors: initiators and targets, else everyone named) is not added again: its
    claims become evidence for the existing event, which the report lists as
    `corroborated`. Ingesting the same bundle again changes nothing."""

    def write() -> Response:
        report = ingesting.ingest(session, writer.name, body)
        return Response(report.model_dump_json(), 200, media_type="application/json")

    return _once(session, request, writer.name, key, body, write)
