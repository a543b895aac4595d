"""as_of reads and the change feed: the past is kept, and the feed rebuilds the present."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import service as auth
from app.auth.schemas import Scope
from app.changes.models import Revision
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.core.kinds import Kind
from app.core.migrations import alembic_config
from app.core.temporal import REGISTRY
from app.curation import kinds, revisions
from app.main import create_app
from tests.conftest import migrate_and_seed, scratch_database
from tests.curation.conftest import bearer, etag, new_event
from tests.test_error_shape import assert_problem


@dataclass
class Committed:
    """The app on a database of its own, whose writes commit."""

    url: str
    client: TestClient
    keys: dict[str, str]


@pytest.fixture
def committed(database_url: str, tmp_path: Any) -> Iterator[Committed]:
    """Reads as of a moment may run on connections of their own (app.core.temporal), which
    see what is committed: these tests write through an app whose writes commit, on a
    seeded database of their own, instead of inside the suite's rolled-back transaction."""
    for url in scratch_database(database_url, tmp_path, "committed"):
        engine = make_engine(url)
        try:
            migrate_and_seed(engine, Settings(database_url=url))
            with make_sessionmaker(engine)() as setup:
                keys = {"write": auth.create(setup, "test-write", Scope.write)}
                setup.commit()
            with TestClient(create_app(Settings(database_url=url))) as client:
                yield Committed(url, client, keys)
        finally:
            engine.dispose()


@pytest.fixture
def client(committed: Committed) -> TestClient:
    return committed.client


@pytest.fixture
def keys(committed: Committed) -> dict[str, str]:
    return committed.keys


@pytest.fixture
def session(committed: Committed) -> Iterator[Session]:
    engine = make_engine(committed.url)
    try:
        with make_sessionmaker(engine)() as s:
            yield s
    finally:
        engine.dispose()


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


def versions_of(session: Session) -> dict[str, set[tuple[Any, ...]]]:
    """Every versioned table's versions, with their validity intervals."""
    return {
        name: {tuple(row) for row in session.execute(select(entry.history))}
        for name, entry in REGISTRY.items()
    }


def test_replaying_the_feed_rebuilds_the_database(
    client: TestClient, session: Session, keys: dict[str, str], database_url: str, tmp_path: Any
) -> None:
    """The feed, replayed into an empty database, gives every record and every version of
    every row back, each valid over the same interval."""
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

    session.rollback()  # a fresh snapshot of what the client wrote
    for url in scratch_database(database_url, tmp_path, "replayed"):
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        try:
            with make_sessionmaker(engine)() as rebuilt:
                feed_rows = session.scalars(select(Revision).order_by(Revision.seq))
                revisions.replay(rebuilt, feed_rows)
                rebuilt.commit()
                assert snapshot(rebuilt) == snapshot(session)
                assert versions_of(rebuilt) == versions_of(session)
                assert all(versions_of(session).values())
        finally:
            engine.dispose()


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


def test_as_of_searches_the_words_of_then(client: TestClient, keys: dict[str, str]) -> None:
    """Search as of a moment matches the text records had then: the events', claims' and
    actors' search text keeps its versions as the rest does."""
    writer = bearer(keys["write"])

    def found(path: str, q: str, **params: str) -> set[str]:
        answer = client.get(path, params={"q": q, "limit": 1000, **params})
        assert answer.status_code == 200, answer.text
        return {r["id"] for r in answer.json()["data"]}

    before = datetime.now(UTC).isoformat()
    changed = client.patch(
        "/v1/actors/zelensky",
        json={"aliases": ["Zelenskyy", "Oleksandrovych"]},
        headers=writer | {"If-Match": etag(client, "/v1/actors/zelensky")},
    )
    assert changed.status_code == 200, changed.text
    after = datetime.now(UTC).isoformat()
    for path in ("/v1/events", "/v1/claims", "/v1/actors"):
        assert found(path, "Oleksandrovych", as_of=before) == set(), path
        assert found(path, "Oleksandrovych", as_of=after) == found(path, "Oleksandrovych"), path
        assert found(path, "Oleksandrovych"), path
