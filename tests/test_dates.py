"""Date filters as people write them: a day, a month or a year."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_event

# Every route that takes the event filters, start and end among them.
FILTERED = [
    "/v1/events",
    "/v1/actors/russia/events",
    "/v1/stats/timeline",
    "/v1/stats/summary",
    "/v1/stats/quantities",
    "/v1/network",
]
# A bound as written, and the day it stands for: from the first day, through the last.
FORMS = [
    ({"start": "2026-02"}, {"start": "2026-02-01"}),
    ({"end": "2026-02"}, {"end": "2026-02-28"}),
    ({"start": "2026"}, {"start": "2026-01-01"}),
    ({"end": "2026"}, {"end": "2026-12-31"}),
    ({"start": "2026-01", "end": "2026-01"}, {"start": "2026-01-01", "end": "2026-01-31"}),
    ({"start": "2025", "end": "2026-02"}, {"start": "2025-01-01", "end": "2026-02-28"}),
    ({"end": "2028-02"}, {"end": "2028-02-29"}),
    ({"start": " 2026-02 "}, {"start": "2026-02-01"}),
]


def _answer(client: TestClient, path: str, params: dict[str, str]) -> Any:
    response = client.get(path, params={**params, **({"limit": 1000} if "events" in path else {})})
    assert response.status_code == 200, (path, params, response.text)
    return response.json()


@pytest.mark.parametrize("path", FILTERED)
@pytest.mark.parametrize(("written", "meant"), FORMS)
def test_a_month_or_a_year_means_its_days(
    client: TestClient, path: str, written: dict[str, str], meant: dict[str, str]
) -> None:
    assert _answer(client, path, written) == _answer(client, path, meant)


def test_the_month_forms_pick_the_events_of_that_month(client: TestClient) -> None:
    february = _answer(client, "/v1/events", {"start": "2026-02", "end": "2026-02"})["data"]
    assert february
    for event in february:
        last = event["end_date"] or event["start_date"]
        assert event["start_date"] <= "2026-02-28"
        assert last >= "2026-02-01" or event["status"] == "ongoing"
    january = _answer(client, "/v1/events", {"start": "2026-01", "end": "2026-01"})["data"]
    assert {e["id"] for e in february} != {e["id"] for e in january}


def test_end_of_february_follows_leap_years(client: TestClient, session: Session) -> None:
    make_event(session, "leap-day-event", date(2028, 2, 29))
    make_event(session, "common-february-end", date(2027, 2, 28))

    def ids(**params: str) -> set[str]:
        return {e["id"] for e in _answer(client, "/v1/events", params)["data"]}

    assert "leap-day-event" in ids(start="2028-02", end="2028-02")
    assert "leap-day-event" not in ids(start="2028-03")
    assert "leap-day-event" in ids(start="2028", end="2028")
    assert "common-february-end" in ids(start="2027-02", end="2027-02")
    assert "common-february-end" not in ids(start="2027-03", end="2027")


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("start", "2026-13"),
        ("start", "2026-00"),
        ("end", "2026-02-29"),
        ("start", "26"),
        ("start", "2026-2"),
        ("start", "20260205"),
        ("start", "2026-02-05T00:00:00"),
        ("end", "February 2026"),
        ("end", "9000"),
        ("start", "0999-12"),
    ],
)
@pytest.mark.parametrize("path", FILTERED)
def test_a_bad_date_is_a_422_naming_it(
    client: TestClient, path: str, param: str, value: str
) -> None:
    answer = client.get(path, params={param: value})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["param"] == param
    assert body["detail"].startswith(param)
    assert "should" not in body["detail"]


def test_the_forms_are_documented(client: TestClient) -> None:
    parameters = {
        p["name"]: p
        for p in client.get("/openapi.json").json()["paths"]["/v1/events"]["get"]["parameters"]
    }
    for name in ("start", "end"):
        assert "2026-02" in parameters[name]["description"]
        assert parameters[name]["schema"]["anyOf"][0]["pattern"]
    assert "28 February" in parameters["end"]["description"]
