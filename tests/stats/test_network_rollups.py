"""Networks read off the network rollups equal networks gathered from the matching events, and
the rollups stay equal to a rebuild through writes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.core.vocab import EventType
from app.curation import projections
from app.events.models import ActorPeriod, NetworkPair
from app.stats.service import _segments
from tests.factories import make_event

# Every event type at once filters nothing, but takes the network off the rollups.
EVERY_TYPE = [t.value for t in EventType]

CASES: list[dict[str, Any]] = [
    {},
    {"start": "2026-01-01", "end": "2026-03-31"},
    {"start": "2026-02-05"},
    {"end": "2026-02-05"},
    {"start": "2025-12-31", "end": "2026-01-01"},
    {"start": "2026-01-15", "end": "2026-02-14"},
    {"start": "2024-03-01", "end": "2027-06-30"},
    {"start": "2031-01-01", "end": "2031-12-31"},
    {"node_limit": 3},
    {"min_weight": 2, "start": "2026-01-01"},
    {"expand": "members"},
    {"expand": "members", "start": "2026-01-01"},
]


def add_awkward_events(session: Session) -> None:
    """Shared events that start before, end after, span years, run on, or have no date."""
    make_event(
        session,
        "long-span",
        date(2025, 11, 20),
        date(2026, 3, 2),
        actors=("russia", "united-states"),
    )
    make_event(
        session, "open-ended", date(2025, 12, 30), status="ongoing", actors=("russia", "ukraine")
    )
    make_event(session, "undated-pair", None, actors=("russia", "ukraine"))
    make_event(session, "new-year", date(2026, 1, 1), actors=("ukraine", "united-states", "russia"))
    make_event(
        session,
        "far-future",
        date(2031, 6, 1),
        date(2031, 6, 1),
        actors=("ukraine", "united-states"),
    )


def rolled_up_and_scanned(client: TestClient, params: dict[str, Any]) -> tuple[Any, Any]:
    rolled = client.get("/v1/network", params=params)
    scanned = client.get("/v1/network", params={**params, "type": EVERY_TYPE})
    assert rolled.status_code == scanned.status_code == 200, (rolled.text, scanned.text)
    return rolled.json(), scanned.json()


@pytest.mark.parametrize("params", CASES)
def test_rollups_equal_the_scan(
    client: TestClient, session: Session, params: dict[str, Any]
) -> None:
    add_awkward_events(session)
    rolled, scanned = rolled_up_and_scanned(client, params)
    assert rolled == scanned
    if not params.get("start", "").startswith("2031"):
        assert rolled["edges"] or params.get("node_limit") or params.get("min_weight")
    filters = {k: v for k, v in params.items() if k in ("start", "end")}
    listed = client.get("/v1/events", params={**filters, "limit": 1}).json()
    assert rolled["meta"]["total_events"] == listed["meta"]["total"]


def _rows(session: Session) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    pairs = {tuple(r) for r in session.execute(select(NetworkPair.__table__))}
    periods = {tuple(r) for r in session.execute(select(ActorPeriod.__table__))}
    return pairs, periods


def rebuilt(session: Session) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The rollups as a rebuild from scratch would have them (inside this test's transaction)."""
    connection = session.connection()
    connection.execute(text("SAVEPOINT rebuild"))
    projections.rebuild_network_rollups(connection)
    rows = _rows(session)
    connection.execute(text("ROLLBACK TO SAVEPOINT rebuild"))
    return rows


def test_rollups_stay_exact_through_writes(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    pairs, periods = _rows(session)
    assert pairs
    assert periods
    assert (pairs, periods) == rebuilt(session)
    add_awkward_events(session)
    assert _rows(session) == rebuilt(session)
    auth = {"Authorization": f"Bearer {keys['write']}"}
    for event_id, change in [
        ("long-span", {"start_date": "2024-05-01", "end_date": "2024-06-30"}),
        ("new-year", {"event_type": "ASSAULT"}),
        ("undated-pair", {"start_date": "2026-02-02", "date_precision": "day"}),
    ]:
        etag = client.get(f"/v1/events/{event_id}").headers["ETag"]
        answer = client.patch(
            f"/v1/events/{event_id}", json=change, headers={**auth, "If-Match": etag}
        )
        assert answer.status_code == 200, answer.text
        session.expire_all()
        assert _rows(session) == rebuilt(session)
    etag = client.get("/v1/events/open-ended").headers["ETag"]
    gone = client.delete("/v1/events/open-ended", headers={**auth, "If-Match": etag})
    assert gone.status_code in (200, 204), gone.text
    session.expire_all()
    assert _rows(session) == rebuilt(session)
    rolled, scanned = rolled_up_and_scanned(client, {"start": "2024-01-01"})
    assert rolled == scanned


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2019, 1, 1), date(2019, 12, 31)),
        (date(2019, 1, 15), date(2019, 1, 20)),
        (date(2018, 12, 30), date(2021, 2, 3)),
        (date(2019, 3, 1), date(2019, 11, 30)),
        (None, date(2019, 6, 10)),
        (date(2019, 6, 10), None),
        (None, None),
        (date(2020, 2, 29), date(2020, 2, 29)),
    ],
)
def test_segments_cover_the_range_once(start: date | None, end: date | None) -> None:
    """Every day of the range falls in exactly one segment, and none outside it."""
    segments = _segments(start, end)
    probes = [date(2018, 12, 29), date(2019, 1, 1), date(2019, 1, 15), date(2019, 6, 10)]
    probes += [date(2019, 12, 31), date(2020, 2, 29), date(2021, 2, 3), date(2021, 2, 4)]
    for day in probes:
        month, year = day.replace(day=1), date(day.year, 1, 1)
        holding = [
            (grain, first)
            for grain, first, after in segments
            if (grain == "day" and first <= day < after)
            or (grain == "month" and first <= month < after)
            or (grain == "year" and first <= year < after)
        ]
        inside = (start is None or day >= start) and (end is None or day <= end)
        assert len(holding) == (1 if inside else 0), (day, segments)
