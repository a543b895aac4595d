"""The application factory: routers, error handlers, docs, CORS and the database engine."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.actors.router import READS as ACTOR_READS
from app.actors.router import router as actors_router
from app.auth.deps import key_holder, write_caller
from app.changes.router import router as changes_router
from app.claims.router import READS as CLAIM_READS
from app.claims.router import router as claims_router
from app.core.config import Settings, get_settings, rate_limit
from app.core.db import make_engine, make_sessionmaker, snapshot
from app.core.errors import install_error_handlers
from app.core.runtime import runtime_dir
from app.core.temporal import past_engine, warm
from app.curation.router import router as curation_router
from app.events.router import READS as EVENT_READS
from app.events.router import router as events_router
from app.health.router import router as health_router
from app.quantities.router import router as quantities_router
from app.sources.router import READS as SOURCE_READS
from app.sources.router import router as sources_router
from app.stats.router import router as stats_router
from app.vocabulary.router import router as vocabulary_router
from app.web.consistency import TOKEN_HEADER, ConsistencyMiddleware, Replica
from app.web.docs import install_docs
from app.web.explore import install_explore
from app.web.formats import NegotiationMiddleware
from app.web.http_cache import HTTPCacheMiddleware, ResponseCache
from app.web.landing import install_landing
from app.web.limits import (
    BodyDeadlineMiddleware,
    ConcurrencyLimitMiddleware,
    RateLimitMiddleware,
    RequestGuardMiddleware,
    WriteGateMiddleware,
)
from app.web.metrics import Metrics
from app.web.openapi import install_openapi
from app.web.protocol import ProblemCORSMiddleware
from app.web.reads import ReadPath
from app.web.state import AppState

DESCRIPTION = """
Structured, evidence-backed events from news reporting about world politics.

Every event is backed by **claims**: one statement a source makes, with the speaker, how
firmly it is put (hedging), the verbatim quote when there is one, and the exact character
span of the source text that supports it. Dates carry their precision; unknown stays unknown.

* Lists are keyset-paginated: `{"data": [...], "meta": {"next_cursor", "total", "limit"}}`
  and a `Link: <…>; rel="next"` header.
* Errors are RFC 9457 `application/problem+json` with the offending `param`.
* Event types follow the PLOVER ontology.
"""

TAGS = [
    {"name": "events", "description": "What happened, or was proposed, warned of, considered."},
    {"name": "actors", "description": "People, states, organisations and unnamed speakers."},
    {"name": "claims", "description": "Statements of sources, with evidence spans."},
    {"name": "sources", "description": "The documents claims come from."},
    {
        "name": "quantities",
        "description": "Every reported figure, with its qualifier, bounds, claim and source.",
    },
    {
        "name": "analytics",
        "description": "Timelines, summaries, quantity sums and the actor network, computed in "
        "SQL with every event filter.",
    },
    {
        "name": "curation",
        "description": "Ingest new reporting; every write needs an API key with scope write.",
    },
    {"name": "changes", "description": "Every change, in order: history and the change feed."},
    {
        "name": "vocabulary",
        "description": "What each value of the controlled vocabularies means.",
    },
    {"name": "health", "description": "Probes for orchestrators and load balancers."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app for these settings (the environment's by default)."""
    settings = settings or get_settings()
    pool = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "statement_timeout_ms": settings.db_statement_timeout_ms,
    }
    engine = make_engine(settings.database_url, **pool)
    read_engine = (
        make_engine(settings.database_read_url, **pool) if settings.database_read_url else engine
    )
    metrics = Metrics()
    metrics.watch_pool("primary", engine.pool)
    if read_engine is not engine:
        metrics.watch_pool("replica", read_engine.pool)
    past = past_engine(read_engine)

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        if past is not None:
            warm(past)
        yield
        engine.dispose()
        if past is not None:
            past.dispose()
        read_engine.dispose()
        metrics.close()

    app = FastAPI(
        title="geoevents",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        # Relative: the server that serves this document (behind a proxy's prefix too).
        servers=[{"url": "/", "description": "The server this document is served from."}],
        contact={"name": "The geoevents maintainers"},
        # The repository holds no LICENSE file and states no licence: say so (SPDX's
        # NOASSERTION) rather than name one.
        license_info={
            "name": "No licence chosen yet: the repository states none",
            "identifier": "NOASSERTION",
        },
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    entries = 0 if settings.require_read_key else settings.response_cache_entries
    cache = ResponseCache(entries, settings.response_cache_max_body)
    app.state.geoevents = AppState(
        settings=settings,
        engine=engine,
        # Writes on SQLite take the write lock when they begin (see app.core.db), so that two
        # writers queue instead of the second failing on a stale snapshot.
        sessionmaker=make_sessionmaker(engine.execution_options(sqlite_immediate=True)),
        # Reads see one snapshot, so that the data version they record is the one of their
        # data (SQLite's transactions read one snapshot already). Those that must see a write
        # the replica has not replayed read the primary, likewise.
        read_sessionmaker=make_sessionmaker(snapshot(read_engine)),
        primary_read_sessionmaker=make_sessionmaker(snapshot(engine)),
        replica=(
            Replica(read_engine, settings.replica_wait_ms)
            if read_engine is not engine and read_engine.dialect.name == "postgresql"
            else None
        ),
        # Reads with as_of (see app.core.temporal): on SQLite their own pool; on PostgreSQL
        # the read session itself.
        past_sessionmaker=make_sessionmaker(past) if past is not None else None,
        metrics=metrics,
        response_cache=cache,
    )
    # Innermost first. The busiest reads are answered without the route machinery (the
    # routes answer the rest; see app.web.reads); a cached answer is served without waiting
    # for a place, and a body is read, after its key was checked, before the request takes one.
    if settings.read_path:
        reads = (*EVENT_READS, *ACTOR_READS, *CLAIM_READS, *SOURCE_READS)
        app.add_middleware(ReadPath, reads=reads)
    app.add_middleware(ConcurrencyLimitMiddleware, limit=settings.request_concurrency)
    app.add_middleware(HTTPCacheMiddleware, cache_control=settings.cache_control, cache=cache)
    # Outside the cache: a read with a Consistency-Token is routed before its version is read.
    app.add_middleware(ConsistencyMiddleware)
    app.add_middleware(BodyDeadlineMiddleware, timeout=settings.body_timeout_seconds)
    app.add_middleware(WriteGateMiddleware, check=write_caller)
    app.add_middleware(NegotiationMiddleware)
    serving = runtime_dir()
    app.add_middleware(
        RateLimitMiddleware,
        rate=rate_limit(settings),
        burst=settings.rate_limit_burst,
        identify=key_holder,
        trusted_proxies=settings.trusted_proxies,
        # Under `geoevents serve`, one set of buckets for every worker of the server.
        shared=serving / "rate-limits.db" if serving else None,
    )
    # Outside the rate limiter, so that a browser can read a 429 too.
    app.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=[
            "Link",
            "ETag",
            "Last-Modified",
            "X-Total-Count",
            "Preference-Applied",
            "X-Excluded-Without-Coordinates",
            "X-Request-ID",
            "X-Record-Version",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "Retry-After",
            TOKEN_HEADER,
        ],
    )
    app.add_middleware(
        RequestGuardMiddleware,
        max_body=settings.max_body_bytes,
        max_query=settings.max_query_bytes,
        metrics=metrics,
    )
    install_error_handlers(app)
    install_docs(app)
    install_explore(app)
    install_landing(app)
    routers = (
        events_router,
        actors_router,
        claims_router,
        sources_router,
        stats_router,
        quantities_router,
        changes_router,
        curation_router,
        vocabulary_router,
        health_router,
    )
    for router in routers:
        app.include_router(router)
    install_openapi(app, settings)
    return app
