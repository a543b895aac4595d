"""DATABASE_READ_URL: reads go to the replica, the rest to the primary; writes answer with a
Consistency-Token (tests/test_streaming_replica.py takes it to a real replica)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, text

from app.core.config import Settings
from app.main import create_app
from app.web.consistency import NO_POSITION, TOKEN_HEADER, parse_lsn
from app.web.state import state_of


def test_reads_go_to_the_read_url(database_url: str, engine: Any) -> None:
    # Two URLs to one database stand in for a primary and its replica.
    if database_url.startswith("sqlite"):
        read_url = database_url + "?timeout=30"
    else:
        read_url = database_url + "?application_name=geoevents-replica"
    app = create_app(Settings(database_url=database_url, database_read_url=read_url))
    seen: dict[str, int] = {"primary": 0, "replica": 0}
    primary, replica = (
        state_of(app).sessionmaker.kw["bind"],
        state_of(app).read_sessionmaker.kw["bind"],
    )
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
    assert (
        state_of(app).read_sessionmaker.kw["bind"].pool
        is state_of(app).sessionmaker.kw["bind"].pool
    )


def test_every_successful_write_answers_with_a_consistency_token(
    client: TestClient, keys: dict[str, str]
) -> None:
    writer = {"Authorization": f"Bearer {keys['write']}"}
    actor = {"id": "token-actor", "name": "Token Actor", "kind": "person"}
    created = client.post("/v1/actors", json=actor, headers=writer)
    assert created.status_code == 201
    url = "/v1/actors/token-actor"
    changed = client.patch(
        url, json={"name": "Renamed"}, headers=writer | {"If-Match": created.headers["etag"]}
    )
    deleted = client.delete(url, headers=writer | {"If-Match": changed.headers["etag"]})
    tokens = [answer.headers[TOKEN_HEADER] for answer in (created, changed, deleted)]
    if state_of(client.app).engine.dialect.name == "sqlite":
        assert tokens == [NO_POSITION] * 3
    else:
        positions = [parse_lsn(token) or 0 for token in tokens]
        assert 0 not in positions
        assert positions == sorted(positions)
    refused = client.delete(url, headers=writer | {"If-Match": "*"})
    assert refused.status_code == 404
    assert TOKEN_HEADER not in refused.headers


def test_without_a_replica_a_token_changes_nothing(client: TestClient) -> None:
    url = "/v1/events?limit=3"
    plain = client.get(url)
    for token in ("0/0", "FFFFFFFF/FFFFFFFF", "not a position", ""):
        answer = client.get(url, headers={TOKEN_HEADER: token})
        assert answer.status_code == 200
        assert answer.content == plain.content


def test_reads_see_one_snapshot(database_url: str, engine: Any) -> None:
    app = create_app(Settings(database_url=database_url))
    with (
        state_of(app).read_sessionmaker() as session,
        state_of(app).primary_read_sessionmaker() as other,
    ):
        for read in (session, other):
            if engine.dialect.name == "postgresql":
                level = read.scalar(text("SHOW transaction_isolation"))
                assert level == "repeatable read"
            else:  # one transaction, one snapshot: begun by app.core.db, never autocommitted
                read.execute(text("SELECT 1"))
                assert read.in_transaction()


def test_the_token_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            if method == "get":
                names = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
                assert TOKEN_HEADER in names, path
            else:
                for status, answer in operation["responses"].items():
                    if status.startswith("2"):
                        assert TOKEN_HEADER in answer["headers"], (method, path, status)
    cors = client.get("/v1/events", headers={"Origin": "https://example.org"})
    assert TOKEN_HEADER.lower() in cors.headers["access-control-expose-headers"].lower()
