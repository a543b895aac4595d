"""Rate limits, CORS without credentials, and concurrent SQLite writers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import sessionmaker

from app.actors.models import Actor
from app.auth import service as auth
from app.auth.schemas import Scope
from app.changes.models import Revision
from app.core.config import Settings, rate_limit
from app.core.db import make_engine, make_sessionmaker
from app.core.migrations import alembic_config
from app.main import create_app
from app.web.state import state_of
from tests.curation.conftest import bearer
from tests.test_error_shape import assert_problem


def limited_app(settings: Settings, connection: Connection, **limits: Any) -> FastAPI:
    """The app with rate limiting on, on the test's connection."""
    app = create_app(settings.model_copy(update=limits))
    state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    return app


def test_token_bucket_per_caller(
    settings: Settings, connection: Connection, keys: dict[str, str]
) -> None:
    app = limited_app(settings, connection, rate_limit_per_second=0.5, rate_limit_burst=3)
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
        keyed = client.get("/v1/actors?limit=1", headers=bearer(keys["read"]))
        assert keyed.status_code != 429  # another caller has its own bucket
        made_up = client.get("/v1/actors?limit=1", headers={"Authorization": "Bearer gek_x"})
        assert made_up.status_code == 429  # a key that does not verify is its address
        assert client.get("/healthz").status_code == 200  # probes are never limited


def test_made_up_keys_do_not_make_fresh_buckets(settings: Settings, connection: Connection) -> None:
    app = limited_app(settings, connection, rate_limit_per_second=0.001, rate_limit_burst=5)
    with TestClient(app) as client:
        answers = [
            client.get("/v1/actors?limit=1", headers={"Authorization": f"Bearer junk-{n}"})
            for n in range(30)
        ]
        assert [a.status_code for a in answers].count(200) == 5
        assert {a.status_code for a in answers[5:]} == {429}
        # Nor does no key at all, from the same address.
        assert client.get("/v1/actors?limit=1").status_code == 429


def test_one_key_however_spelled_is_one_bucket(
    settings: Settings, connection: Connection, keys: dict[str, str]
) -> None:
    app = limited_app(settings, connection, rate_limit_per_second=0.001, rate_limit_burst=3)
    key = keys["read"]
    spellings = [f"Bearer {key}", f"bearer {key}  ", f"Bearer   {key}", f"BEARER {key}\t"]
    with TestClient(app) as client:
        answers = [
            client.get("/v1/actors?limit=1", headers={"Authorization": spelling})
            for spelling in spellings
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        # Another valid key, and the address without a key, are callers of their own.
        assert client.get("/v1/actors?limit=1", headers=bearer(keys["write"])).status_code == 200
        assert client.get("/v1/actors?limit=1").status_code == 200


def test_forwarded_for_counts_only_behind_a_trusted_proxy(
    settings: Settings, connection: Connection
) -> None:
    limits = {"rate_limit_per_second": 0.001, "rate_limit_burst": 2}

    def statuses(client: TestClient, forwarded: str) -> list[int]:
        headers = {"X-Forwarded-For": forwarded}
        return [client.get("/v1/actors?limit=1", headers=headers).status_code for _ in range(3)]

    # TestClient's peer address is "testclient".
    trusting = limited_app(settings, connection, trusted_proxies=["testclient"], **limits)
    with TestClient(trusting) as client:
        assert statuses(client, "203.0.113.5") == [200, 200, 429]
        assert statuses(client, "203.0.113.6") == [200, 200, 429]  # another client
        # The client's own claims left of the proxy's entry change nothing.
        assert statuses(client, "198.51.100.1, 203.0.113.6") == [429, 429, 429]
    with TestClient(limited_app(settings, connection, **limits)) as client:
        # Without trust, the header is the client's word only: one address.
        assert statuses(client, "203.0.113.5") == [200, 200, 429]
        assert statuses(client, "203.0.113.6") == [429, 429, 429]


def test_rate_limit_is_off_locally_and_on_in_production() -> None:

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
    state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(
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
