"""Creating, changing and deleting records through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.curation.conftest import bearer, etag, new_event
from tests.test_error_shape import assert_problem


def test_event_lifecycle(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    created = client.post("/v1/events", json=new_event(), headers=writer)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/events/test-new-event"
    assert created.headers["etag"].startswith('"1-')
    body = created.json()
    assert body["claims"][0]["id"] == "test-new-event-claim"
    assert body["source_count"] == 1
    assert body["actors"][0]["name"] == "Russia"
    assert client.get("/v1/events", params={"tag": "test"}).json()["meta"]["total"] == 1

    changed = client.patch(
        "/v1/events/test-new-event",
        json={"title": "A changed title", "tags": ["test", "changed"]},
        headers=writer | {"If-Match": created.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "A changed title"
    assert changed.headers["etag"].startswith('"2-')
    assert etag(client, "/v1/events/test-new-event") == changed.headers["etag"]

    history = client.get("/v1/events/test-new-event/history").json()["data"]
    assert [(r["kind"], r["op"], r["author"]) for r in history] == [
        ("event", "created", "test-write"),
        ("claim", "created", "test-write"),
        ("event", "updated", "test-write"),
    ]
    assert history[-1]["changes"] == {
        "tags": {"before": ["test"], "after": ["changed", "test"]},
        "title": {"before": "A test event", "after": "A changed title"},
    }

    gone = client.delete(
        "/v1/events/test-new-event", headers=writer | {"If-Match": changed.headers["etag"]}
    )
    assert gone.status_code == 204
    assert_problem(client.get("/v1/events/test-new-event"), 404, "event_id")
    assert client.get("/v1/events", params={"tag": "test"}).json()["meta"]["total"] == 0
    assert_problem(client.get("/v1/claims/test-new-event-claim"), 404, "claim_id")
    tombstones = client.get("/v1/events/test-new-event/history").json()["data"][-2:]
    assert {(r["kind"], r["op"]) for r in tombstones} == {
        ("event", "deleted"),
        ("claim", "deleted"),
    }
    assert all(r["after"] is None and r["before"] for r in tombstones)


def test_if_match_race_one_writer_wins(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    url = "/v1/events/putin-xi-video-summit"
    seen = etag(client, url)  # both writers read the same version
    first = client.patch(url, json={"title": "First"}, headers=writer | {"If-Match": seen})
    second = client.patch(url, json={"summary": "Second"}, headers=writer | {"If-Match": seen})
    assert first.status_code == 200
    problem = assert_problem(second, 412, "If-Match")
    assert problem["current_version"] == 2
    now = client.get(url).json()
    assert now["title"] == "First"  # the winner's change is kept, the loser's not applied
    assert now["summary"] != "Second"
    assert_problem(client.patch(url, json={"title": "x"}, headers=writer), 428, "If-Match")
    assert_problem(
        client.patch("/v1/events/no-such-event", json={}, headers=writer | {"If-Match": "*"}),
        404,
        "event_id",
    )


def test_writes_are_validated(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    cases = [
        (new_event(end_date="2026-02-01"), "end_date"),
        (new_event(actors=[{"actor": "nobody", "role": "initiator"}]), "actors.0.actor"),
        (new_event(locations=["atlantis"]), "locations.0"),
        (new_event(related=[{"event": "nothing", "relation": "follows"}]), "related.0.event"),
    ]
    for body, param in cases:
        answer = client.post("/v1/events", json=body, headers=writer)
        problem = assert_problem(answer, 422, None)
        assert str(problem["param"]).endswith(param), (param, problem)
    claim = new_event()["claims"][0] | {"id": "far-claim", "event_id": "putin-xi-video-summit"}
    outside = claim | {"evidence": {"start": 7000, "end": 7004, "text": "News"}}
    assert_problem(client.post("/v1/claims", json=outside, headers=writer), 422, "evidence.end")
    quote = claim | {"quote": "not in the span"}
    assert assert_problem(client.post("/v1/claims", json=quote, headers=writer), 422, None)
    taken = client.post("/v1/events", json=new_event("putin-xi-video-summit"), headers=writer)
    assert_problem(taken, 409, "id")
    patch = client.patch(
        "/v1/events/putin-xi-video-summit",
        json={"end_date": "2000-01-01"},
        headers=writer | {"If-Match": "*"},
    )
    assert_problem(patch, 422, None)
    assert client.get("/v1/events/putin-xi-video-summit").json()["end_date"] == "2026-02-04"


def test_source_text_checks_evidence_verbatim(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    source = {
        "id": "test-statement",
        "kind": "official_statement",
        "published_date_precision": "unknown",
        "text": "The ministry said talks would resume on Monday.",
    }
    made = client.post("/v1/sources", json=source, headers=writer)
    assert made.status_code == 201, made.text
    assert made.json()["text_length"] == len(source["text"])
    assert len(made.json()["sha256"]) == 64
    claim = {
        "id": "test-statement-claim",
        "source_id": "test-statement",
        "event_id": None,
        "statement": "Talks would resume.",
        "hedging": "reported",
        "evidence": {"start": 4, "end": 12, "text": "ministry"},
    }
    assert client.post("/v1/claims", json=claim, headers=writer).status_code == 201
    wrong = claim | {"id": "wrong", "evidence": {"start": 4, "end": 12, "text": "MINISTRY"}}
    assert_problem(client.post("/v1/claims", json=wrong, headers=writer), 422, "evidence.text")
    in_use = client.delete("/v1/sources/test-statement", headers=writer | {"If-Match": "*"})
    assert_problem(in_use, 409, "source_id")
    actor = client.delete("/v1/actors/russia", headers=writer | {"If-Match": "*"})
    assert_problem(actor, 409, "actor_id")


def test_idempotent_post(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"]) | {"Idempotency-Key": "retry-1"}
    first = client.post("/v1/events", json=new_event(), headers=writer)
    again = client.post("/v1/events", json=new_event(), headers=writer)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    history = client.get("/v1/events/test-new-event/history").json()["data"]
    assert len([r for r in history if r["kind"] == "event"]) == 1
    other = client.post("/v1/events", json=new_event(title="Other"), headers=writer)
    assert_problem(other, 422, "Idempotency-Key")


def test_if_match_is_compared_strongly(client: TestClient, keys: dict[str, str]) -> None:
    """RFC 9110: only one of the record's current strong ETags (or `*`) passes If-Match."""
    writer = bearer(keys["write"])
    url = "/v1/events/putin-xi-video-summit"
    current = etag(client, url)
    version = current.strip('"').split("-", 1)[0]
    other = etag(client, "/v1/events/zelensky-condemns-strike")
    assert other.startswith(f'"{version}-')  # another record at the same version
    refused = [
        f'"{version}-deadbeef"',
        f'"{version}"',
        f"W/{current}",
        other,
        f"{other}, W/{current}",
        current.strip('"'),
    ]
    for tag in refused:
        answer = client.patch(url, json={"title": "Not this"}, headers=writer | {"If-Match": tag})
        assert_problem(answer, 412, "If-Match")
        gone = client.delete(url, headers=writer | {"If-Match": tag})
        assert_problem(gone, 412, "If-Match")
    assert client.get(url).json()["title"] != "Not this"
    listed = client.patch(
        url, json={"title": "This"}, headers=writer | {"If-Match": f'"0-x", {current}'}
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["title"] == "This"
