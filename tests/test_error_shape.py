"""The one error shape: RFC 9457 problem+json naming the parameter, for every 4xx."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Claim, Event

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}
# Pydantic's own phrasing, which no refusal may carry.
PYDANTIC_WORDING = re.compile(
    r"Input should|Value should|Field required|Extra inputs|JSON decode error|Value error,"
)


def assert_problem(response: object, status: int, param: str | None) -> dict[str, object]:
    """Check one response is a problem document with this status and parameter."""

    assert isinstance(response, Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    listed = body.get("errors") or []
    assert isinstance(listed, list)
    messages = [body["detail"], *(e["message"] for e in listed)]
    foreign = [m for m in messages if PYDANTIC_WORDING.search(m)]
    assert foreign == [], body  # refusals are in our words
    if param is not None:
        assert body["param"] == param
    return body


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/v1/events", {"actor": "nobody"}, "actor"),
        ("/v1/events", {"actor": ["russia", "nobody"]}, "actor"),
        ("/v1/events", {"start": "2026-02-05", "end": "2026-01-01"}, "end"),
        ("/v1/events", {"start": "yesterday"}, "start"),
        ("/v1/events", {"end": "2026-02-30"}, "end"),
        ("/v1/events", {"type": "BOMBING"}, "type"),
        ("/v1/events", {"status": "maybe"}, "status"),
        ("/v1/events", {"country": "XX"}, "country"),
        ("/v1/events", {"country": "' OR 1=1 --"}, "country"),
        ("/v1/events", {"location": "Atlantis"}, "location"),
        ("/v1/events", {"source": "nope"}, "source"),
        ("/v1/events", {"limit": "0"}, "limit"),
        ("/v1/events", {"limit": "1001"}, "limit"),
        ("/v1/events", {"limit": "-5"}, "limit"),
        ("/v1/events", {"limit": "ten"}, "limit"),
        ("/v1/events", {"sort": "title"}, "sort"),
        ("/v1/events", {"cursor": "not-a-cursor"}, "cursor"),
        ("/v1/events", {"cursor": "eyJrIjoiZXZlbnRzOi1kYXRlIiwidiI6WzEsMl19"}, "cursor"),
        ("/v1/events", {"actor_match": "some"}, "actor_match"),
        ("/v1/events", {"q": "x" * 201}, "q"),
        ("/v1/events", {"strat": "2026-01-01"}, "strat"),
        ("/v1/actors", {"kind": "robot"}, "kind"),
        ("/v1/actors", {"country": "Narnia"}, "country"),
        ("/v1/actors/russia/events", {"actor": "nobody"}, "actor"),
        ("/v1/claims", {"speaker": "nobody"}, "speaker"),
        ("/v1/sources", {"cursor": "%%%"}, "cursor"),
        ("/v1/events", {"format": "pdf"}, "format"),
        ("/v1/events", {"fields": "id,bogus"}, "fields"),
        ("/v1/events", {"precision": "hour"}, "precision"),
        ("/v1/events", {"expand": "everything"}, "expand"),
        ("/v1/events", {"bbox": "1,2,3"}, "bbox"),
        ("/v1/events", {"limit": "everything"}, "limit"),
        ("/v1/stats/timeline", {"interval": "hour"}, "interval"),
        ("/v1/stats/timeline", {"group_by": "mood"}, "group_by"),
        ("/v1/stats/timeline", {"series_limit": "0"}, "series_limit"),
        ("/v1/stats/timeline", {"actor": "nobody"}, "actor"),
        ("/v1/stats/summary", {"top": "1000"}, "top"),
        ("/v1/stats/quantities", {"start": "2026-13-01"}, "start"),
        ("/v1/network", {"min_weight": "0"}, "min_weight"),
        ("/v1/network", {"node_limit": "100000"}, "node_limit"),
        ("/v1/network", {"mode": "circular"}, "mode"),
    ],
)
def test_invalid_parameters_are_422(
    client: TestClient, path: str, params: dict[str, object], param: str
) -> None:
    body = assert_problem(client.get(path, params=params), 422, param)
    assert body["type"] == "/problems/invalid-parameter"


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/events/no-such-event", "event_id"),
        ("/v1/actors/no-such-actor", "actor_id"),
        ("/v1/sources/no-such-source", "source_id"),
    ],
)
def test_unknown_ids_are_404(client: TestClient, path: str, param: str) -> None:
    body = assert_problem(client.get(path), 404, param)
    assert body["type"] == "/problems/not-found"
    assert body["instance"] == path


def test_unknown_route_and_method(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, None)
    assert_problem(client.put("/v1/events", json={}), 405, None)


def test_validation_errors_list_every_parameter(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/events", params={"limit": "0", "type": "X"}), 422, None)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {e["param"] for e in errors} == {"limit", "type"}
    assert {e["in"] for e in errors} == {"query"}


HOSTILE = [
    "'; DROP TABLE events; --",
    '" OR "1"="1',
    "%' UNION SELECT * FROM claims --",
    "\u202eevil\u200b\u0301",
    "Zelensky\x00",
    "☃" * 150,
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_input_never_500s_and_changes_nothing(
    client: TestClient, session: Session, value: str
) -> None:
    before = (
        session.scalar(select(func.count()).select_from(Event)),
        session.scalar(select(func.count()).select_from(Claim)),
    )
    for path, param in [
        ("/v1/events", "q"),
        ("/v1/events", "actor"),
        ("/v1/events", "tag"),
        ("/v1/events", "location"),
        ("/v1/actors", "q"),
        ("/v1/claims", "q"),
        ("/v1/claims", "speaker"),
        ("/v1/stats/timeline", "q"),
        ("/v1/stats/quantities", "label"),
        ("/v1/network", "actor"),
        ("/v1/events", "fields"),
    ]:
        response = client.get(path, params={param: value})
        assert response.status_code in (200, 422), (path, param, response.text)
        if response.status_code == 422:
            assert_problem(response, 422, param)
    for path in ("/v1/events/", "/v1/actors/", "/v1/sources/"):
        response = client.get(path + quote(value, safe=""))
        assert response.status_code in (404, 422), response.text
        assert_problem(response, response.status_code, None)
    after = (
        session.scalar(select(func.count()).select_from(Event)),
        session.scalar(select(func.count()).select_from(Claim)),
    )
    assert after == before


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/v1/events?q=%FF%FE", 200),
        ("/v1/actors?q=Zel%C3%28nsky", 200),
        ("/v1/claims?q=%ED%A0%80", 200),  # an encoded surrogate: not UTF-8
        ("/v1/events?actor=%80", 422),
        ("/v1/events/%FF", 404),
        ("/v1/actors/%C3%28", 404),
    ],
)
def test_invalid_utf8_in_urls_is_a_clear_answer(client: TestClient, url: str, status: int) -> None:
    """Percent-encoded bytes that are not UTF-8 are read as U+FFFD: a search finds nothing,
    an id or an actor names nothing (404, 422 naming the parameter); never a 500."""
    response = client.get(url)
    assert response.status_code == status, (url, response.text)
    if status == 200:
        assert response.json()["data"] == []
    else:
        assert_problem(response, status, "actor" if status == 422 else None)
