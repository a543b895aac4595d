"""as_of reads and the change feed: the past is kept, and the feed rebuilds the present."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.kinds import Kind
from app.core.runtime import remove_stale
from app.curation import kinds, revisions
from app.curation.point_in_time import PointInTime
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
        model = kinds.REGISTRY[kind].model
        ids = list(session.scalars(select(model.id)))
        docs = kinds.documents(session, kind, ids)
        versions = revisions.versions(session, kind, ids)
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


def _second(moment: str) -> str:
    """An ISO moment in whole seconds, as records show their times."""
    return datetime.fromisoformat(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def test_as_of_shows_each_records_own_times(client: TestClient, keys: dict[str, str]) -> None:
    """created_at and updated_at under as_of are the record's (its first and last revision
    then), not the moment its past was rebuilt."""
    writer = bearer(keys["write"])
    url = "/v1/events/putin-xi-video-summit"
    live = client.get(url).json()
    changed = client.patch(url, json={"title": "Retitled"}, headers=writer | {"If-Match": "*"})
    assert changed.status_code == 200
    history = client.get(f"{url}/history").json()["data"]
    own = [r for r in history if r["kind"] == "event"]
    created_at, edited_at = _second(own[0]["at"]), _second(own[-1]["at"])
    later = "9999-01-01T00:00:00Z"
    past = client.get(url, params={"as_of": later}).json()
    assert past["title"] == "Retitled"
    assert past["created_at"] == created_at == live["created_at"]
    assert past["updated_at"] == edited_at
    before_edit = own[-2]["at"] if len(own) > 1 else own[0]["at"]
    earlier = client.get(url, params={"as_of": before_edit}).json()
    assert earlier["updated_at"] == _second(before_edit)
    claim = earlier["claims"][0]
    assert claim["created_at"] == live["claims"][0]["created_at"]


def test_point_in_time_files_are_removed(
    client: TestClient, session: Session, tmp_path: Any
) -> None:
    """A point-in-time folder goes with the app that made it, and one left by a process that
    died goes when the next server starts."""

    moment = datetime.now(UTC)
    keeper = PointInTime()
    keeper.session(session, moment).close()
    folder = keeper._folder
    assert folder is not None
    assert list(folder.glob("*.db"))
    keeper.close()
    assert not folder.exists()

    dead = tmp_path / "geoevents-as-of-dead"
    dead.mkdir()
    (dead / "pid").write_text("999999999")
    (dead / "at-1.db").write_bytes(b"")
    alive = tmp_path / "geoevents-as-of-alive"
    alive.mkdir()
    (alive / "pid").write_text(str(os.getpid()))
    assert remove_stale(tmp_path) == [dead]
    assert alive.exists()
