"""DATABASE_READ_URL: reads go to the replica, the rest to the primary."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from app.config import Settings
from app.main import create_app


def test_reads_go_to_the_read_url(database_url: str, engine: Any) -> None:
    # Two URLs to one database stand in for a primary and its replica.
    if database_url.startswith("sqlite"):
        read_url = database_url + "?timeout=30"
    else:
        read_url = database_url + "?application_name=geoevents-replica"
    app = create_app(Settings(database_url=database_url, database_read_url=read_url))
    seen: dict[str, int] = {"primary": 0, "replica": 0}
    primary, replica = app.state.sessionmaker.kw["bind"], app.state.read_sessionmaker.kw["bind"]
    assert primary is not replica
    for name, bound in (("primary", primary), ("replica", replica)):
        event.listen(
            bound, "before_cursor_execute", lambda *a, n=name, **k: seen.__setitem__(n, seen[n] + 1)
        )
    with TestClient(app) as client:
        for url in ("/v1/events?limit=5", "/v1/actors/russia", "/v1/stats/summary", "/v1/network"):
            assert client.get(url).status_code == 200
        assert client.head("/v1/events").status_code == 200
    assert seen["replica"] > 0
    assert seen["primary"] == 0


def test_without_a_read_url_everything_uses_the_primary(database_url: str, engine: Any) -> None:
    app = create_app(Settings(database_url=database_url))
    # One engine (the writer's view of it begins SQLite transactions IMMEDIATE): one pool.
    assert app.state.read_sessionmaker.kw["bind"].pool is app.state.sessionmaker.kw["bind"].pool
