"""GET /v1/actors, /v1/actors/{id} and /v1/actors/{id}/events."""

from __future__ import annotations

from fastapi.testclient import TestClient


def actor_ids(client: TestClient, **params: object) -> list[str]:
    """Ids of every actor matching the params."""
    response = client.get("/v1/actors", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["data"]]


def test_aliases_find_actors(client: TestClient) -> None:
    assert "european-union" in actor_ids(client, q="EU")
    assert actor_ids(client, q="Zelenskyy") == ["zelensky"]
    assert "xi-jinping" in actor_ids(client, q="xi")
    assert "united-states" in actor_ids(client, q="U.S.")


def test_kind_and_country_filters(client: TestClient) -> None:
    people = actor_ids(client, kind="person")
    assert "vladimir-putin" in people
    assert "russia" not in people
    assert set(actor_ids(client, kind="unnamed")) >= {"nato-diplomat", "seasoned-diplomat"}
    assert set(actor_ids(client, country="RUS")) >= {"vladimir-putin", "russia"}
    assert actor_ids(client, country="CHN", kind="person") == ["xi-jinping"]


def test_actor_detail_affiliations_both_ways(client: TestClient) -> None:
    putin = client.get("/v1/actors/vladimir-putin").json()
    assert putin["kind"] == "person"
    assert putin["country"] == "RUS"
    assert "Putin" in putin["aliases"]
    assert putin["affiliations"][0]["organization"]["id"] == "russia"
    assert putin["affiliations"][0]["role"] == "President"
    assert putin["event_count"] >= 5
    nato = client.get("/v1/actors/nato").json()
    members = {m["member"]["id"]: m for m in nato["members"]}
    assert members["mark-rutte"]["role"] == "Secretary-General"
    assert "nato-diplomat" in members
    diplomat = client.get("/v1/actors/nato-diplomat").json()
    assert diplomat["kind"] == "unnamed"
    trump = client.get("/v1/actors/donald-trump").json()
    assert trump["affiliations"][0]["current"] is False


def test_actor_events_take_every_event_filter(client: TestClient) -> None:
    everything = client.get("/v1/actors/vladimir-putin/events", params={"limit": 1000}).json()
    assert (
        everything["meta"]["total"] == client.get("/v1/actors/vladimir-putin").json()["event_count"]
    )
    narrowed = client.get(
        "/v1/actors/vladimir-putin/events",
        params={"actor": "xi-jinping", "start": "2026-02-04", "end": "2026-02-04"},
    ).json()
    assert [e["id"] for e in narrowed["data"]] == ["putin-xi-video-summit"]


def test_unknown_actor_is_404_everywhere(client: TestClient) -> None:
    for path in ("/v1/actors/nobody", "/v1/actors/nobody/events"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["param"] == "actor_id"
