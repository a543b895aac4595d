"""HTTP routes of claims."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.claims import service
from app.claims.schemas import ClaimPage, ClaimQuery, ClaimRead
from app.deps import SessionDep
from app.errors import problem_responses
from app.pagination import PageMeta, set_link_header

router = APIRouter(prefix="/v1/claims", tags=["claims"])


@router.get("", summary="List claims", response_model=ClaimPage, responses=problem_responses(422))
def list_claims(
    session: SessionDep,
    request: Request,
    response: Response,
    query: Annotated[ClaimQuery, Query()],
) -> ClaimPage:
    """Claims in source order (by source, then by position in its text), with speaker,
    hedging, evidence span and the quantities each reports."""
    rows, total, next_cursor = service.get_all(session, query)
    set_link_header(request, response, next_cursor)
    return ClaimPage(
        data=[ClaimRead.model_validate(row) for row in rows],
        meta=PageMeta(next_cursor=next_cursor, total=total, limit=query.limit),
    )
