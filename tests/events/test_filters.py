"""GET /v1/events filters, alone and combined, on the seeded database."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.actors.models import Affiliation
from tests.factories import make_event


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


def test_bbox_filter(client: TestClient) -> None:
    around_kyiv = set(ids(client, bbox="22,44,41,53"))
    assert around_kyiv == set(ids(client, location="kyiv"))
    assert set(ids(client, bbox="50,20,60,30")) == set(ids(client, location="abu-dhabi"))
    assert ids(client, bbox="-10,-10,10,10") == []
    # A box across the antimeridian, from 170°E to 60°E the long way round, holds both cities;
    # one from 60°E to 170°E holds neither.
    across = set(ids(client, bbox="170,-90,60,90"))
    assert across >= around_kyiv | set(ids(client, location="abu-dhabi"))
    assert not across & set(ids(client, bbox="60,-90,170,90"))


def test_exclude_centroids(client: TestClient) -> None:
    # Europe is located only by its continent centroid.
    europe = set(ids(client, location="europe"))
    assert europe
    box = "-20,30,40,70"
    assert europe <= set(ids(client, bbox=box))
    assert not europe & set(ids(client, bbox=box, exclude_centroids="true"))


@pytest.mark.parametrize(
    "bbox", ["1,2,3", "a,b,c,d", "0,0,200,10", "0,10,10,0", "nan,0,1,1", "0,0,1,1,1"]
)
def test_bad_bbox_is_422(client: TestClient, bbox: str) -> None:
    response = client.get("/v1/events", params={"bbox": bbox})
    assert response.status_code == 422
    assert response.json()["param"] == "bbox"


def test_precision_filter_says_what_it_left_out(client: TestClient) -> None:
    everything = client.get("/v1/events", params={"limit": 1}).json()["meta"]
    for precision, kept in (
        ("day", {"day"}),
        ("month", {"day", "month"}),
        ("year", {"day", "month", "year"}),
    ):
        body = client.get("/v1/events", params={"precision": precision, "limit": 1000}).json()
        assert {e["date_precision"] for e in body["data"]} <= kept
        assert body["meta"]["total"] + body["meta"]["excluded_by_precision"] == everything["total"]
    assert "excluded_by_precision" not in everything


def test_expand_members(client: TestClient) -> None:
    nato = set(ids(client, actor="nato"))
    expanded = set(ids(client, actor="nato", expand="members"))
    # Mark Rutte and the NATO diplomat are affiliated with NATO.
    assert expanded == nato | set(
        ids(client, actor=["mark-rutte", "nato-diplomat", "nato-sources"], actor_match="any")
    )
    assert expanded > nato
    assert "hybrid-warfare-deployment-warning" in expanded
    assert set(ids(client, actor="EU", expand="members")) >= set(
        ids(client, actor="eu-member-states")
    )


def test_expand_members_respects_membership_periods(client: TestClient, session: Session) -> None:

    session.add(
        Affiliation(
            id="test-period",
            actor_id="estonia",
            organization_id="nato",
            start_date=date(2030, 1, 1),
            end_date=date(2030, 12, 31),
            role="member",
        )
    )
    make_event(session, "estonia-before", date(2029, 6, 1), actors=("estonia",))
    make_event(session, "estonia-during", date(2030, 6, 1), actors=("estonia",))
    found = set(ids(client, actor="nato", expand="members", start="2029-01-01"))
    assert "estonia-during" in found
    assert "estonia-before" not in found


def test_full_text_search_semantics(client: TestClient) -> None:
    barbaric = ids(client, q="barbaric")
    assert ids(client, q="barb") == barbaric  # a word prefix
    assert ids(client, q="BARBARIC") == barbaric
    assert ids(client, q="arbaric") == []  # not a substring search
    assert ids(client, q="“barbaric”") == barbaric  # punctuation separates words
    both = set(ids(client, q="visa bans"))
    assert both <= set(ids(client, q="visa")) & set(ids(client, q="bans"))
    # The web search syntax (tests/test_search_grammar.py holds the whole table): OR between
    # alternatives, -word to exclude; the engines' own syntax is just words.
    putin = set(ids(client, q="putin"))
    assert set(ids(client, q="barbaric OR putin")) == set(barbaric) | putin
    assert set(ids(client, q="putin -barbaric")) == putin - set(barbaric)
    for q in ('NEAR("a" "b")', "barbaric*", "barbaric AND", "-", "OR"):
        response = client.get("/v1/events", params={"q": q})
        assert response.status_code == 200, q
