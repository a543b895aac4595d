"""HTTP routes of sources."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.deps import SessionDep
from app.errors import problem_responses
from app.pagination import PageMeta, set_link_header
from app.schemas import PageQuery, Text
from app.sources import service
from app.sources.models import Source
from app.sources.schemas import SourcePage, SourceRead

router = APIRouter(prefix="/v1/sources", tags=["sources"])


def _read(source: Source, claim_count: int) -> SourceRead:
    return SourceRead.model_validate(source).model_copy(update={"claim_count": claim_count})


@router.get("", summary="List sources", response_model=SourcePage, responses=problem_responses(422))
def list_sources(
    session: SessionDep,
    request: Request,
    response: Response,
    query: Annotated[PageQuery, Query()],
) -> SourcePage:
    """Source documents ordered by id, each with how many claims cite it."""
    rows, total, next_cursor = service.get_all(session, query.limit, query.cursor)
    set_link_header(request, response, next_cursor)
    return SourcePage(
        data=[_read(source, count) for source, count in rows],
        meta=PageMeta(next_cursor=next_cursor, total=total, limit=query.limit),
    )


@router.get(
    "/{source_id}",
    summary="Get one source",
    response_model=SourceRead,
    responses=problem_responses(404, 422),
)
def get_source(
    session: SessionDep,
    source_id: Annotated[
        Text, Path(description="Source id.", examples=["putin-roundup-article"], max_length=120)
    ],
) -> SourceRead:
    """One source document: its metadata and the sha256 of the text evidence points into."""
    return _read(*service.get(session, source_id))
