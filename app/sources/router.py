"""HTTP routes of sources."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.auth.deps import check_reader
from app.core.errors import problem_responses
from app.core.schemas import PageQuery, Text
from app.sources import service
from app.sources.models import Source
from app.sources.schemas import SourcePage, SourceRead
from app.web import formats
from app.web.deps import ReadSessionDep
from app.web.http_cache import record_data_version, record_response

router = APIRouter(
    prefix="/v1/sources",
    tags=["sources"],
    dependencies=[Depends(record_data_version), Depends(check_reader)],
)


def _read(source: Source, claim_count: int) -> SourceRead:
    return SourceRead.model_validate(source).model_copy(update={"claim_count": claim_count})


@router.get(
    "",
    summary="List sources",
    response_model=SourcePage,
    responses=problem_responses(406, 422) | formats.alternative_media(formats.LIST_FORMATS),
)
def list_sources(
    session: ReadSessionDep, request: Request, query: Annotated[PageQuery, Query()]
) -> Response:
    """Source documents ordered by id, each with how many claims cite it. JSON, CSV or
    NDJSON; `limit=all` streams every source."""

    count = formats.count_preference(request)

    def page(limit: int) -> tuple[list[SourceRead], int | None, str | None, dict[str, str]]:
        rows, total, next_cursor, extra = service.get_all(session, limit, query.cursor, count)
        return [_read(*row) for row in rows], total, next_cursor, extra

    def export(fmt: formats.Format) -> tuple[int, dict[str, int], Iterator[SourceRead]]:
        total, rows = service.export(session)
        return total, {}, (_read(*row) for row in rows)

    return formats.list_response(
        request,
        query,
        model=SourceRead,
        allowed=formats.LIST_FORMATS,
        page=page,
        export=export,
    )


@router.get(
    "/{source_id}",
    summary="Get one source",
    response_model=SourceRead,
    responses=problem_responses(404, 422),
)
def get_source(
    session: ReadSessionDep,
    source_id: Annotated[
        Text, Path(description="Source id.", examples=["putin-roundup-article"], max_length=120)
    ],
) -> Response:
    """One source document: its metadata and the sha256 of the text evidence points into."""
    return record_response(*source_detail(session, source_id))


def source_detail(session: Session, source_id: str) -> tuple[SourceRead, int]:
    """The source as its detail shows it, and the source's version."""
    source, claims = service.get(session, source_id)
    return _read(source, claims), source.version
