"""GET /v1/stats/summary and /v1/stats/quantities."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_event


def test_summary_matches_the_event_list(client: TestClient) -> None:
    body = client.get("/v1/stats/summary").json()
    assert body["total"] == 22
    assert (
        body["undated"]
        == client.get("/v1/events", params={"limit": 1}).json()["meta"]["total"]
        - client.get("/v1/events", params={"start": "1900-01-01", "limit": 1}).json()["meta"][
            "total"
        ]
    )
    assert sum(c["count"] for c in body["by_type"]) == 22
    assert sum(c["count"] for c in body["by_status"]) == 22
    assert body["first_date"] == "2020-01-01"
    assert body["sources"] == 1
    russia = next(a for a in body["top_actors"] if a["key"] == "russia")
    assert (
        russia["count"]
        == client.get("/v1/events", params={"actor": "russia"}).json()["meta"]["total"]
    )
    assert {c["key"] for c in body["by_country"]} == {"UKR", "ARE"}


def test_summary_takes_filters(client: TestClient) -> None:
    body = client.get("/v1/stats/summary", params={"actor": "xi-jinping", "top": 2}).json()
    assert body["total"] == 2
    assert len(body["top_actors"]) == 2


def test_quantity_sums_carry_ranges(client: TestClient, session: Session) -> None:
    make_event(
        session, "q-over", date(2031, 5, 1), quantities=(("fighters", 30, "people", "more_than"),)
    )
    make_event(
        session, "q-upto", date(2031, 6, 1), quantities=(("fighters", 40, "people", "up_to"),)
    )
    make_event(
        session, "q-exact", date(2031, 7, 1), quantities=(("fighters", 5, "people", "exact"),)
    )
    params = {"label": "Fighters", "interval": "year", "start": "2031-01-01", "end": "2031-12-31"}
    (row,) = client.get("/v1/stats/quantities", params=params).json()["data"]
    assert (row["events"], row["low"], row["high"]) == (3, 35, None)
    closed = client.get(
        "/v1/stats/quantities", params=params | {"start": "2031-06-01", "end": "2031-12-31"}
    ).json()["data"]
    assert [(r["events"], r["low"], r["high"]) for r in closed] == [(2, 5, 45)]


def test_figures_for_one_event_combine_and_conflicts_are_flagged(
    client: TestClient, session: Session
) -> None:
    make_event(
        session,
        "q-two-sources",
        date(2032, 1, 1),
        quantities=(("dead", 30, "people", "at_least"), ("dead", 40, "people", "up_to")),
    )
    make_event(
        session,
        "q-conflict",
        date(2032, 2, 1),
        quantities=(("dead", 50, "people", "exact"), ("dead", 10, "people", "exact")),
    )
    rows = client.get(
        "/v1/stats/quantities",
        params={"label": "dead", "interval": "month", "start": "2032-01-01", "end": "2032-02-28"},
    ).json()["data"]
    jan, feb = rows
    assert (jan["low"], jan["high"], jan["conflicting"]) == (30, 40, 0)
    assert (feb["low"], feb["high"], feb["conflicting"]) == (10, 50, 1)


def test_seeded_quantities(client: TestClient) -> None:
    rows = client.get("/v1/stats/quantities", params={"unit": "USD", "interval": "year"}).json()
    exports = next(r for r in rows["data"] if r["period_start"] == "2025-01-01" and r["events"])
    assert (exports["low"], exports["high"]) == (15_000_000_000, None)
    assert "tightest range" in rows["meta"]["method"]
