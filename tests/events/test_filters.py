"""GET /v1/events filters, alone and combined, on the seeded database."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def ids(client: TestClient, **params: Any) -> list[str]:
    """The ids of every event matching the params (one big page)."""
    response = client.get("/v1/events", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["total"] == len(body["data"])
    return [event["id"] for event in body["data"]]


def test_list_envelope_and_embedded_records(client: TestClient) -> None:
    response = client.get("/v1/events", params={"limit": 5})
    body = response.json()
    assert set(body) == {"data", "meta"}
    assert body["meta"]["total"] == 22
    assert body["meta"]["limit"] == 5
    assert len(body["data"]) == 5
    assert 'rel="next"' in response.headers["link"]
    strike = client.get("/v1/events", params={"q": "drones", "type": "ASSAULT"}).json()["data"][0]
    assert strike["id"] == "russian-strike-five-regions"
    assert {"id": "russia", "name": "Russia", "kind": "state", "role": "initiator"} in strike[
        "actors"
    ]
    assert [loc["id"] for loc in strike["locations"]] == ["kyiv", "ukraine"]
    drones = next(q for q in strike["quantities"] if q["unit"] == "drones")
    assert (drones["value"], drones["qualifier"], drones["low"], drones["high"]) == (
        450,
        "exact",
        450,
        450,
    )


def test_actor_filter_by_id_name_and_alias(client: TestClient) -> None:
    by_id = ids(client, actor="zelensky")
    assert "zelensky-condemns-strike" in by_id
    assert ids(client, actor="Zelenskyy") == by_id
    assert ids(client, actor="ZELENSKY") == by_id
    assert "eu-contribution" in ids(client, actor="EU")


def test_repeated_actor_is_all_of_and_actor_match_any_is_any_of(client: TestClient) -> None:
    putin = set(ids(client, actor="vladimir-putin"))
    xi = set(ids(client, actor="xi-jinping"))
    both = set(ids(client, actor=["vladimir-putin", "xi-jinping"]))
    either = set(ids(client, actor=["vladimir-putin", "xi-jinping"], actor_match="any"))
    assert both == putin & xi == {"putin-xi-video-summit"}
    assert either == putin | xi
    assert len(either) > len(both)


def test_date_range_overlap(client: TestClient) -> None:
    # The first Abu Dhabi round ran 23-24 January 2026: found on either day.
    assert "abu-dhabi-talks-round-1" in ids(client, start="2026-01-24", end="2026-01-24")
    assert "abu-dhabi-talks-round-1" in ids(client, start="2026-01-20", end="2026-01-23")
    assert "abu-dhabi-talks-round-1" not in ids(client, start="2026-01-25", end="2026-01-31")
    assert "abu-dhabi-talks-round-1" not in ids(client, start="2026-01-01", end="2026-01-22")
    # A year-precision event spans its year.
    assert "russian-military-exports-2025" in ids(client, start="2025-06-01", end="2025-06-01")
    # An ongoing event with no end runs on.
    assert "trilateral-talks-abu-dhabi" in ids(client, start="2026-03-01")
    # Only start, or only end.
    assert "war-major-escalation-2022" not in ids(client, start="2023-01-01")
    assert "war-major-escalation-2022" in ids(client, end="2022-01-01")


def test_russia_23_jan_to_5_feb(client: TestClient) -> None:
    found = ids(client, actor="russia", start="2026-01-23", end="2026-02-05")
    assert {
        "abu-dhabi-talks-round-1",
        "abu-dhabi-talks-round-2",
        "trilateral-talks-abu-dhabi",
        "putin-xi-video-summit",
        "new-start-observance-extension",
        "military-technical-cooperation-program-2026-2028",
    } <= set(found)


def test_date_filter_excludes_undated_events(client: TestClient) -> None:
    everything = set(ids(client))
    dated = set(ids(client, start="1900-01-01", end="2100-12-31"))
    undated = everything - dated
    assert "russian-strike-five-regions" in undated
    for event_id in undated:
        assert client.get(f"/v1/events/{event_id}").json()["start_date"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "ASSAULT"}, {"russian-strike-five-regions"}),
        ({"status": "proposed"}, {"new-start-observance-extension", "xi-grandiose-plan"}),
        ({"status": "considered"}, {"eu-visa-ban-consideration"}),
        ({"country": "UKR"}, None),
        ({"country": "ua"}, None),
        ({"location": "Kyiv"}, None),
        (
            {"tag": "new-start"},
            {"new-start-observance-extension", "new-start-inspections-suspended"},
        ),
        ({"q": "barbaric"}, {"zelensky-condemns-strike"}),
    ],
)
def test_single_filters(
    client: TestClient, params: dict[str, str], expected: set[str] | None
) -> None:
    found = set(ids(client, **params))
    assert found
    if expected is not None:
        assert found == expected


def test_country_and_location_filters(client: TestClient) -> None:
    in_ukraine = set(ids(client, country="UKR"))
    assert set(ids(client, country="ua")) == in_ukraine
    assert set(ids(client, location="kyiv")) <= in_ukraine
    assert "rutte-visits-kyiv" in set(ids(client, location="Kyiv"))
    assert set(ids(client, country="ARE")) == set(ids(client, location="abu-dhabi"))


def test_repeated_type_and_status_are_any_of(client: TestClient) -> None:
    both = set(ids(client, type=["ASSAULT", "FIGHT"]))
    assert both == set(ids(client, type="ASSAULT")) | set(ids(client, type="FIGHT"))
    two = set(ids(client, status=["proposed", "warned"]))
    assert two == set(ids(client, status="proposed")) | set(ids(client, status="warned"))


def test_source_filter(client: TestClient) -> None:
    assert len(ids(client, source="putin-roundup-article")) == 22


def test_text_search_is_case_insensitive_all_words(client: TestClient) -> None:
    assert ids(client, q="GRANDIOSE") == ids(client, q="grandiose")
    assert set(ids(client, q="visa bans")) <= set(ids(client, q="visa"))
    assert ids(client, q="zzzz-no-such-word") == []
    # LIKE metacharacters are matched literally.
    assert ids(client, q="%") == []
    assert ids(client, q="_") == []


def test_combined_filters(client: TestClient) -> None:
    found = ids(
        client,
        actor=["russia", "united-states"],
        type="CONSULT",
        country="ARE",
        start="2026-02-01",
        end="2026-02-28",
        q="round",
    )
    assert found == ["abu-dhabi-talks-round-2", "trilateral-talks-abu-dhabi"]
    assert ids(client, actor="xi-jinping", status="proposed", tag="plan") == ["xi-grandiose-plan"]
    assert ids(client, actor="russia", type="ASSAULT", location="kyiv", q="drones") == [
        "russian-strike-five-regions"
    ]


def test_sort_orders(client: TestClient) -> None:
    newest = client.get("/v1/events", params={"limit": 1000}).json()["data"]
    oldest = client.get("/v1/events", params={"limit": 1000, "sort": "date"}).json()["data"]
    dated_new = [e["start_date"] for e in newest if e["start_date"]]
    dated_old = [e["start_date"] for e in oldest if e["start_date"]]
    assert dated_new == sorted(dated_new, reverse=True)
    assert dated_old == sorted(dated_old)
    assert newest[0]["id"] == "new-start-observance-extension"
    assert oldest[0]["id"] == "new-start-inspections-suspended"
    # Undated events come last in both orders.
    assert newest[-1]["start_date"] is None
    assert oldest[-1]["start_date"] is None
