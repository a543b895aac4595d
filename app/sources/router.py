"""HTTP routes of sources."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.auth.deps import check_reader
from app.core.errors import problem_responses
from app.core.schemas import PageQuery, Text
from app.sources import service
from app.sources.schemas import SourcePage, SourceRead
from app.web import formats
from app.web.deps import ReadSessionDep
from app.web.exports import add_exports
from app.web.http_cache import record_data_version, record_response

router = APIRouter(
    prefix="/v1/sources",
    tags=["sources"],
    dependencies=[Depends(record_data_version), Depends(check_reader)],
)


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

    def page(limit: int) -> tuple[list[str], int | None, str | None, dict[str, str]]:
        return service.get_all(session, limit, query.cursor, count)

    def export(fmt: formats.Format) -> tuple[int, dict[str, int], Iterator[str]]:
        total, items = service.export(session)
        return total, {}, items

    return formats.list_response(
        request,
        query,
        model=SourceRead,
        allowed=formats.LIST_FORMATS,
        page=page,
        export=export,
    )


add_exports(
    router,
    "",
    list_sources,
    formats=formats.LIST_FORMATS,
    item=SourceRead,
    summary="List sources",
    responses=problem_responses(422),
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
    return record_response(*service.get(session, source_id))
