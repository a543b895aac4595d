"""HTTP routes of claims."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app import formats
from app.claims import service
from app.claims.schemas import ClaimPage, ClaimQuery, ClaimRead
from app.deps import SessionDep
from app.errors import problem_responses
from app.http_cache import record_data_version

router = APIRouter(
    prefix="/v1/claims", tags=["claims"], dependencies=[Depends(record_data_version)]
)


@router.get(
    "",
    summary="List claims",
    response_model=ClaimPage,
    responses=problem_responses(406, 422) | formats.alternative_media(formats.LIST_FORMATS),
)
def list_claims(
    session: SessionDep, request: Request, query: Annotated[ClaimQuery, Query()]
) -> Response:
    """Claims in source order (by source, then by position in its text), with speaker,
    hedging, evidence span and the quantities each reports. JSON, CSV or NDJSON;
    `limit=all` streams every match."""

    def page(limit: int) -> tuple[list[ClaimRead], int, str | None, dict[str, int]]:
        rows, total, next_cursor = service.get_all(session, query, limit)
        return [ClaimRead.model_validate(row) for row in rows], total, next_cursor, {}

    def export(fmt: formats.Format) -> tuple[int, dict[str, int], Iterator[ClaimRead]]:
        total, rows = service.export(session, query)
        return total, {}, (ClaimRead.model_validate(row) for row in rows)

    return formats.list_response(
        request,
        query,
        model=ClaimRead,
        allowed=formats.LIST_FORMATS,
        page=page,
        export=export,
    )
