"""Keyset pagination: no record skipped or repeated, ties on date included."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_event


def walk(client: TestClient, path: str, **params: object) -> list[str]:
    """Follow next_cursor from the first page to the last; check the Link header agrees."""
    seen: list[str] = []
    cursor = None
    for _ in range(1000):
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [row["id"] for row in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            return seen
        assert cursor in response.headers["link"]
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("sort", ["-date", "date"])
@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_pages_neither_skip_nor_repeat_with_ties(
    client: TestClient, session: Session, sort: str, limit: int
) -> None:
    for n in range(5):
        make_event(session, f"tie-{n}", date(2026, 2, 4))
    for n in range(3):
        make_event(session, f"undated-tie-{n}", None)
    everything = [
        e["id"]
        for e in client.get("/v1/events", params={"limit": 1000, "sort": sort}).json()["data"]
    ]
    assert len(everything) == 30
    assert walk(client, "/v1/events", limit=limit, sort=sort) == everything


def test_pagination_with_filters(client: TestClient) -> None:
    everything = [
        e["id"]
        for e in client.get("/v1/events", params={"actor": "russia", "limit": 1000}).json()["data"]
    ]
    assert walk(client, "/v1/events", actor="russia", limit=2) == everything


def test_cursor_of_another_sort_is_rejected(client: TestClient) -> None:
    cursor = client.get("/v1/events", params={"limit": 1}).json()["meta"]["next_cursor"]
    response = client.get("/v1/events", params={"limit": 1, "cursor": cursor, "sort": "date"})
    assert response.status_code == 422
    assert response.json()["param"] == "cursor"


@pytest.mark.parametrize("path", ["/v1/actors", "/v1/sources", "/v1/claims"])
def test_other_lists_paginate(client: TestClient, path: str) -> None:
    everything = [r["id"] for r in client.get(path, params={"limit": 1000}).json()["data"]]
    assert everything
    assert walk(client, path, limit=4) == everything
