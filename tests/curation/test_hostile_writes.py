"""Hostile and malformed write requests: a clear 4xx, and the database as it was."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.version import DataVersion
from app.main import create_app
from app.web.limits import JsonFormatter
from app.web.state import state_of
from tests.curation.conftest import bearer, new_event
from tests.test_error_shape import HOSTILE, assert_problem


def version(session: Session) -> int:
    return session.scalar(select(DataVersion.version)) or 0


def test_body_size_type_and_shape(
    settings: Settings, connection: Connection, session: Session, keys: dict[str, str]
) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 200_000}))
    state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    writer = bearer(keys["write"])
    was = version(session)
    with TestClient(app) as client:
        big = new_event(summary="x" * 300_000)
        assert_problem(client.post("/v1/events", json=big, headers=writer), 413, "body")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield json.dumps(big).encode()

        streamed = client.post(
            "/v1/events",
            content=chunks(),
            headers=writer | {"Content-Type": "application/json"},
        )
        assert_problem(streamed, 413, "body")
        text = client.post(
            "/v1/events",
            content=b"id=x",
            headers=writer | {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert_problem(text, 415, "Content-Type")
        deep: object = "x"
        for _ in range(200):
            deep = {"a": deep}
        nested = client.post(
            "/v1/actors",
            content=json.dumps(
                {"id": "deep", "name": "Deep", "kind": "person", "description": deep}
            )[:1900],
            headers=writer | {"Content-Type": "application/json"},
        )
        assert_problem(nested, 422, None)
        not_utf8 = client.post(
            "/v1/claims",
            content=b'{"id": "\xa33\xff"}',
            headers=writer | {"Content-Type": "application/json"},
        )
        assert_problem(not_utf8, 422, "body")
        too_deep = client.post(
            "/v1/claims",
            content=b"[" * 100_000,  # past the parser's recursion limit, inside the size cap
            headers=writer | {"Content-Type": "application/json"},
        )
        assert_problem(too_deep, 422, "body")
        wrong = client.post("/v1/events", json=["not", "an", "object"], headers=writer)
        assert_problem(wrong, 422, None)
        long_query = client.get("/v1/events", params={"q": "x" * 9000})
        assert_problem(long_query, 414, "query")
    assert version(session) == was


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_in_write_bodies(
    client: TestClient, session: Session, keys: dict[str, str], value: str
) -> None:
    writer = bearer(keys["write"])
    for body in (
        new_event(value),  # as an id: only slugs pass
        new_event(actors=[{"actor": value, "role": "initiator"}]),
        new_event(locations=[value]),
    ):
        answer = client.post("/v1/events", json=body, headers=writer)
        assert_problem(answer, 422, None)
    stored = client.post(
        "/v1/actors",
        json={"id": "hostile-actor", "name": value, "kind": "person", "description": value},
        headers=writer,
    )
    if stored.status_code == 201:  # printable text is data: stored and read back verbatim
        assert client.get("/v1/actors/hostile-actor").json()["name"] == value
    else:
        assert_problem(stored, 422, None)
    assert client.get("/v1/events", params={"limit": 1}).status_code == 200


def test_every_answer_has_security_headers_and_a_request_id(client: TestClient) -> None:
    for url in ("/v1/events?limit=1", "/v1/nothing", "/healthz", "/docs"):
        answer = client.get(url)
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert len(answer.headers["x-request-id"]) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "dash-42"})
    assert echoed.headers["x-request-id"] == "dash-42"
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id\\r\\nx"})
    assert forged.headers["x-request-id"] != "bad id\\r\\nx"


def test_access_log_is_json_with_request_ids_and_never_a_key(
    client: TestClient, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="geoevents.access")
    secret = keys["write"]
    actor = {"id": "logged-actor", "name": "Logged", "kind": "person"}
    headers = bearer(secret) | {"X-Request-ID": "log-1"}
    assert client.post("/v1/actors", json=actor, headers=headers).status_code == 201
    # A key sent where it does not belong, in the query string, is not logged either.
    client.get("/v1/events", params={"api_key": secret, "limit": 1})
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "geoevents.access"]
    entries = [json.loads(line) for line in lines]
    expected = {"request_id": "log-1", "method": "POST", "path": "/v1/actors", "status": 201}
    assert expected.items() <= entries[0].items()
    assert entries[1]["path"] == "/v1/events"
    assert secret not in caplog.text
    assert not any(secret in line for line in lines)


def test_numbers_past_their_columns(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    """Offsets and lengths wider than the INTEGER columns are a 422, not a database error."""
    writer = bearer(keys["write"])
    was = version(session)
    huge = 2**31
    source = {
        "id": "huge-source",
        "kind": "report",
        "published_date_precision": "unknown",
        "text_length": huge,
    }
    assert_problem(client.post("/v1/sources", json=source, headers=writer), 422, "text_length")
    event = new_event()
    event["claims"][0]["evidence"] = {"start": huge, "end": huge + 1, "text": "x"}
    assert_problem(
        client.post("/v1/events", json=event, headers=writer), 422, "claims.0.evidence.start"
    )
    assert version(session) == was


def test_repeated_claim_ids_and_impossible_versions(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    """An event whose claims share an id, and If-Match versions no record can have (too
    large, or digits that are not ASCII): a 422 and a 412, not a database error."""
    writer = bearer(keys["write"])
    was = version(session)
    event = new_event()
    event["claims"] = event["claims"] * 2
    assert_problem(client.post("/v1/events", json=event, headers=writer), 422, "body")
    for tag in (b"999999999999999999999999999999", b'"1\xb2-x"', b'"2147483648-x"'):
        headers: dict[str, str | bytes] = {**writer, "If-Match": tag}
        answer = client.delete("/v1/actors/xi-jinping", headers=headers)
        assert_problem(answer, 412, "If-Match")
    assert version(session) == was


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "1e308", "-2e15"])
def test_figures_must_be_finite_and_bounded(
    client: TestClient, session: Session, keys: dict[str, str], number: str
) -> None:
    """Python reads 1e400 as infinity and accepts NaN; neither is a reported figure, and
    figures past ±10¹⁵ would overflow the sums of /v1/stats/quantities."""
    writer = bearer(keys["write"]) | {"Content-Type": "application/json"}
    was = version(session)
    body = json.dumps(new_event("non-finite")).replace('"value": 3', f'"value": {number}')
    answer = client.post("/v1/events", content=body, headers=writer)
    assert_problem(answer, 422, "claims.0.quantities.0.value")
    assert version(session) == was


def test_the_largest_figures_still_sum(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    for n in range(2):
        event = new_event(f"huge-figure-{n}")
        event["claims"][0]["quantities"][0] |= {"value": 1e15, "label": "huge"}
        assert client.post("/v1/events", json=event, headers=writer).status_code == 201
    answer = client.get("/v1/stats/quantities", params={"label": "huge"})
    assert answer.status_code == 200, answer.text
    assert [row["low"] for row in answer.json()["data"]] == [2e15]
