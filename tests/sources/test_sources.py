"""GET /v1/sources and /v1/sources/{id}."""

from __future__ import annotations

from fastapi.testclient import TestClient

ARTICLE_SHA256 = "ba2b3a05f9875c957a2f14f2419b51dcd3cc5028c713b343a1a68458fd6706dd"


def test_source_list_and_detail(client: TestClient) -> None:
    body = client.get("/v1/sources").json()
    assert body["meta"]["total"] == 1
    (source,) = body["data"]
    assert source["id"] == "putin-roundup-article"
    assert source["sha256"] == ARTICLE_SHA256
    assert source["claim_count"] == 77
    # The article states no date, title, publisher or author: unknown stays unknown.
    assert source["published_date"] is None
    assert source["published_date_precision"] == "unknown"
    assert source["title"] is None
    assert source["publisher"] is None
    detail = client.get("/v1/sources/putin-roundup-article").json()
    assert detail == source


def test_unknown_source(client: TestClient) -> None:
    response = client.get("/v1/sources/nope")
    assert response.status_code == 404
    assert response.json()["param"] == "source_id"
    response = client.get("/v1/events", params={"source": "nope"})
    assert response.status_code == 422
    assert response.json()["param"] == "source"
