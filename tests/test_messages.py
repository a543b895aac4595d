"""Refusals in our words: every 4xx names the parameter or field and says what is expected,
and no validation library's phrasing reaches the client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.curation.conftest import bearer, etag, new_event

# What the validation library says, which no answer of ours may.
FOREIGN = ("Input should", "Value should", "Field required", "Extra inputs", "JSON decode error")


def our_words(response: Response, status: int, param: str) -> dict[str, Any]:
    """A problem document with this status naming `param`, every message ours."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["param"] == param, body
    messages = [body["detail"], *(e["message"] for e in body.get("errors") or [])]
    for message in messages:
        assert message.strip(), body
        for phrase in FOREIGN:
            assert phrase not in message, (phrase, body)
    if param != "body":
        assert param.split(".")[-1] in body["detail"], body
    return body


READS: list[tuple[str, dict[str, Any], str]] = [
    ("/v1/events", {"q": "x" * 201}, "q"),
    ("/v1/events", {"as_of": "yesterday"}, "as_of"),
    ("/v1/events", {"as_of": "2026-01-01T00:00:00"}, "as_of"),
    ("/v1/events", {"strat": "2026-01-01"}, "strat"),
    ("/v1/events", {"limit": "ten"}, "limit"),
    ("/v1/events", {"limit": "0"}, "limit"),
    ("/v1/events", {"limit": "1001"}, "limit"),
    ("/v1/events", {"type": ["BOMBING", "CONSULT"]}, "type"),
    ("/v1/events", {"status": "maybe"}, "status"),
    ("/v1/events", {"start": "2026-13"}, "start"),
    ("/v1/events", {"start": "2026-02-30"}, "start"),
    ("/v1/events", {"start": "26"}, "start"),
    ("/v1/events", {"start": "2026-2"}, "start"),
    ("/v1/events", {"start": "2026-02-05T00:00:00"}, "start"),
    ("/v1/events", {"end": "9000"}, "end"),
    ("/v1/events", {"end": "0999-12"}, "end"),
    ("/v1/events", {"start": "2026-02", "end": "2026-01"}, "end"),
    ("/v1/events", {"actor": ["nobody-a", "nobody-b"]}, "actor"),
    ("/v1/events", {"actor": ["russia", "nobody"]}, "actor"),
    ("/v1/events", {"bbox": "1,2,3"}, "bbox"),
    ("/v1/events", {"min_sources": "0"}, "min_sources"),
    ("/v1/events", {"exclude_centroids": "maybe"}, "exclude_centroids"),
    ("/v1/events", {"fields": "id,nope"}, "fields"),
    ("/v1/events", {"format": "pdf"}, "format"),
    ("/v1/events", {"tag": "a\x00b"}, "tag"),
    ("/v1/events", {"cursor": "x" * 1001}, "cursor"),
    ("/v1/actors", {"kind": "robot"}, "kind"),
    ("/v1/claims", {"speaker": "nobody"}, "speaker"),
    ("/v1/stats/timeline", {"interval": "hour"}, "interval"),
    ("/v1/stats/timeline", {"start": "2026-00"}, "start"),
    ("/v1/stats/summary", {"top": "1000"}, "top"),
    ("/v1/stats/quantities", {"end": "2026-02-29"}, "end"),
    ("/v1/network", {"min_weight": "0"}, "min_weight"),
    ("/v1/network", {"mode": "circular"}, "mode"),
    ("/v1/changes", {"limit": "0"}, "limit"),
    ("/v1/changes", {"since": "garbage"}, "since"),
]


@pytest.mark.parametrize(("path", "params", "param"), READS)
def test_a_bad_read_is_refused_in_our_words(
    client: TestClient, path: str, params: dict[str, Any], param: str
) -> None:
    our_words(client.get(path, params=params), 422, param)


def test_a_parameter_read_twice_is_one_mistake(client: TestClient) -> None:
    body = our_words(client.get("/v1/events", params={"as_of": "yesterday"}), 422, "as_of")
    assert len(body["errors"]) == 1
    assert body["detail"].count("as_of") == 1
    assert "RFC 3339" in body["detail"]


def test_a_long_q_says_how_long_it_may_be(client: TestClient) -> None:
    body = our_words(client.get("/v1/events", params={"q": "x" * 201}), 422, "q")
    assert "200 characters" in body["detail"]


def test_two_unknown_actors_are_both_named(client: TestClient) -> None:
    body = our_words(
        client.get("/v1/events", params={"actor": ["nobody-a", "russia", "nobody-b"]}),
        422,
        "actor",
    )
    assert "'nobody-a'" in body["detail"]
    assert "'nobody-b'" in body["detail"]
    assert "'russia'" not in body["detail"]
    assert [e["param"] for e in body["errors"]] == ["actor", "actor"]


def test_a_union_is_one_sentence(client: TestClient) -> None:
    body = our_words(client.get("/v1/events", params={"limit": "ten"}), 422, "limit")
    assert len(body["errors"]) == 1
    assert "'all'" in body["detail"]
    assert "whole number" in body["detail"]


def _writes() -> list[tuple[str, str, str | None, dict[str, Any] | list[Any] | None, str]]:
    """(method, path, raw body, JSON body, the field the refusal names)"""
    claim = new_event()["claims"][0] | {"id": "message-claim", "event_id": "putin-xi-video-summit"}
    title_less = new_event()
    del title_less["title"]
    return [
        ("POST", "/v1/events", '{"a": ', None, "body"),
        ("POST", "/v1/events", "{'id': 'x'}", None, "body"),
        ("POST", "/v1/events", None, [], "body"),
        ("POST", "/v1/events", None, new_event(end_date="2026-02-01"), "end_date"),
        ("POST", "/v1/events", None, new_event(start_date=None, end_date=None), "date_precision"),
        ("POST", "/v1/events", None, new_event(bogus=1), "bogus"),
        ("POST", "/v1/events", None, title_less, "title"),
        ("POST", "/v1/events", None, new_event(title="t" * 501), "title"),
        ("POST", "/v1/events", None, new_event(claims=[]), "claims"),
        ("POST", "/v1/events", None, new_event(event_type="PARTY"), "event_type"),
        ("POST", "/v1/events", None, new_event(start_date="2026-02"), "start_date"),
        ("POST", "/v1/events", None, new_event(tags="test"), "tags"),
        ("POST", "/v1/events", None, new_event(id="Not A Slug"), "id"),
        ("POST", "/v1/events", None, new_event(summary="a\x00b"), "summary"),
        ("POST", "/v1/claims", None, claim | {"hedging": "perhaps"}, "hedging"),
        (
            "POST",
            "/v1/claims",
            None,
            claim | {"evidence": {"start": 0, "end": "x"}},
            "evidence.end",
        ),
    ]


@pytest.mark.parametrize(("method", "path", "raw", "body", "param"), _writes())
def test_a_bad_write_is_refused_in_our_words(
    client: TestClient,
    keys: dict[str, str],
    method: str,
    path: str,
    raw: str | None,
    body: Any,
    param: str,
) -> None:
    headers = bearer(keys["write"]) | {"Content-Type": "application/json"}
    content = raw if raw is not None else json.dumps(body)
    answer = client.request(method, path, content=content, headers=headers)
    problem = our_words(answer, 422, param)
    assert all(e["in"] == "body" for e in problem["errors"] or [])


def test_a_broken_body_says_where(client: TestClient, keys: dict[str, str]) -> None:
    headers = bearer(keys["write"]) | {"Content-Type": "application/json"}
    answer = client.post("/v1/events", content='{"a": ', headers=headers)
    problem = our_words(answer, 422, "body")
    assert "not valid JSON" in problem["detail"]
    assert "character 6" in problem["detail"]


def test_end_before_start_names_end_date(client: TestClient, keys: dict[str, str]) -> None:
    answer = client.post(
        "/v1/events", json=new_event(end_date="2026-02-01"), headers=bearer(keys["write"])
    )
    problem = our_words(answer, 422, "end_date")
    assert "start_date" in problem["detail"]


# A value for every path parameter, so that each GET route can be walked.
PATH_VALUES = {
    "event_id": "putin-xi-video-summit",
    "actor_id": "russia",
    "source_id": "putin-roundup-article",
    "claim_id": "no-such-claim",
}
ODD_VALUES = ["x", "-1", "0", "1e999", "2026-13-45", "☃" * 300, ""]


def test_every_query_parameter_refuses_in_our_words(client: TestClient) -> None:
    """Every query parameter of every documented GET, given odd values: a 2xx, or a 4xx whose
    messages are ours."""
    document = client.get("/openapi.json").json()
    walked = 0
    for template, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        path = template.format(**PATH_VALUES)
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for value in ODD_VALUES:
                answer = client.get(path, params={parameter["name"]: value})
                assert answer.status_code < 500, (path, parameter["name"], value)
                if answer.status_code >= 400:
                    body = answer.json()
                    messages = [body["detail"], *(e["message"] for e in body.get("errors") or [])]
                    for phrase in FOREIGN:
                        assert all(phrase not in m for m in messages), (path, value, body)
                walked += 1
    assert walked > 100


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"end_date": "2026-01-01"}, "end_date"),  # before the stored start_date
        ({"start_date": None}, "end_date"),  # an end without a start
        ({"date_precision": "unknown"}, "date_precision"),
        ({"start_date": "soon"}, "start_date"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_patch_is_refused_in_our_words(
    client: TestClient, keys: dict[str, str], patch: dict[str, Any], param: str
) -> None:
    url = "/v1/events/putin-xi-video-summit"
    headers = bearer(keys["write"]) | {"If-Match": etag(client, url)}
    our_words(client.patch(url, json=patch, headers=headers), 422, param)
    assert client.get(url).json()["end_date"] == "2026-02-04"
