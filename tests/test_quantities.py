"""GET /v1/quantities, every reported figure, and what /v1/stats/quantities leaves out."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.quantities.schemas import QuantityItem
from app.web.formats import csv_columns
from tests.curation.conftest import bearer
from tests.factories import make_event
from tests.test_error_shape import assert_problem

URL = "/v1/quantities"


def figures(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    answer = client.get(URL, params={"limit": "all"} | params)
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def event_ids(client: TestClient, **params: Any) -> set[str]:
    answer = client.get("/v1/events", params={"limit": "all"} | params)
    assert answer.status_code == 200, answer.text
    return {e["id"] for e in answer.json()["data"]}


def test_every_figure_the_claims_report(client: TestClient) -> None:
    claims = client.get("/v1/claims", params={"limit": "all"}).json()["data"]
    flattened = {
        q["id"]: q | {"source_id": c["source_id"], "hedging": c["hedging"]}
        for c in claims
        for q in c["quantities"]
    }
    listed = figures(client)
    assert len(listed) == len(flattened) == 13
    events = {e["id"]: e for e in client.get("/v1/events", params={"limit": "all"}).json()["data"]}
    for row in listed:
        assert {k: row[k] for k in flattened[row["id"]]} == flattened[row["id"]]
        event = events[row["event_id"]]
        assert row["event_title"] == event["title"]
        assert (row["start_date"], row["end_date"]) == (event["start_date"], event["end_date"])
        assert row["date_precision"] == event["date_precision"]
        assert row["locations"] == event["locations"]
        assert list(row) == list(QuantityItem.model_fields)
    # The figures of undated events are there: 7 of the 13.
    assert sum(1 for row in listed if row["start_date"] is None) == 7
    (drones,) = figures(client, label="Drones Used")
    assert (drones["value"], drones["unit"], drones["qualifier"]) == (450, "drones", "exact")
    assert (drones["low"], drones["high"]) == (450, 450)
    assert drones["as_reported"] == "450 drones"
    assert drones["event_id"] == "russian-strike-five-regions"
    more_than = figures(client, qualifier="more_than")
    assert len(more_than) == 4
    assert all(r["low"] is not None and r["high"] is None for r in more_than)
    assert all(r["low_inclusive"] is False for r in more_than)
    assert {r["unit"] for r in figures(client, unit="USD")} == {"USD"}


FILTERS: list[dict[str, Any]] = [
    {"actor": "russia"},
    {"actor": ["russia", "ukraine"]},
    {"actor": ["russia", "china"], "actor_match": "any"},
    {"actor": "russia", "expand": "members"},
    {"type": "ASSAULT"},
    {"status": "proposed"},
    {"start": "2026-01-01"},
    {"start": "2025-01-01", "end": "2025-12-31"},
    {"country": "UKR"},
    {"location": "Kyiv"},
    {"tag": "new-start"},
    {"min_sources": 1},
    {"q": "drones"},
    {"bbox": "22,44,41,53"},
    {"bbox": "22,44,41,53", "exclude_centroids": "true"},
    {"precision": "year"},
]


@pytest.mark.parametrize(
    "params", FILTERS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items())
)
def test_every_event_filter_applies_to_the_figures_events(
    client: TestClient, params: dict[str, Any]
) -> None:
    with_figures = {row["event_id"] for row in figures(client)}
    matching = event_ids(client, **params)
    listed = figures(client, **params)
    assert {row["event_id"] for row in listed} == matching & with_figures
    everything = figures(client)
    assert len(listed) == sum(1 for row in everything if row["event_id"] in matching)
    if "precision" in params:
        loose = figures(client, **{k: v for k, v in params.items() if k != "precision"})
        meta = client.get(URL, params=params).json()["meta"]
        assert meta["excluded_by_precision"] == len(loose) - len(listed) > 0


def test_source_selects_the_figures_it_reports(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    text = "Russia supplied military equipment to 28 countries in 2025."
    source = {
        "id": "second-report",
        "kind": "report",
        "published_date_precision": "unknown",
        "text": text,
    }
    assert client.post("/v1/sources", json=source, headers=writer).status_code == 201
    words = "28 countries"
    start = text.index(words)
    claim = {
        "id": "second-report-exports",
        "source_id": "second-report",
        "event_id": "russian-military-exports-2025",
        "statement": "Russia supplied 28 countries.",
        "hedging": "asserted",
        "evidence": {"start": start, "end": start + len(words), "text": words},
        "quantities": [
            {
                "label": "countries supplied with military equipment",
                "value": 28,
                "unit": "countries",
                "qualifier": "exact",
                "as_reported": words,
            }
        ],
    }
    assert client.post("/v1/claims", json=claim, headers=writer).status_code == 201
    (theirs,) = figures(client, source="second-report")
    assert (theirs["claim_id"], theirs["source_id"]) == ("second-report-exports", "second-report")
    # The seed source's figures are its own, though it has claims about the same event.
    ours = figures(client, source="putin-roundup-article")
    assert len(ours) == 13
    assert "second-report" not in {r["source_id"] for r in ours}
    assert len(figures(client, label="countries supplied with military equipment")) == 2
    assert_problem(client.get(URL, params={"source": "nope"}), 422, "source")


def test_figures_about_no_event(client: TestClient, keys: dict[str, str]) -> None:
    remark = {
        "id": "general-figure",
        "source_id": "putin-roundup-article",
        "event_id": None,
        "statement": "A general remark with a number.",
        "hedging": "asserted",
        "evidence": {"start": 0, "end": 4, "text": "News"},
        "quantities": [{"label": "remarks", "value": 1, "unit": "remarks", "qualifier": "exact"}],
    }
    assert client.post("/v1/claims", json=remark, headers=bearer(keys["write"])).status_code == 201
    (row,) = figures(client, label="remarks")
    assert row["event_id"] is None
    assert (row["event_title"], row["start_date"], row["date_precision"]) == (None, None, None)
    assert row["locations"] == []
    # An event filter matches events: a figure about none is not among its matches.
    assert figures(client, label="remarks", type="ASSAULT") == []
    assert figures(client, label="remarks", min_sources=1) == []


def test_pages_follow_the_cursor(client: TestClient) -> None:
    everything = [row["id"] for row in figures(client)]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 4}
    pages = 0
    while True:
        answer = client.get(URL, params=params)
        body = answer.json()
        assert body["meta"]["total"] == 13
        seen += [row["id"] for row in body["data"]]
        pages += 1
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            assert "link" not in answer.headers
            break
        assert 'rel="next"' in answer.headers["link"]
        params = {"limit": 4, "cursor": cursor}
    assert pages == 4
    assert seen == everything
    assert_problem(client.get(URL, params={"cursor": "garbage"}), 422, "cursor")
    claims_cursor = client.get("/v1/claims", params={"limit": 1}).json()["meta"]["next_cursor"]
    assert_problem(client.get(URL, params={"cursor": claims_cursor}), 422, "cursor")
    counted = client.get(URL, params={"limit": 1}, headers={"Prefer": "count=none"})
    assert counted.json()["meta"]["total"] is None
    assert counted.headers["preference-applied"] == "count=none"


@pytest.mark.parametrize("limit", ["50", "all"])
def test_every_format(client: TestClient, limit: str) -> None:
    listed = figures(client)
    as_csv = client.get(URL, params={"format": "csv", "limit": limit})
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert list(rows[0]) == csv_columns(QuantityItem, None)
    assert [r["id"] for r in rows] == [r["id"] for r in listed]
    by_id = {r["id"]: r for r in rows}
    drones = by_id["strike-drones-missiles-five-regions-q1"]
    assert (drones["value"], drones["unit"], drones["low"], drones["high"]) == (
        "450",
        "drones",
        "450",
        "450",
    )
    assert drones["start_date"] == ""
    ndjson = client.get(URL, params={"format": "ndjson", "limit": limit})
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    assert [orjson.loads(line) for line in ndjson.text.splitlines()] == listed
    geo = client.get(URL, params={"limit": limit}, headers={"Accept": "application/geo+json"})
    assert geo.headers["content-type"] == "application/geo+json"
    collection = geo.json()
    assert collection["type"] == "FeatureCollection"
    located = [r for r in listed if any(loc["latitude"] is not None for loc in r["locations"])]
    assert [f["id"] for f in collection["features"]] == [r["id"] for r in located]
    assert collection["features"][0]["properties"] == located[0]
    excluded = len(listed) - len(located)
    assert int(geo.headers["x-excluded-without-coordinates"]) == excluded
    assert collection["meta"]["excluded_without_coordinates"] == excluded
    picked = client.get(URL, params={"fields": "id,value,claim_id", "limit": limit}).json()
    assert picked["data"][0] == {k: listed[0][k] for k in ("id", "value", "claim_id")}
    assert_problem(client.get(URL, params={"fields": "nope"}), 422, "fields")


def test_answers_are_cached(client: TestClient) -> None:
    answer = client.get(URL, params={"label": "drones used"})
    again = client.get(
        URL, params={"label": "drones used"}, headers={"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304


def test_unknown_references_are_422(client: TestClient) -> None:
    for param in ("actor", "location"):
        assert_problem(client.get(URL, params={param: "no-such-thing"}), 422, param)
    assert_problem(client.get(URL, params={"qualifier": "roughly"}), 422, "qualifier")


def test_stats_count_the_figures_they_leave_out(client: TestClient, session: Session) -> None:
    drones = client.get("/v1/stats/quantities", params={"label": "drones used"}).json()
    assert drones["data"] == []
    assert (drones["meta"]["undated_figures"], drones["meta"]["undated_figure_events"]) == (1, 1)
    everything = client.get("/v1/stats/quantities").json()["meta"]
    undated = [row for row in figures(client) if row["start_date"] is None]
    assert everything["undated_figures"] == len(undated) == 7
    assert everything["undated_figure_events"] == len({r["event_id"] for r in undated}) == 3
    dated = client.get("/v1/stats/quantities", params={"label": "joint projects underway"}).json()
    assert len(dated["data"]) == 1
    assert dated["meta"]["undated_figures"] == 0
    # The same filters leave out the same figures.
    ukraine = client.get("/v1/stats/quantities", params={"country": "UKR"}).json()["meta"]
    assert ukraine["undated_figures"] == sum(
        1 for r in figures(client, country="UKR") if r["start_date"] is None
    )
    make_event(session, "q-undated", None, quantities=(("drones used", 9, "drones", "exact"),))
    make_event(
        session, "q-dated", date(2031, 1, 1), quantities=(("drones used", 2, "drones", "exact"),)
    )
    after = client.get("/v1/stats/quantities", params={"label": "drones used"}).json()
    assert (after["meta"]["undated_figures"], after["meta"]["undated_figure_events"]) == (2, 2)
    assert [row["events"] for row in after["data"]] == [1]
    assert {r["event_id"] for r in figures(client, label="drones used")} == {
        "russian-strike-five-regions",
        "q-undated",
        "q-dated",
    }
