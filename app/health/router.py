"""Liveness and readiness probes."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.core.errors import ServiceUnavailable, problem_responses
from app.core.migrations import head_revision
from app.web.metrics import CONTENT_TYPE
from app.web.state import state_of

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The answer of a probe that passed."""

    status: str = Field(description="Always `ok` when the probe passes.", examples=["ok"])


class Ready(Health):
    """The answer of a readiness probe that passed."""

    revision: str = Field(description="The database's migration revision (the head).")


@router.get("/healthz", summary="Liveness probe", response_model=Health)
async def healthz() -> Health:
    """The process is up and answering; says nothing about the database."""
    return Health(status="ok")


# Probes never wait for a thread behind API work: readiness has threads of its own.
PROBE_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="geoevents-probe")


def _migrated_to(engine: Engine) -> str | None:
    with engine.connect() as conn:
        current: str | None = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return current


@router.get(
    "/readyz", summary="Readiness probe", response_model=Ready, responses=problem_responses(503)
)
async def readyz(request: Request) -> Ready:
    """The database answers and its schema is migrated to the code's head revision;
    503 problem+json with Retry-After otherwise."""
    head = head_revision()
    loop = asyncio.get_running_loop()
    try:
        current = await loop.run_in_executor(
            PROBE_THREADS, _migrated_to, state_of(request.app).engine
        )
    except SQLAlchemyError as exc:
        raise ServiceUnavailable("the database is unreachable or not migrated") from exc
    if current != head:
        raise ServiceUnavailable(f"database at revision {current}, code expects {head}")
    return Ready(status="ok", revision=current)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
async def metrics(request: Request) -> PlainTextResponse:
    """Requests by route and status, a latency histogram per route, and database pool use,
    of the whole server: under `geoevents serve --workers N` every worker's figures, added
    up, whichever worker answers."""
    loop = asyncio.get_running_loop()
    text = await loop.run_in_executor(PROBE_THREADS, state_of(request.app).metrics.render)
    return PlainTextResponse(text, media_type=CONTENT_TYPE)
