"""HTTP routes of claims."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.auth.deps import check_reader
from app.claims import service
from app.claims.schemas import ClaimPage, ClaimQuery, ClaimRead, EvidenceInContext
from app.core.db import DriverRead
from app.core.errors import problem_responses
from app.core.schemas import Text
from app.web import formats
from app.web.deps import ReadSessionDep
from app.web.exports import add_exports
from app.web.http_cache import record_data_version, record_response
from app.web.reads import Read

ClaimId = Annotated[
    Text, Path(description="Claim id.", examples=["zelensky-barbaric"], max_length=160)
]

router = APIRouter(
    prefix="/v1/claims",
    tags=["claims"],
    dependencies=[Depends(record_data_version), Depends(check_reader)],
)


@router.get(
    "",
    summary="List claims",
    response_model=ClaimPage,
    responses=problem_responses(406, 422) | formats.alternative_media(formats.LIST_FORMATS),
)
def list_claims(
    session: ReadSessionDep, request: Request, query: Annotated[ClaimQuery, Query()]
) -> Response:
    """Claims in source order (by source, then by position in its text), with speaker,
    hedging, evidence span and the quantities each reports. JSON, CSV or NDJSON;
    `limit=all` streams every match."""
    return claim_list(session, request, query)


def claim_list(session: Session, request: Request, query: ClaimQuery) -> Response:
    """Answer a claim list request in the negotiated format (a page or an export)."""
    count = formats.count_preference(request)

    def page(limit: int) -> tuple[list[str], int | None, str | None, dict[str, str]]:
        return service.get_all(session, query, limit, count)

    def export(fmt: formats.Format) -> tuple[int, dict[str, int], Iterator[str]]:
        total, items = service.export(session, query)
        return total, {}, items

    return formats.list_response(
        request,
        query,
        model=ClaimRead,
        allowed=formats.LIST_FORMATS,
        page=page,
        export=export,
    )


add_exports(
    router,
    "",
    list_claims,
    formats=formats.LIST_FORMATS,
    item=ClaimRead,
    summary="List claims",
    responses=problem_responses(422),
)


@router.get(
    "/{claim_id}",
    summary="Get one claim",
    response_model=ClaimRead,
    responses=problem_responses(404, 422),
)
def get_claim(
    session: ReadSessionDep,
    claim_id: Annotated[Text, Path(description="Claim id.", max_length=160)],
) -> Response:
    """One claim: statement, quote, speaker, hedging, evidence span and quantities."""
    return record_response(*service.get(session, claim_id))


@router.get(
    "/{claim_id}/evidence",
    summary="Get a claim's evidence in its context",
    response_model=EvidenceInContext,
    responses=problem_responses(404, 422),
)
def get_evidence(
    session: ReadSessionDep,
    claim_id: ClaimId,
    context: Annotated[
        int,
        Query(
            ge=0,
            le=10_000,
            description="How many characters of the source's text to show on each side of "
            "the span (fewer at the text's start and end).",
        ),
    ] = 200,
) -> EvidenceInContext:
    """The claim's span, its offsets, and the source's text around it: `before` + `text` +
    `after` is the stored text from `before_start` to `after_end`, so the span can be read,
    and highlighted, where it stands. Offsets count Python str characters (Unicode code
    points). The whole text is at `GET /v1/sources/{source_id}/text`."""
    return service.evidence(session, claim_id, context)


def _read_list(session: Session, request: Request, query: ClaimQuery) -> Response:
    return claim_list(session, request, query)


def _read_detail(reader: DriverRead, request: Request, query: None) -> Response:
    return record_response(*service.get(reader, request.path_params["claim_id"]))


# What the lean read path answers without the route machinery (see app.web.reads).
READS = (
    Read("/v1/claims", _read_list, ClaimQuery),
    Read("/v1/claims/{claim_id}", driver=_read_detail),
)
