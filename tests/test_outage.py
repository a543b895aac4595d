"""The database goes away and comes back: the API answers 503 problem+json with Retry-After
meanwhile, the process stays up, and it recovers by itself, with no restart.

On PostgreSQL the database stops taking connections and every backend is terminated (the
cluster itself keeps running, for the rest of the suite); on SQLite, which has no server to
lose, another process holds the write lock past the busy timeout. `make faulttest` does the
same with the whole cluster stopped and started, under load.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from app.auth import service as auth
from app.auth.schemas import Scope
from app.core.config import Settings
from app.core.db import make_engine, session_scope, sqlalchemy_url
from app.main import create_app
from tests.conftest import migrate_and_seed


@pytest.fixture
def served(scratch_url: str, settings: Settings) -> Iterator[tuple[TestClient, str, str]]:
    """The app on a migrated and seeded scratch database, and a write key."""
    engine = make_engine(scratch_url)
    migrate_and_seed(engine, settings)
    for session in session_scope(sessionmaker(bind=engine)):
        key = auth.create(session, "outage", Scope.write)
    engine.dispose()
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        yield client, key, scratch_url


def assert_unavailable(answer: object) -> None:

    assert isinstance(answer, Response)
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"]


def new_actor(n: int) -> dict[str, str]:
    return {"id": f"outage-actor-{n}", "name": f"Outage {n}", "kind": "person"}


def test_the_database_goes_away_and_comes_back(served: tuple[TestClient, str, str]) -> None:
    client, key, url = served
    writer = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/events?limit=1").status_code == 200
    if url.startswith("postgresql"):
        name = make_url(url).database
        admin = create_engine(
            sqlalchemy_url(str(make_url(url).set(database="postgres"))),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            try:
                killed = conn.execute(
                    text(
                        # Each termination waits (up to 5 s) for the backend to be gone.
                        "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                        " WHERE datname = :name"
                    ),
                    {"name": name},
                ).scalar_one()
                assert killed >= 1  # the app's pooled connections
                for url_ in (
                    "/readyz",
                    "/v1/events?limit=1",
                    "/v1/events/putin-xi-video-summit",
                    "/v1/actors/russia",
                    "/v1/stats/summary",
                ):
                    assert_unavailable(client.get(url_))
                assert_unavailable(client.post("/v1/actors", json=new_actor(1), headers=writer))
                assert client.get("/healthz").status_code == 200
            finally:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
                admin.dispose()
    else:
        path = make_url(url).database
        assert path is not None
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # past the app's 5 s busy timeout
        try:
            assert_unavailable(client.post("/v1/actors", json=new_actor(1), headers=writer))
            assert client.get("/healthz").status_code == 200
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    # Back, with the same app: nothing restarted, and the refused write was not half done.
    assert client.get("/readyz").status_code == 200
    assert client.get("/v1/actors/outage-actor-1").status_code == 404
    assert client.post("/v1/actors", json=new_actor(1), headers=writer).status_code == 201
    assert client.get("/v1/events?limit=1").status_code == 200
