"""GET /v1/stats/places: each place's count is the event list's total for that place."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.main import create_app
from tests.conftest import seeded_scratch
from tests.curation.conftest import bearer, new_event
from tests.factories import make_event
from tests.test_error_shape import assert_problem

CENTROIDS = {"country_centroid", "continent_centroid"}
FILTERS = [
    {},
    {"start": "2026-01", "end": "2026-02"},
    {"type": "CONSULT"},
    {"actor": "vladimir-putin"},
    {"bbox": "22,44,41,53"},
    {"exclude_centroids": "true"},
    {"bbox": "-30,30,60,70", "exclude_centroids": "true"},
]


def places(client: TestClient, **params: Any) -> dict[str, Any]:
    """The JSON answer, checked to be a 200."""
    response = client.get("/v1/stats/places", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def listed(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every matching event as the event list shows it."""
    body = client.get("/v1/events", params={"limit": 1000, **params}).json()
    assert body["meta"]["next_cursor"] is None
    events: list[dict[str, Any]] = body["data"]
    return events


def located(event: dict[str, Any], exclude_centroids: bool) -> list[str]:
    """The ids of an event's places that a map can show."""
    return [
        place["id"]
        for place in event["locations"]
        if place["latitude"] is not None
        and not (exclude_centroids and place["precision"] in CENTROIDS)
    ]


@pytest.mark.parametrize("params", FILTERS)
def test_counts_are_the_event_lists_per_place(client: TestClient, params: dict[str, str]) -> None:
    body = places(client, **params)
    events = listed(client, **params)
    exclude = params.get("exclude_centroids") == "true"
    at: dict[str, int] = {}
    for event in events:
        for place in located(event, exclude):
            at[place] = at.get(place, 0) + 1
    meta = body["meta"]
    assert body["data"]  # every filter here leaves the seed some place to count
    assert meta["events"] == len(events)
    assert meta["without_coordinates"] == sum(1 for e in events if not located(e, exclude))
    assert {row["location_id"]: row["events"] for row in body["data"]} == at
    assert meta["places"] == len(at) == len(body["data"])
    assert meta["omitted_places"] == meta["omitted_events"] == 0
    counts = [(-row["events"], row["location_id"]) for row in body["data"]]
    assert counts == sorted(counts)
    for row in body["data"]:
        total = client.get(
            "/v1/events", params={"location": row["location_id"], "limit": 1, **params}
        ).json()["meta"]["total"]
        assert row["events"] == total
        assert not (exclude and row["precision"] in CENTROIDS)


def test_the_seed_has_places_and_events_without_any(client: TestClient) -> None:
    body = places(client)
    assert body["data"]
    assert body["meta"]["without_coordinates"] > 0
    assert any(row["precision"] in CENTROIDS for row in body["data"])
    kept = places(client, exclude_centroids="true")
    assert kept["meta"]["places"] < body["meta"]["places"]
    assert kept["meta"]["without_coordinates"] >= body["meta"]["without_coordinates"]


def test_filters_narrow_every_count(client: TestClient) -> None:
    every = {row["location_id"]: row["events"] for row in places(client)["data"]}
    for params in FILTERS[1:]:
        body = places(client, **params)
        assert body["meta"]["events"] <= places(client)["meta"]["events"]
        for row in body["data"]:
            assert row["events"] <= every[row["location_id"]], params
    assert places(client, start="1990", end="1990") == {
        "data": [],
        "meta": {
            "events": 0,
            "places": 0,
            "omitted_places": 0,
            "omitted_events": 0,
            "without_coordinates": 0,
        },
    }


def test_an_event_at_two_places_counts_at_each(client: TestClient, session: Session) -> None:
    before = places(client)
    counts = {row["location_id"]: row["events"] for row in before["data"]}
    two = [row["location_id"] for row in before["data"] if row["precision"] not in CENTROIDS][:2]
    assert len(two) == 2
    make_event(session, "test-two-places", date(2026, 2, 1), locations=tuple(two))
    after = places(client)
    changed = {row["location_id"]: row["events"] for row in after["data"]}
    assert changed == counts | {place: counts[place] + 1 for place in two}
    assert after["meta"]["events"] == before["meta"]["events"] + 1
    assert after["meta"]["without_coordinates"] == before["meta"]["without_coordinates"]
    # One more located event, two more counts: the counts add up past the located events.
    assert sum(changed.values()) == sum(counts.values()) + 2


def test_limit_counts_what_it_leaves_out(client: TestClient) -> None:
    every = places(client)
    assert every["meta"]["places"] >= 2
    for limit in range(1, every["meta"]["places"] + 1):
        cut = places(client, limit=limit)
        assert cut["data"] == every["data"][:limit]
        left = every["data"][limit:]
        assert cut["meta"]["places"] == every["meta"]["places"]
        assert cut["meta"]["omitted_places"] == len(left)
        assert cut["meta"]["omitted_events"] == sum(row["events"] for row in left)
        assert cut["meta"]["events"] == every["meta"]["events"]


def test_as_of_reads_the_places_as_they_stood(client: TestClient) -> None:
    assert places(client, as_of="1999-01-01T00:00:00Z")["data"] == []
    assert places(client, as_of="1999-01-01T00:00:00Z")["meta"]["events"] == 0
    assert places(client, as_of="9999-01-01T00:00:00Z") == places(client)
    assert_problem(client.get("/v1/stats/places", params={"as_of": "yesterday"}), 422, "as_of")


def test_as_of_before_a_committed_write(database_url: str, tmp_path: Path) -> None:
    """Reads as of a moment may run on connections of their own, which see only what is
    committed: this one writes through an app on a seeded database of its own."""
    for url, _, key in seeded_scratch(database_url, tmp_path, "places"):
        with TestClient(create_app(Settings(database_url=url))) as client:
            before = places(client)
            moment = datetime.now(UTC).isoformat()
            body = new_event("test-places-as-of", locations=["kyiv", "abu-dhabi"])
            created = client.post("/v1/events", json=body, headers=bearer(key))
            assert created.status_code == 201, created.text
            after = places(client)
            assert after["meta"]["events"] == before["meta"]["events"] + 1
            assert places(client, as_of=moment) == before
            at = {row["location_id"]: row["events"] for row in before["data"]}
            now = {row["location_id"]: row["events"] for row in after["data"]}
            assert now == at | {"kyiv": at["kyiv"] + 1, "abu-dhabi": at["abu-dhabi"] + 1}


def test_csv_ndjson_and_geojson_carry_the_same_rows(client: TestClient) -> None:
    body = places(client)
    for url, params in (
        ("/v1/stats/places.csv", {}),
        ("/v1/stats/places", {"format": "csv"}),
    ):
        response = client.get(url, params=params)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [r["location_id"] for r in rows] == [r["location_id"] for r in body["data"]]
        assert [int(r["events"]) for r in rows] == [r["events"] for r in body["data"]]
        assert [float(r["lat"]) for r in rows] == [r["lat"] for r in body["data"]]
        assert list(rows[0]) == list(body["data"][0])
    lines = client.get("/v1/stats/places.ndjson").text.splitlines()
    assert [json.loads(line) for line in lines] == body["data"]
    empty = client.get("/v1/stats/places.csv", params={"start": "1990", "end": "1990"})
    assert empty.text.strip() == ",".join(body["data"][0])
    for url, params in (
        ("/v1/stats/places.geojson", {}),
        ("/v1/stats/places", {"format": "geojson"}),
    ):
        response = client.get(url, params=params)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/geo+json"
        geo = response.json()
        assert geo["type"] == "FeatureCollection"
        assert [f["properties"] for f in geo["features"]] == body["data"]
        for feature, row in zip(geo["features"], body["data"], strict=True):
            assert feature["id"] == row["location_id"]
            assert feature["geometry"] == {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
        excluded = body["meta"]["without_coordinates"]
        assert geo["meta"] == body["meta"] | {"excluded_without_coordinates": excluded}
        assert int(response.headers["x-excluded-without-coordinates"]) == excluded
        assert int(response.headers["x-total-count"]) == body["meta"]["events"]
    accepted = client.get("/v1/stats/places", headers={"Accept": "application/geo+json"})
    assert accepted.json()["features"]
    assert_problem(client.get("/v1/stats/places.geojson", params={"format": "csv"}), 422, "format")


def test_conditional_get_answers_304(client: TestClient) -> None:
    first = client.get("/v1/stats/places", params={"type": "CONSULT"})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["last-modified"]
    again = client.get(
        "/v1/stats/places", params={"type": "CONSULT"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    other = client.get(
        "/v1/stats/places", params={"type": "AGREE"}, headers={"If-None-Match": etag}
    )
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "0,10,1,5"}, "bbox"),
        ({"bbox": "0,0,200,1"}, "bbox"),
        ({"location": "nowhere-at-all"}, "location"),
        ({"start": "2026-03", "end": "2026-01"}, "end"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_input_is_a_problem_naming_the_parameter(
    client: TestClient, params: dict[str, str], param: str
) -> None:
    assert_problem(client.get("/v1/stats/places", params=params), 422, param)
