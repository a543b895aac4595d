"""GET /v1/claims/{claim_id}/evidence: a claim's span where it stands in its source's text."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.curation.conftest import bearer
from tests.test_error_shape import assert_problem


def source_text(client: TestClient) -> str:
    return str(client.get("/v1/sources/putin-roundup-article/text").text)


def test_a_span_in_its_context(client: TestClient) -> None:
    text = source_text(client)
    claim = client.get("/v1/claims/zelensky-barbaric").json()
    span = claim["evidence"]
    answer = client.get("/v1/claims/zelensky-barbaric/evidence", params={"context": 40})
    assert answer.status_code == 200
    assert "etag" in answer.headers
    got = answer.json()
    assert got["claim_id"] == "zelensky-barbaric"
    assert got["source_id"] == span["source_id"]
    assert (got["start"], got["end"], got["text"]) == (span["start"], span["end"], span["text"])
    assert got["text_stored"] is True
    assert got["text_length"] == len(text)
    assert got["before_start"] == span["start"] - 40
    assert got["after_end"] == span["end"] + 40
    assert got["before"] == text[span["start"] - 40 : span["start"]]
    assert got["after"] == text[span["end"] : span["end"] + 40]
    assert (
        got["before"] + got["text"] + got["after"] == text[got["before_start"] : got["after_end"]]
    )


def test_the_context_stops_at_the_texts_ends(client: TestClient) -> None:
    text = source_text(client)
    claims = client.get("/v1/claims", params={"limit": "all"}).json()["data"]
    first = min(claims, key=lambda c: c["evidence"]["start"])
    last = max(claims, key=lambda c: c["evidence"]["end"])
    for claim in (first, last):
        got = client.get(f"/v1/claims/{claim['id']}/evidence", params={"context": 10_000}).json()
        assert got["before_start"] == 0
        assert got["after_end"] == len(text)
        assert got["before"] + got["text"] + got["after"] == text
    default = client.get(f"/v1/claims/{first['id']}/evidence").json()
    assert len(default["after"]) == 200
    none = client.get(f"/v1/claims/{first['id']}/evidence", params={"context": 0}).json()
    assert (none["before"], none["after"]) == ("", "")
    assert none["before_start"] == none["start"]
    assert none["after_end"] == none["end"]


def test_a_claim_of_a_source_without_text(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    source = {"id": "untexted", "kind": "report", "published_date_precision": "unknown"}
    assert client.post("/v1/sources", json=source, headers=writer).status_code == 201
    claim = {
        "id": "untexted-claim",
        "source_id": "untexted",
        "statement": "A statement.",
        "hedging": "asserted",
        "evidence": {"start": 10, "end": 15, "text": "words"},
    }
    assert client.post("/v1/claims", json=claim, headers=writer).status_code == 201
    got = client.get("/v1/claims/untexted-claim/evidence").json()
    assert got["text_stored"] is False
    assert (got["start"], got["end"], got["text"]) == (10, 15, "words")
    assert [got[k] for k in ("before", "after", "before_start", "after_end")] == [None] * 4


def test_bad_requests(client: TestClient) -> None:
    assert_problem(client.get("/v1/claims/no-such-claim/evidence"), 404, "claim_id")
    for context in ("-1", "10001", "many"):
        answer = client.get("/v1/claims/zelensky-barbaric/evidence", params={"context": context})
        assert_problem(answer, 422, "context")
