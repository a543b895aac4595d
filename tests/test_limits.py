"""Rate limits, CORS without credentials, and concurrent SQLite writers."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import sessionmaker

from app.actors.models import Actor
from app.auth import service as auth
from app.auth.schemas import Scope
from app.changes.models import Revision
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.health import alembic_config
from app.main import create_app
from tests.test_error_shape import assert_problem


def test_token_bucket_per_caller(settings: Settings, connection: Connection) -> None:
    app = create_app(
        settings.model_copy(update={"rate_limit_per_second": 0.5, "rate_limit_burst": 3})
    )
    app.state.sessionmaker = app.state.read_sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    with TestClient(app) as client:
        origin = {"Origin": "https://dash.example"}
        answers = [client.get("/v1/actors?limit=1", headers=origin) for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [200, 200, 200]
        assert [a.headers["ratelimit-remaining"] for a in answers[:3]] == ["2", "1", "0"]
        refused = assert_problem(answers[3], 429, None)
        assert int(answers[3].headers["retry-after"]) >= 1
        assert refused["type"] == "/problems/too-many-requests"
        # A browser dashboard can read the refusal and when to come back.
        assert answers[3].headers["access-control-allow-origin"] == "*"
        assert "Retry-After" in answers[3].headers["access-control-expose-headers"]
        keyed = client.get("/v1/actors?limit=1", headers={"Authorization": "Bearer gek_x"})
        assert keyed.status_code != 429  # another caller has its own bucket
        assert client.get("/healthz").status_code == 200  # probes are never limited


def test_rate_limit_is_off_locally_and_on_in_production() -> None:
    from app.config import rate_limit

    assert rate_limit(Settings()) == 0
    assert rate_limit(Settings(profile="production")) > 0
    assert rate_limit(Settings(profile="production", rate_limit_per_second=0)) == 0


def test_cors_never_allows_credentials(client: TestClient) -> None:
    answer = client.get("/v1/events?limit=1", headers={"Origin": "https://dash.example"})
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers


def test_concurrent_sqlite_writers_all_land_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/writers.db"
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        secret = auth.create(session, "writers", Scope.write)
        session.commit()
    app = create_app(Settings(database_url=url))
    headers = {"Authorization": f"Bearer {secret}"}
    statuses: list[int] = []
    lock = threading.Lock()

    def writer(client: TestClient, n: int) -> None:
        for m in range(5):
            body = {"id": f"writer-{n}-{m}", "name": f"Writer {n} {m}", "kind": "person"}
            answer = client.post("/v1/actors", json=body, headers=headers)
            with lock:
                statuses.append(answer.status_code)

    with TestClient(app) as client:  # one event loop, eight threads sending at once
        threads = [threading.Thread(target=writer, args=(client, n)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert statuses == [201] * 40
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Actor)) == 40
        assert session.scalar(select(func.count()).select_from(Revision)) == 40
    engine.dispose()


def test_page_size_and_exports_are_configurable(settings: Settings, connection: Connection) -> None:
    tight = settings.model_copy(update={"max_page_size": 100, "exports": False})
    app = create_app(tight)
    app.state.sessionmaker = app.state.read_sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    with TestClient(app) as client:
        for url in ("/v1/events", "/v1/actors", "/v1/claims", "/v1/sources", "/v1/changes"):
            assert client.get(url, params={"limit": 100}).status_code == 200, url
            assert_problem(client.get(url, params={"limit": 101}), 422, "limit")
        assert_problem(client.get("/v1/events", params={"limit": "all"}), 422, "limit")
        # The document says so: a client reading it never sends what is refused.
        spec = client.get("/openapi.json").json()
        (limit,) = [
            p for p in spec["paths"]["/v1/events"]["get"]["parameters"] if p["name"] == "limit"
        ]
        assert limit["schema"]["anyOf"] == [{"type": "integer", "minimum": 1, "maximum": 100}]
