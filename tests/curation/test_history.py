"""as_of reads and the change feed: the past is kept, and the feed rebuilds the present."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.changes.service import PointInTime
from app.curation import service as curation
from app.curation.schemas import Kind
from tests.curation.conftest import bearer, etag, new_event
from tests.test_error_shape import assert_problem


def test_as_of_before_and_after_an_edit(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    url = "/v1/events/putin-xi-video-summit"
    old_title = client.get(url).json()["title"]
    before_edit = datetime.now(UTC).isoformat()
    changed = client.patch(
        url, json={"title": "Edited"}, headers=writer | {"If-Match": etag(client, url)}
    )
    assert changed.status_code == 200
    after_edit = datetime.now(UTC).isoformat()

    assert client.get(url, params={"as_of": before_edit}).json()["title"] == old_title
    assert client.get(url, params={"as_of": after_edit}).json()["title"] == "Edited"
    assert client.get(url).json()["title"] == "Edited"
    listed = client.get("/v1/events", params={"as_of": before_edit, "q": "video summit"}).json()
    titles = {e["title"] for e in listed["data"]}
    assert old_title in titles
    assert "Edited" not in titles

    created = client.post("/v1/events", json=new_event(), headers=writer)
    assert created.status_code == 201
    now = datetime.now(UTC).isoformat()
    assert_problem(
        client.get("/v1/events/test-new-event", params={"as_of": after_edit}), 404, "event_id"
    )
    assert client.get("/v1/events/test-new-event", params={"as_of": now}).status_code == 200
    totals = [
        client.get("/v1/stats/summary", params={"as_of": t}).json()["total"]
        for t in (after_edit, now)
    ]
    assert totals[1] == totals[0] + 1
    assert client.get("/v1/events", params={"as_of": "1999-01-01T00:00:00Z"}).json()["data"] == []
    assert_problem(client.get(url, params={"as_of": "2026-01-01T00:00:00"}), 422, "as_of")
    assert_problem(client.get(url, params={"as_of": "yesterday"}), 422, "as_of")


def feed(client: TestClient) -> list[dict[str, Any]]:
    """The whole change feed, page by page."""
    changes: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(
            "/v1/changes", params={"limit": 50, **({"since": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        body = page.json()
        changes += body["data"]
        cursor = body["meta"]["next_cursor"]
        if not body["meta"]["has_more"]:
            return changes


def snapshot(session: Session) -> dict[Kind, dict[str, Any]]:
    """Every record's document and version."""
    out: dict[Kind, dict[str, Any]] = {}
    for kind in Kind:
        model = curation.MODELS[kind]
        ids = list(session.scalars(select(model.id)))
        docs = curation.documents(session, kind, ids)
        versions = curation._versions(session, kind, ids)
        out[kind] = {i: (docs[i], versions.get(i)) for i in ids}
    return out


def test_replaying_the_feed_rebuilds_the_database(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    writer = bearer(keys["write"])
    assert client.post("/v1/events", json=new_event(), headers=writer).status_code == 201
    url = "/v1/events/putin-xi-video-summit"
    client.patch(url, json={"tags": ["edited"]}, headers=writer | {"If-Match": etag(client, url)})
    claim = "/v1/claims/summit-ties-exemplary"
    assert (
        client.delete(claim, headers=writer | {"If-Match": etag(client, claim)}).status_code == 204
    )
    linked = "/v1/events/energy-ceasefire"  # the strike event links to it ("follows")
    assert (
        client.delete(linked, headers=writer | {"If-Match": etag(client, linked)}).status_code
        == 204
    )
    actor = {"id": "test-actor", "name": "Test Actor", "kind": "person", "aliases": ["T. A."]}
    assert client.post("/v1/actors", json=actor, headers=writer).status_code == 201

    changes = feed(client)
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert {c["op"] for c in changes} >= {"created", "updated", "deleted"}
    last = client.get(
        "/v1/changes",
        params={
            "since": client.get("/v1/changes", params={"limit": 1000}).json()["meta"]["next_cursor"]
        },
    )
    assert last.json()["data"] == []

    rebuilt = PointInTime(keep=1).session(session, datetime.now(UTC))
    try:
        assert snapshot(rebuilt) == snapshot(session)
    finally:
        rebuilt.close()
