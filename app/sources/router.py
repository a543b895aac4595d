"""HTTP routes of sources."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse

from app.auth.deps import check_reader
from app.core.db import DriverRead
from app.core.errors import problem_responses
from app.core.schemas import PageQuery, Text
from app.sources import service
from app.sources.schemas import SourcePage, SourceRead
from app.web import formats
from app.web.deps import ReadSessionDep
from app.web.exports import add_exports
from app.web.http_cache import record_data_version, record_response
from app.web.reads import Read

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


SourceId = Annotated[
    Text, Path(description="Source id.", examples=["putin-roundup-article"], max_length=120)
]


@router.get(
    "/{source_id}",
    summary="Get one source",
    response_model=SourceRead,
    responses=problem_responses(404, 422),
)
def get_source(session: ReadSessionDep, source_id: SourceId) -> Response:
    """One source document: its metadata and the sha256 of the text evidence points into.
    When the text is stored, `GET /v1/sources/{source_id}/text` serves it."""
    return record_response(*service.get(session, source_id))


@router.get(
    "/{source_id}/text",
    summary="Get a source's full text",
    response_class=PlainTextResponse,
    responses=problem_responses(404, 422)
    | {200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def get_source_text(session: ReadSessionDep, source_id: SourceId) -> Response:
    """The text evidence spans index, exactly as stored (UTF-8, `text/plain`): its SHA-256
    is the source's `sha256`, and a claim's `evidence.text` is its characters
    [`start`, `end`) (Python str indices: Unicode code points, not bytes). 404 when the
    source has no stored text. `GET /v1/claims/{claim_id}/evidence` shows one span in its
    context."""
    return PlainTextResponse(service.text(session, source_id))


def _read_detail(reader: DriverRead, request: Request, query: None) -> Response:
    return record_response(*service.get(reader, request.path_params["source_id"]))


# What the lean read path answers without the route machinery (see app.web.reads).
READS = (Read("/v1/sources/{source_id}", driver=_read_detail),)
