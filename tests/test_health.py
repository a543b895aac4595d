"""Liveness and readiness probes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.core.config import Settings
from app.core.db import make_engine
from app.core.migrations import head_revision
from app.main import create_app


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "revision": head_revision()}


def test_readyz_on_an_unmigrated_database(tmp_path: object) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/empty.db"))
    with TestClient(app) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"]
        assert client.get("/healthz").status_code == 200


def test_metrics_count_requests_by_route_and_status(client: TestClient) -> None:
    client.get("/v1/events?limit=1")
    client.get("/v1/events/nothing-here")
    text = client.get("/metrics").text
    assert 'geoevents_requests_total{method="GET",route="/v1/events",status="200"}' in text
    assert 'route="/v1/events/{event_id}",status="404"' in text
    assert (
        'geoevents_request_duration_seconds_bucket{method="GET",route="/v1/events",le="+Inf"}'
        in text
    )
    assert 'geoevents_db_pool_connections{pool="primary",state="checked_out"}' in text


def test_an_unreachable_database_is_a_503_not_a_crash() -> None:
    # Nothing listens on port 1: every connection attempt is refused at once.
    app = create_app(Settings(database_url="postgresql://postgres@127.0.0.1:1/none"))
    with TestClient(app) as client:
        for url in ("/readyz", "/v1/events", "/v1/events/x", "/v1/stats/timeline"):
            response = client.get(url)
            assert response.status_code == 503, (url, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"]
        assert client.get("/healthz").status_code == 200  # the process itself is fine


def test_a_slow_statement_is_cancelled_on_postgresql(database_url: str) -> None:
    engine = make_engine(database_url, statement_timeout_ms=200)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                with pytest.raises(OperationalError):
                    conn.execute(text("SELECT pg_sleep(2)"))
            else:  # SQLite has no statement timeout; the setting is accepted and unused
                assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
    app = create_app(Settings(database_url=database_url, db_statement_timeout_ms=200))
    with TestClient(app) as client:
        assert client.get("/v1/events?limit=1").status_code == 200
