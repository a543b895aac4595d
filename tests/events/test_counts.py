"""`meta.total`: exact by default (off the rollups where the filters allow, and equal to a
scan), and counted as a `Prefer: count=…` header asks otherwise."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.vocab import EventType
from tests.factories import make_event

# Every event type at once filters nothing, but takes the count off the rollups.
EVERY_TYPE = [t.value for t in EventType]

CASES: list[dict[str, Any]] = [
    {},
    {"actor": "russia"},
    {"actor": "Russia"},
    {"start": "2026-01-01"},
    {"end": "2026-01-31"},
    {"start": "2026-01-23", "end": "2026-02-05"},
    {"actor": "russia", "start": "2026-01-23", "end": "2026-02-05"},
    {"actor": "ukraine", "end": "2025-12-31"},
    {"actor": "putin", "start": "2027-01-01"},
]


def total(client: TestClient, params: dict[str, Any], **headers: str) -> Any:
    answer = client.get("/v1/events", params=params | {"limit": 1}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["meta"]["total"]


@pytest.mark.parametrize("params", CASES)
def test_rolled_up_totals_equal_a_scan(
    client: TestClient, session: Session, params: dict[str, Any]
) -> None:
    # Awkward events: open-ended, undated, one ending the day a range starts.
    make_event(session, "count-open", date(2025, 6, 1), status="ongoing", actors=("russia",))
    make_event(session, "count-undated", None, actors=("russia", "ukraine"))
    make_event(session, "count-edge", date(2026, 1, 1), date(2026, 1, 23), actors=("russia",))
    scanned = total(client, params | {"type": EVERY_TYPE})
    assert total(client, params) == scanned
    assert scanned == len(client.get("/v1/events", params=params | {"limit": 1000}).json()["data"])


def test_the_default_count_says_nothing_of_itself(client: TestClient) -> None:
    answer = client.get("/v1/events", params={"actor": "russia"})
    assert "count" not in answer.json()["meta"]
    assert "preference-applied" not in answer.headers
    assert answer.headers["x-total-count"] == str(answer.json()["meta"]["total"])


def test_prefer_count_none_skips_the_count(client: TestClient) -> None:
    answer = client.get("/v1/events", params={"type": "CONSULT"}, headers={"Prefer": "count=none"})
    assert answer.status_code == 200
    meta = answer.json()["meta"]
    assert meta["total"] is None
    assert meta["count"] == "none"
    assert answer.headers["preference-applied"] == "count=none"
    assert "x-total-count" not in answer.headers
    assert answer.json()["data"], "the page itself is still answered"


@pytest.mark.parametrize("preference", ["planned", "estimated"])
def test_prefer_planned_or_estimated(client: TestClient, session: Session, preference: str) -> None:
    params = {"type": "CONSULT"}
    exact = total(client, params)
    answer = client.get("/v1/events", params=params, headers={"Prefer": f"count={preference}"})
    meta = answer.json()["meta"]
    applied = meta["count"]
    assert answer.headers["preference-applied"] == f"count={applied}"
    assert isinstance(meta["total"], int)
    assert meta["total"] >= 0
    if session.get_bind().dialect.name == "sqlite" or preference == "estimated":
        # SQLite keeps no row estimates; a small answer is counted exactly anyway.
        assert (applied, meta["total"]) == ("exact", exact)
    else:
        assert applied == "planned"
    # Filters a rollup answers are counted exactly whatever was asked.
    rolled = client.get(
        "/v1/events", params={"actor": "russia"}, headers={"Prefer": f"count={preference}"}
    )
    assert rolled.json()["meta"]["count"] == "exact"
    assert rolled.json()["meta"]["total"] == total(client, {"actor": "russia"})


def test_an_unknown_preference_is_ignored(client: TestClient) -> None:
    for prefer in ("count=all", "return=minimal", "count"):
        answer = client.get("/v1/events", headers={"Prefer": prefer})
        assert answer.status_code == 200
        assert "count" not in answer.json()["meta"]
        assert "preference-applied" not in answer.headers
        assert isinstance(answer.json()["meta"]["total"], int)
    several = client.get("/v1/events", headers={"Prefer": 'return=minimal, count="none"'})
    assert several.json()["meta"]["total"] is None


@pytest.mark.parametrize(
    "url", ["/v1/claims?speaker=zelensky", "/v1/actors?kind=state", "/v1/sources"]
)
def test_every_list_counts_as_asked(client: TestClient, session: Session, url: str) -> None:
    """Claims, actors and sources are counted like events: exactly by default, not at all
    for `count=none`, and estimated (PostgreSQL) or exactly (SQLite) when asked to plan."""
    default = client.get(url)
    assert default.status_code == 200, default.text
    exact = default.json()["meta"]["total"]
    everything = client.get(url + ("&" if "?" in url else "?") + "limit=1000")
    assert exact == len(everything.json()["data"]) > 0
    assert "count" not in default.json()["meta"]
    assert "preference-applied" not in default.headers

    skipped = client.get(url, headers={"Prefer": "count=none"})
    assert skipped.json()["meta"]["total"] is None
    assert skipped.json()["meta"]["count"] == "none"
    assert skipped.headers["preference-applied"] == "count=none"
    assert "x-total-count" not in skipped.headers
    assert skipped.json()["data"] == default.json()["data"]

    postgres = session.get_bind().dialect.name == "postgresql"
    for preference in ("planned", "estimated"):
        answer = client.get(url, headers={"Prefer": f"count={preference}"})
        how = answer.json()["meta"]["count"]
        assert answer.headers["preference-applied"] == f"count={how}"
        if postgres and preference == "planned":
            assert how == "planned"
            assert isinstance(answer.json()["meta"]["total"], int)
        else:  # SQLite keeps no estimates; a small answer is counted exactly anyway
            assert (how, answer.json()["meta"]["total"]) == ("exact", exact)
