"""The stored read documents (of events, claims, actors and sources): each is exactly its
response schema, and the write path keeps every one of them exact through writes to the
records they show (an actor's name, a related event's title, a claim's speaker, a source's
claims), as a rebuild from the tables would have them."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.actors.models import Actor, ActorDocument
from app.actors.schemas import ActorDetail, ActorRead
from app.claims.models import Claim, ClaimDocument
from app.claims.schemas import ClaimRead
from app.curation import projections
from app.events.models import Event, EventDocument
from app.events.schemas import EventDetail, EventRead
from app.events.service import splice
from app.sources.models import Source, SourceDocument
from app.sources.schemas import SourceRead
from tests.curation.conftest import bearer, etag, new_event


def stored(session: Session) -> dict[str, tuple[str, str]]:
    """event id -> (item, detail) as the projection table holds them."""
    rows = session.execute(select(EventDocument.event_id, EventDocument.item, EventDocument.detail))
    return {row.event_id: (row.item, row.detail) for row in rows}


def rebuilt(session: Session) -> dict[str, tuple[str, str]]:
    """The same documents built afresh from the tables."""
    ids = list(session.scalars(select(Event.id)))
    return {d["event_id"]: (d["item"], d["detail"]) for d in projections.build(session, ids)}


def stored_claims(session: Session) -> dict[str, str]:
    """claim id -> item as the projection table holds it."""
    rows = session.execute(select(ClaimDocument.claim_id, ClaimDocument.item))
    return {row.claim_id: row.item for row in rows}


def rebuilt_claims(session: Session) -> dict[str, str]:
    ids = list(session.scalars(select(Claim.id)))
    return {d["claim_id"]: d["item"] for d in projections.build_claims(session, ids)}


def stored_actors(session: Session) -> dict[str, tuple[str, str]]:
    """actor id -> (item, members) as the projection table holds them."""
    rows = session.execute(
        select(ActorDocument.actor_id, ActorDocument.item, ActorDocument.members)
    )
    return {row.actor_id: (row.item, row.members) for row in rows}


def rebuilt_actors(session: Session) -> dict[str, tuple[str, str]]:
    ids = list(session.scalars(select(Actor.id)))
    return {
        d["actor_id"]: (d["item"], d["members"]) for d in projections.build_actors(session, ids)
    }


def stored_sources(session: Session) -> dict[str, str]:
    rows = session.execute(select(SourceDocument.source_id, SourceDocument.item))
    return {row.source_id: row.item for row in rows}


def rebuilt_sources(session: Session) -> dict[str, str]:
    ids = list(session.scalars(select(Source.id)))
    return {d["source_id"]: d["item"] for d in projections.build_sources(session, ids)}


def assert_exact(session: Session) -> None:
    """Every stored document, of events, claims and actors, as a rebuild would make it."""
    assert stored(session) == rebuilt(session)
    assert stored_claims(session) == rebuilt_claims(session)
    assert stored_actors(session) == rebuilt_actors(session)
    assert stored_sources(session) == rebuilt_sources(session)


def test_every_stored_source_is_its_response_schema(client: TestClient, session: Session) -> None:
    documents = stored_sources(session)
    assert set(documents) == set(session.scalars(select(Source.id)))
    for item in documents.values():
        as_item: dict[str, Any] = orjson.loads(item)
        assert SourceRead.model_validate_json(item).model_dump(mode="json") == as_item
        assert list(as_item) == list(SourceRead.model_fields)
        cited = client.get("/v1/claims", params={"source": as_item["id"], "limit": 1000})
        assert as_item["claim_count"] == len(cited.json()["data"])
        assert client.get(f"/v1/sources/{as_item['id']}").content == item.encode()
    page = client.get("/v1/sources", params={"limit": 500}).json()["data"]
    assert [orjson.loads(documents[s["id"]]) for s in page] == page


def test_every_stored_actor_is_its_response_schema(client: TestClient, session: Session) -> None:
    documents = stored_actors(session)
    assert set(documents) == set(session.scalars(select(Actor.id)))
    assert any(members != "[]" for _, members in documents.values()), "the seed has members"
    for item, _ in documents.values():
        as_item: dict[str, Any] = orjson.loads(item)
        assert ActorRead.model_validate_json(item).model_dump(mode="json") == as_item
        assert list(as_item) == list(ActorRead.model_fields)
    page = client.get("/v1/actors", params={"limit": 500}).json()["data"]
    assert [orjson.loads(documents[a["id"]][0]) for a in page] == page
    for actor_id, (item, members) in documents.items():
        detail = client.get(f"/v1/actors/{actor_id}")
        as_detail = ActorDetail.model_validate_json(detail.content).model_dump(mode="json")
        assert as_detail == detail.json()
        assert list(detail.json()) == list(ActorDetail.model_fields)
        assert {k: detail.json()[k] for k in ActorRead.model_fields} == orjson.loads(item)
        assert detail.json()["members"] == orjson.loads(members)
        listed = client.get(f"/v1/actors/{actor_id}/events", params={"limit": 1000})
        assert detail.json()["event_count"] == len(listed.json()["data"])


def test_every_stored_claim_is_its_response_schema(client: TestClient, session: Session) -> None:
    documents = stored_claims(session)
    assert documents, "the seed holds claims"
    assert set(documents) == set(session.scalars(select(Claim.id)))
    for item in documents.values():
        as_item: dict[str, Any] = orjson.loads(item)
        assert ClaimRead.model_validate_json(item).model_dump(mode="json") == as_item
        assert list(as_item) == list(ClaimRead.model_fields)
    page = client.get("/v1/claims", params={"limit": 500}).json()["data"]
    assert [orjson.loads(documents[c["id"]]) for c in page] == page
    some = sorted(documents)[0]
    assert client.get(f"/v1/claims/{some}").content == documents[some].encode()
    # The claims an event's detail shows are the stored claims, field for field.
    event_id = orjson.loads(documents[some])["event_id"]
    shown = client.get(f"/v1/events/{event_id}").json()["claims"]
    assert shown == [orjson.loads(documents[c["id"]]) for c in shown]


def test_every_stored_document_is_its_response_schema(session: Session) -> None:
    documents = stored(session)
    assert documents, "the seed holds events"
    assert set(documents) == set(session.scalars(select(Event.id)))
    for item, detail in documents.values():
        as_item: dict[str, Any] = orjson.loads(item)
        assert EventRead.model_validate_json(item).model_dump(mode="json") == as_item
        whole = splice(item, detail)
        as_detail: dict[str, Any] = orjson.loads(whole)
        assert EventDetail.model_validate_json(whole).model_dump(mode="json") == as_detail
        assert list(as_detail) == list(EventDetail.model_fields)
        assert {k: as_detail[k] for k in as_item} == as_item


def test_list_and_detail_answer_the_stored_documents(client: TestClient, session: Session) -> None:
    documents = stored(session)
    page = client.get("/v1/events", params={"limit": 500})
    assert page.status_code == 200
    for record in page.json()["data"]:
        assert record == orjson.loads(documents[record["id"]][0])
    some = sorted(documents)[0]
    answer = client.get(f"/v1/events/{some}")
    assert answer.content == splice(*documents[some]).encode()


def related_seed_event(client: TestClient) -> dict[str, Any]:
    """A seed event that links to another one."""
    for record in client.get("/v1/events", params={"limit": 500}).json()["data"]:
        detail = client.get(f"/v1/events/{record['id']}").json()
        if any(r["direction"] == "outgoing" for r in detail["related"]):
            return dict(detail)
    raise AssertionError("the seed has related events")


def test_documents_stay_exact_through_writes(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    writer = bearer(keys["write"])
    assert_exact(session)

    origin = related_seed_event(client)
    target = next(r["id"] for r in origin["related"] if r["direction"] == "outgoing")
    created = client.post(
        "/v1/events",
        json=new_event(related=[{"event": target, "relation": "follows"}]),
        headers=writer,
    )
    assert created.status_code == 201, created.text
    assert_exact(session)
    incoming = client.get(f"/v1/events/{target}").json()["related"]
    assert {"id": "test-new-event", "title": "A test event"}.items() <= next(
        r for r in incoming if r["id"] == "test-new-event"
    ).items()

    # The title of a related event is shown by the events on both sides of the link.
    retitled = client.patch(
        f"/v1/events/{target}",
        json={"title": "A new title for the target"},
        headers=writer | {"If-Match": etag(client, f"/v1/events/{target}")},
    )
    assert retitled.status_code == 200, retitled.text
    assert_exact(session)
    shown = client.get(f"/v1/events/{origin['id']}").json()["related"]
    assert "A new title for the target" in {r["title"] for r in shown}

    # An actor's name is shown by every event that lists it and every claim it speaks.
    claim = {
        "id": "test-spoken-claim",
        "event_id": "test-new-event",
        "source_id": "putin-roundup-article",
        "statement": "A statement somebody made.",
        "speaker": "zelensky",
        "hedging": "asserted",
        "evidence": {"start": 0, "end": 4, "text": "News"},
    }
    assert client.post("/v1/claims", json=claim, headers=writer).status_code == 201
    for actor, name in (("russia", "The Russian Federation"), ("zelensky", "V. Zelensky")):
        renamed = client.patch(
            f"/v1/actors/{actor}",
            json={"name": name},
            headers=writer | {"If-Match": etag(client, f"/v1/actors/{actor}")},
        )
        assert renamed.status_code == 200, renamed.text
    assert_exact(session)
    detail = client.get("/v1/events/test-new-event").json()
    assert detail["actors"][0]["name"] == "The Russian Federation"
    spoken = next(c for c in detail["claims"] if c["id"] == "test-spoken-claim")
    assert spoken["speaker"]["name"] == "V. Zelensky"
    assert client.get("/v1/claims/test-spoken-claim").json() == spoken
    assert detail["source_count"] == 1

    # Deleting a claim and then the event takes them out of every document.
    gone = client.delete(
        "/v1/claims/test-spoken-claim",
        headers=writer | {"If-Match": etag(client, "/v1/claims/test-spoken-claim")},
    )
    assert gone.status_code == 204
    assert_exact(session)
    gone = client.delete(
        "/v1/events/test-new-event",
        headers=writer | {"If-Match": etag(client, "/v1/events/test-new-event")},
    )
    assert gone.status_code == 204
    assert_exact(session)
    assert "test-new-event" not in stored(session)
    after = client.get(f"/v1/events/{target}").json()["related"]
    assert "test-new-event" not in {r["id"] for r in after}


def test_a_failed_write_leaves_every_document_as_it_was(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    before = (
        stored(session),
        stored_claims(session),
        stored_actors(session),
        stored_sources(session),
    )
    bad = new_event(actors=[{"actor": "no-such-actor", "role": "participant"}])
    answer = client.post("/v1/events", json=bad, headers=bearer(keys["write"]))
    assert answer.status_code == 422
    assert (
        stored(session),
        stored_claims(session),
        stored_actors(session),
        stored_sources(session),
    ) == before
