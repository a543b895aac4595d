"""GET /v1/claims and claims inside GET /v1/events/{id}."""

from __future__ import annotations

from fastapi.testclient import TestClient


def claims(client: TestClient, **params: object) -> list[dict[str, object]]:
    """Every claim matching the params."""
    response = client.get("/v1/claims", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["total"] == len(body["data"])
    data: list[dict[str, object]] = body["data"]
    return data


def test_quote_speaker_hedging_and_evidence(client: TestClient) -> None:
    (barbaric,) = [c for c in claims(client, q="barbaric") if c["quote"] == "barbaric"]
    assert barbaric["speaker"] == {"id": "zelensky", "name": "Zelensky", "kind": "person"}
    assert barbaric["hedging"] == "asserted"
    evidence = barbaric["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["source_id"] == "putin-roundup-article"
    assert evidence["end"] - evidence["start"] == len(evidence["text"])
    assert "barbaric" in evidence["text"]


def test_filters(client: TestClient) -> None:
    summit = claims(client, event="putin-xi-video-summit")
    assert summit
    assert {c["event_id"] for c in summit} == {"putin-xi-video-summit"}
    by_putin = claims(client, speaker="Putin")
    assert by_putin
    assert {c["speaker"]["id"] for c in by_putin} == {"vladimir-putin"}  # type: ignore[index]
    assert len(claims(client, source="putin-roundup-article")) == 77
    both = claims(client, event=["putin-xi-video-summit", "xi-grandiose-plan"], speaker="Xi")
    assert both
    assert all(c["speaker"]["id"] == "xi-jinping" for c in both)  # type: ignore[index]


def test_hedged_claims_keep_their_hedging(client: TestClient) -> None:
    kindergartens = claims(client, q="kindergartens reportedly")
    assert [c["hedging"] for c in kindergartens] == ["reported"]
    warning = claims(client, q="crazy")
    assert any(c["hedging"] == "warned" and c["quote"] == "crazy" for c in warning)


def test_claims_in_source_order(client: TestClient) -> None:
    starts = [c["evidence"]["start"] for c in claims(client)]  # type: ignore[index]
    assert starts == sorted(starts)


def test_unknown_references_are_422(client: TestClient) -> None:
    for param in ("event", "speaker", "source"):
        response = client.get("/v1/claims", params={param: "no-such-thing"})
        assert response.status_code == 422
        assert response.json()["param"] == param
        assert "no-such-thing" in response.json()["detail"]


def test_event_detail_carries_claims_and_related(client: TestClient) -> None:
    detail = client.get("/v1/events/russian-strike-five-regions").json()
    assert detail["source_ids"] == ["putin-roundup-article"]
    assert len(detail["claims"]) >= 5
    related = {(r["id"], r["relation"], r["direction"]) for r in detail["related"]}
    assert ("energy-ceasefire", "follows", "outgoing") in related
    assert ("zelensky-condemns-strike", "response_to", "incoming") in related
    quantities = {(q["unit"], q["qualifier"], q["low"], q["high"]) for q in detail["quantities"]}
    assert ("buildings", "more_than", 1000, None) in quantities
    assert ("people", "at_least", 10, None) in quantities
