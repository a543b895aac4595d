"""Typed settings, read from the environment (prefix-free) and overridable in tests."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Runtime configuration of the API and the CLI."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///geoevents.db",
        description="sqlite:///path/to/file.db or postgresql://user@host:port/db",
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: ["*"], description="Origins allowed to GET from a browser."
    )
    response_cache_entries: int = Field(
        default=2048, ge=0, description="Answers each process keeps (0 turns the cache off)."
    )
    response_cache_max_body: int = Field(
        default=2_000_000, ge=0, description="Largest answer, in bytes, the cache keeps."
    )
    read_path: bool = Field(
        default=True,
        description="Answer the busiest reads (event, actor, claim and source details, and "
        "the event, actor and claim lists) without FastAPI's route machinery; the answers are "
        "the same either way. Off: every request goes through the routes.",
    )
    cache_control: str = Field(
        default="no-cache",
        description="Cache-Control of /v1 answers; the default makes clients revalidate with "
        "the ETag every time (a 304 when nothing changed).",
    )
    database_read_url: str | None = Field(
        default=None,
        description="Optional read replica: GET and HEAD requests read from it; everything "
        "else, and every request when unset, uses DATABASE_URL.",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        description="Connections kept per process: about the request thread pool's size, so "
        "that concurrent requests do not open and close PostgreSQL backends.",
    )
    db_max_overflow: int = Field(default=5, ge=0, description="Extra connections at peaks.")
    db_statement_timeout_ms: int = Field(
        default=30_000,
        ge=0,
        description="PostgreSQL cancels a statement running longer than this (the request then "
        "answers 503 with Retry-After) instead of letting slow queries pile up; 0: never. "
        "SQLite has no such limit.",
    )
    require_read_key: bool = Field(
        default=False,
        description="Require an API key (any scope) for reads too; the response cache is then "
        "off, so that every answer is authorised.",
    )
    profile: Literal["local", "production"] = Field(
        default="local",
        description="Defaults for where it runs: `production` turns rate limiting on.",
    )
    rate_limit_per_second: float | None = Field(
        default=None,
        ge=0,
        description="Requests a second per valid API key, or per client address otherwise "
        "(0: off), for all the workers of one host together. Unset: off locally, 20 in the "
        "production profile.",
    )
    rate_limit_burst: int = Field(default=40, ge=1, description="Requests at once per caller.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description='Addresses or networks (JSON list, e.g. ["10.0.0.0/8"]) of proxies '
        "whose X-Forwarded-For is believed: a request from one of them is counted against "
        "the nearest address in that header that is not a trusted proxy. Empty: the peer's "
        "address, X-Forwarded-For ignored.",
    )
    max_body_bytes: int = Field(
        default=5_000_000, ge=1, description="Largest request body accepted (413 beyond)."
    )
    max_query_bytes: int = Field(
        default=8192, ge=256, description="Longest query string accepted (414 beyond)."
    )
    max_page_size: int = Field(
        default=1000,
        ge=100,
        le=1000,
        description="Largest `limit` a list answers, 100 to 1000 (422 beyond).",
    )
    exports: bool = Field(
        default=True,
        description="Whether lists answer `limit=all`, every match streamed in one response "
        "(422 when off).",
    )
    request_concurrency: int = Field(
        default=4,
        ge=0,
        description="Requests worked on at once per process (0: no limit); the rest wait on "
        "the event loop. Worker threads share one interpreter lock, so a few at a time "
        "answer more per second than many. Cached answers and streamed bodies do not count.",
    )
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a request body may take to arrive after the request's headers "
        "(408 and the connection closed beyond); it is read before the request takes a place "
        "among those worked on.",
    )
    seed_dir: Path = Field(default=PROJECT_ROOT / "seed_data")
    article_path: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "seed" / "article.txt",
        description="Where the seed article's text is looked for (verification only).",
    )
    # -- read replica: read your writes --
    replica_wait_ms: int = Field(
        default=1000,
        ge=0,
        le=30_000,
        description="How long a read carrying a Consistency-Token waits for DATABASE_READ_URL "
        "to replay that write before the primary answers it instead (0: at once).",
    )

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _known_store(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(
            ("sqlite://", "postgresql://", "postgresql+psycopg://")
        ):
            raise ValueError("a database URL must start with sqlite:// or postgresql://")
        return value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def rate_limit(settings: Settings) -> float:
    """The rate limit in force: the setting, else the profile's default."""
    if settings.rate_limit_per_second is not None:
        return settings.rate_limit_per_second
    return 20.0 if settings.profile == "production" else 0.0
