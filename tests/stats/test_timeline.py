"""GET /v1/stats/timeline: SQL counts per period, empty periods, series, formats."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_event


def events_total(client: TestClient, **params: Any) -> int:
    """The /v1/events total for these filters."""
    body = client.get("/v1/events", params={"limit": 1, **params}).json()
    total: int = body["meta"]["total"]
    return total


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"actor": "russia"},
        {"type": "CONSULT"},
        {"start": "2026-01-01", "end": "2026-03-31"},
        {"country": "ARE", "status": "occurred"},
        {"q": "talks"},
    ],
)
@pytest.mark.parametrize("interval", ["day", "week", "month", "year"])
def test_timeline_total_equals_event_list_total(
    client: TestClient, params: dict[str, str], interval: str
) -> None:
    if interval == "day" and "start" not in params:
        params = params | {"start": "2025-12-01", "end": "2026-03-01"}
    body = client.get("/v1/stats/timeline", params={"interval": interval, **params}).json()
    assert body["meta"]["total"] == events_total(client, **params)
    assert body["meta"]["interval"] == interval


def test_counts_add_up_when_no_event_spans_periods(client: TestClient, session: Session) -> None:
    for n, day in enumerate(
        [date(2030, 1, 1), date(2030, 1, 1), date(2030, 1, 5), date(2030, 3, 9)]
    ):
        make_event(session, f"one-day-{n}", day, day, tags=("one-day",))
    body = client.get("/v1/stats/timeline", params={"tag": "one-day", "interval": "month"}).json()
    assert body["meta"]["total"] == 4
    assert sum(row["count"] for row in body["data"]) == 4
    assert [(r["period_start"], r["count"]) for r in body["data"]] == [
        ("2030-01-01", 3),
        ("2030-02-01", 0),
        ("2030-03-01", 1),
    ]


def test_empty_periods_are_present_and_weeks_start_on_monday(client: TestClient) -> None:
    body = client.get(
        "/v1/stats/timeline",
        params={
            "interval": "week",
            "start": "2026-01-01",
            "end": "2026-03-31",
            "actor": "xi-jinping",
        },
    ).json()
    rows = body["data"]
    assert rows[0]["period_start"] == "2025-12-29"  # the Monday of 1 January 2026's ISO week
    assert all(date.fromisoformat(r["period_start"]).weekday() == 0 for r in rows)
    assert len(rows) == 14
    counts = {r["period_start"]: r["count"] for r in rows}
    assert counts["2026-02-02"] == 1  # the 4 February video summit
    assert sum(1 for n in counts.values() if n == 0) == 13


def test_spanning_events_count_in_every_period_they_overlap(client: TestClient) -> None:
    body = client.get(
        "/v1/stats/timeline",
        params={"interval": "day", "start": "2026-01-22", "end": "2026-01-25", "tag": "trilateral"},
    ).json()
    counts = {r["period_start"]: r["count"] for r in body["data"]}
    # Round 1 ran 23-24 January; the parent talks are ongoing from 23 January.
    assert counts == {"2026-01-22": 0, "2026-01-23": 2, "2026-01-24": 2, "2026-01-25": 1}


def test_group_by_series(client: TestClient) -> None:
    params = {"interval": "year", "start": "2026-01-01", "end": "2026-12-31"}
    body = client.get("/v1/stats/timeline", params=params | {"group_by": "type"}).json()
    (row,) = body["data"]
    assert row["series"]["CONSULT"] == events_total(
        client, type="CONSULT", start="2026-01-01", end="2026-12-31"
    )
    assert sum(row["series"].values()) == row["count"]  # one type per event
    by_actor = client.get(
        "/v1/stats/timeline", params=params | {"group_by": "actor", "series_limit": 2}
    ).json()
    assert by_actor["meta"]["series"] == ["russia", "united-states"]
    assert by_actor["meta"]["series_omitted"] > 0
    assert by_actor["data"][0]["series"]["russia"] == events_total(
        client, actor="russia", start="2026-01-01", end="2026-12-31"
    )


def test_timeline_csv_and_ndjson(client: TestClient) -> None:
    params = {"interval": "month", "start": "2026-01-01", "end": "2026-06-30", "group_by": "status"}
    as_json = client.get("/v1/stats/timeline", params=params).json()["data"]
    response = client.get("/v1/stats/timeline", params=params | {"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["period_start"] for r in rows] == [r["period_start"] for r in as_json]
    assert [int(r["count"]) for r in rows] == [r["count"] for r in as_json]
    assert [int(r["series_occurred"]) for r in rows] == [r["series"]["occurred"] for r in as_json]
    lines = client.get(
        "/v1/stats/timeline", params=params, headers={"Accept": "application/x-ndjson"}
    ).text.splitlines()
    assert len(lines) == len(as_json) == 6


def test_timeline_of_nothing_and_too_many_periods(client: TestClient) -> None:
    empty = client.get("/v1/stats/timeline", params={"q": "no-such-word-anywhere"}).json()
    assert empty["data"] == []
    assert empty["meta"]["total"] == 0
    too_many = client.get(
        "/v1/stats/timeline", params={"interval": "day", "start": "1900-01-01", "end": "2100-01-01"}
    )
    assert too_many.status_code == 422
    assert too_many.json()["param"] == "interval"
