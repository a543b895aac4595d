"""Timelines read off the per-day rollups equal timelines counted over the events."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from app.core.vocab import DatePrecision, EventStatus, EventType
from app.curation import projections
from app.curation.seed import service as seed
from app.events.models import Event, TimelineDay
from tests.factories import make_event

SEED_FILE = Path(__file__).resolve().parents[2] / "seed_data" / "article.yaml"

# Every event type at once filters nothing, but takes the timeline off the rollups.
EVERY_TYPE = [t.value for t in EventType]

CASES: list[dict[str, Any]] = [
    {},
    {"actor": "russia"},
    {"actor": "Russia"},
    {"actor": "putin"},
    {"start": "2026-01-01", "end": "2026-03-31"},
    {"actor": "russia", "start": "2026-02-01", "end": "2026-02-28"},
    {"start": "2026-02-05"},
    {"end": "2026-02-05"},
    {"actor": "ukraine", "end": "2026-02-01"},
    {"start": "2031-01-01", "end": "2031-12-31"},
    {"end": "1999-01-01"},
    {"start": "2100-01-01"},
]


def rolled_up_and_scanned(client: TestClient, params: dict[str, Any]) -> tuple[Any, Any]:
    """The same timeline answered from the rollups and by the scan."""
    rolled = client.get("/v1/stats/timeline", params=params)
    scanned = client.get("/v1/stats/timeline", params={**params, "type": EVERY_TYPE})
    assert rolled.status_code == scanned.status_code == 200, (rolled.text, scanned.text)
    return rolled.json(), scanned.json()


def add_awkward_events(session: Session) -> None:
    """Events that start before, end after, span periods, run on open-ended, or have no date."""
    make_event(session, "long-span", date(2025, 11, 20), date(2026, 3, 2), actors=("russia",))
    make_event(session, "open-ended", date(2025, 12, 30), status="ongoing", actors=("russia",))
    make_event(session, "ongoing-ended", date(2026, 1, 3), date(2026, 2, 9), status="ongoing")
    make_event(session, "two-roles-undated", None, actors=("russia", "ukraine"))
    make_event(session, "far-future", date(2031, 6, 1), date(2031, 6, 1), actors=("ukraine",))


@pytest.mark.parametrize("interval", ["day", "week", "month", "year"])
@pytest.mark.parametrize("params", CASES)
def test_rollups_equal_the_scan(
    client: TestClient, session: Session, params: dict[str, Any], interval: str
) -> None:
    add_awkward_events(session)
    if interval == "day" and not (params.get("start") and params.get("end")):
        interval = "month"  # thousands of days otherwise
    rolled, scanned = rolled_up_and_scanned(client, {**params, "interval": interval})
    assert rolled == scanned
    assert (
        rolled["meta"]["total"]
        == client.get("/v1/events", params={**params, "limit": 1}).json()["meta"]["total"]
    )


UNSPLIT = [params for params in CASES if "actor" not in params]


@pytest.mark.parametrize("interval", ["month", "year"])
@pytest.mark.parametrize("group_by", ["type", "status"])
@pytest.mark.parametrize("params", UNSPLIT)
def test_series_by_type_and_status_equal_the_scan(
    client: TestClient, session: Session, params: dict[str, Any], group_by: str, interval: str
) -> None:
    """A split by type or status over every event is read off the type and status scopes;
    with every type named it is counted over the events: the two agree, series and ranking
    (`series_limit` included) too."""
    add_awkward_events(session)
    for limit in (20, 2):
        asked = {**params, "interval": interval, "group_by": group_by, "series_limit": limit}
        rolled, scanned = rolled_up_and_scanned(client, asked)
        assert rolled == scanned
    if not params:
        assert len(rolled["meta"]["series"]) == 2
        assert rolled["meta"]["series_omitted"] > 0


@pytest.mark.parametrize(
    "one",
    [
        {"type": "CONSULT"},
        {"type": "SANCTION"},
        {"type": "FIGHT"},
        {"status": "ongoing"},
        {"status": "occurred"},
        {"status": "proposed"},
    ],
)
@pytest.mark.parametrize("params", UNSPLIT)
def test_one_type_or_status_equals_the_scan(
    client: TestClient, session: Session, params: dict[str, Any], one: dict[str, str]
) -> None:
    """One type or one status is read off its scope; named twice it is counted over the
    events, and the two agree, with the list's total."""
    add_awkward_events(session)
    ((name, value),) = one.items()
    asked = {**params, **one, "interval": "month"}
    rolled = client.get("/v1/stats/timeline", params=asked).json()
    scanned = client.get("/v1/stats/timeline", params={**asked, name: [value, value]}).json()
    assert rolled == scanned
    listed = client.get("/v1/events", params={**params, **one, "limit": 1}).json()
    assert rolled["meta"]["total"] == listed["meta"]["total"]


def rebuilt(session: Session) -> set[tuple[str, date, int, int]]:
    """timeline_days as a rebuild from scratch would have it (inside this test's transaction)."""
    connection = session.connection()
    connection.execute(text("SAVEPOINT rebuild"))
    projections.rebuild_timeline_days(connection)
    rows = _rows(session)
    connection.execute(text("ROLLBACK TO SAVEPOINT rebuild"))
    return rows


def _rows(session: Session) -> set[tuple[str, date, int, int]]:
    return {
        (r.scope, r.day, r.starts, r.ends)
        for r in session.execute(select(TimelineDay)).scalars()
        if r.starts or r.ends
    }


def test_rollups_stay_exact_through_writes(client: TestClient, session: Session) -> None:
    assert _rows(session) == rebuilt(session) != set()
    add_awkward_events(session)
    assert _rows(session) == rebuilt(session)
    before, _ = rolled_up_and_scanned(client, {"interval": "month", "start": "2024-04-01"})
    # Move an event, change its actors and end it, through the seed's upsert path.
    bundle = seed.load_bundle(SEED_FILE)
    moved = bundle.events[0].model_copy(
        update={
            "start_date": date(2024, 5, 1),
            "end_date": date(2024, 6, 30),
            "date_precision": DatePrecision.day,
        }
    )
    bundle.events[0] = moved.model_copy(update={"actors": moved.actors[:1]})
    # Another changes its type and its status only: their scopes follow.
    other = bundle.events[1]
    bundle.events[1] = other.model_copy(
        update={
            "event_type": EventType.SANCTION
            if other.event_type is not EventType.SANCTION
            else EventType.CONSULT,
            "status": EventStatus.ongoing
            if other.status is not EventStatus.ongoing
            else EventStatus.occurred,
        }
    )
    seed.apply(session, bundle)
    session.flush()
    assert session.get(Event, moved.id) is not None
    assert _rows(session) == rebuilt(session)
    rolled, scanned = rolled_up_and_scanned(client, {"interval": "month", "start": "2024-04-01"})
    assert rolled == scanned
    was = {row["period_start"]: row["count"] for row in before["data"]}
    now = {row["period_start"]: row["count"] for row in rolled["data"]}
    assert [now[m] - was[m] for m in ("2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01")] == [
        0,
        1,
        1,
        0,
    ]


def test_deleting_an_event_takes_it_out_of_the_rollups(session: Session) -> None:
    make_event(session, "to-delete", date(2026, 4, 1), date(2026, 4, 3), actors=("russia",))
    with projections.maintaining(session, ["to-delete"]):
        session.execute(delete(Event).where(Event.id == "to-delete"))
    assert _rows(session) == rebuilt(session)
