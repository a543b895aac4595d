"""Networks read off the network rollups equal networks gathered from the matching events, and
the rollups stay equal to a rebuild through writes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.migrations import alembic_config
from app.core.temporal import REGISTRY
from app.core.vocab import EventType
from app.curation import projections
from app.events.models import ActorPeriod, NetworkPair, NetworkPairPeriod
from app.main import create_app
from app.stats.schemas import Network
from app.stats.service import _segments
from tests.conftest import seeded_scratch
from tests.curation.conftest import bearer, etag, new_event
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
    # Whole years, whole months and days at the edges, as network_pair_periods serves them.
    {"start": "2025-01-01", "end": "2026-12-31"},
    {"start": "2025-12-01", "end": "2026-01-31"},
    {"start": "2025-11-20", "end": "2026-03-02"},
    {"start": "2025-11-21", "end": "2026-03-01"},
    {"start": "2026-01-01", "end": "2031-06-01"},
    {"start": "2020-01-01", "end": "2031-12-31"},
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


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-02-01", "end": "2026-02-28", "node_limit": 2},
        {"start": "2026-01-01", "end": "2026-12-31", "node_limit": 3},
        {"start": "2026-01-10", "end": "2026-03-15", "node_limit": 2},
    ],
)
def test_the_events_beyond_the_rollups_rank_their_actors(
    client: TestClient, session: Session, params: dict[str, Any]
) -> None:
    """Two actors that take part in nothing starting in the range, but in 30 events that
    started before it and run into it, outrank every actor of the range: the kept actors are
    ranked on the events beyond as well, not only among those first by the rollups."""
    add_awkward_events(session)
    for n in range(30):
        make_event(
            session,
            f"long-{n}",
            date(2025, 12, 10),
            date(2026, 3, 10),
            actors=("estonia", "denmark"),
        )
    rolled, scanned = rolled_up_and_scanned(client, params)
    assert rolled == scanned
    assert [node["id"] for node in rolled["nodes"][:2]] == ["denmark", "estonia"]
    assert rolled["nodes"][0]["events"] == 30
    assert rolled["meta"]["nodes_omitted"] > 0


@pytest.mark.parametrize("params", [*CASES, {"mode": "directed"}, {"actor": "russia"}])
def test_the_body_is_the_response_schema_as_it_serializes(
    client: TestClient, session: Session, params: dict[str, Any]
) -> None:
    """The network's body is built as JSON without its models: it must be what the response
    model validates and writes, to the byte, on the rollups and on the scan alike."""
    add_awkward_events(session)
    for asked in (params, {**params, "type": EVERY_TYPE}):
        body = client.get("/v1/network", params=asked).content
        assert Network.model_validate_json(body).model_dump_json().encode() == body
        dated = [e for e in orjson.loads(body)["edges"] if e["first_date"] is not None]
        assert all(len(e["first_date"]) == len("2026-01-01") for e in dated)


Rows = tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], set[tuple[Any, ...]]]


def _rows(session: Session) -> Rows:
    pairs = {tuple(r) for r in session.execute(select(NetworkPair.__table__))}
    periods = {tuple(r) for r in session.execute(select(ActorPeriod.__table__))}
    pair_periods = {tuple(r) for r in session.execute(select(NetworkPairPeriod.__table__))}
    return pairs, periods, pair_periods


def rebuilt(session: Session) -> Rows:
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
    pairs, periods, pair_periods = _rows(session)
    assert pairs
    assert periods
    assert pair_periods
    assert (pairs, periods, pair_periods) == rebuilt(session)
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


def _pair_period(session: Session, grain: str, period: date) -> tuple[Any, ...] | None:
    """(events, first day, last day) of the pair russia, ukraine in CONSULT in one month or year."""
    periods = NetworkPairPeriod.__table__.c
    row = session.execute(
        select(periods.events, periods.first_date, periods.last_date).where(
            periods.source == "russia",
            periods.target == "ukraine",
            periods.event_type == "CONSULT",
            periods.grain == grain,
            periods.period == period,
        )
    ).one_or_none()
    return None if row is None else tuple(row)


def test_a_months_first_and_last_days_follow_updates_and_deletes(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    """The least start and greatest last day of a month's and a year's rows move when the
    event holding them goes or moves, and the rows go with the last event."""
    may, july, year = date(2029, 5, 1), date(2029, 7, 1), date(2029, 1, 1)
    pair = ("russia", "ukraine")
    make_event(session, "may-early", date(2029, 5, 3), date(2029, 5, 4), actors=pair)
    make_event(session, "may-middle", date(2029, 5, 10), date(2029, 5, 10), actors=pair)
    make_event(session, "may-late", date(2029, 5, 20), date(2029, 6, 30), actors=pair)
    assert _pair_period(session, "month", may) == (3, date(2029, 5, 3), date(2029, 6, 30))
    assert _pair_period(session, "year", year) == (3, date(2029, 5, 3), date(2029, 6, 30))
    auth = {"Authorization": f"Bearer {keys['write']}"}

    def write(method: str, event_id: str, change: dict[str, Any] | None = None) -> None:
        url = f"/v1/events/{event_id}"
        headers = {**auth, "If-Match": client.get(url).headers["ETag"]}
        answer = client.request(method, url, json=change, headers=headers)
        assert answer.status_code in (200, 204), answer.text
        session.expire_all()
        assert _rows(session) == rebuilt(session)
        rolled, scanned = rolled_up_and_scanned(
            client, {"start": "2029-01-01", "end": "2029-12-31"}
        )
        assert rolled == scanned

    write("DELETE", "may-late")
    assert _pair_period(session, "month", may) == (2, date(2029, 5, 3), date(2029, 5, 10))
    assert _pair_period(session, "year", year) == (2, date(2029, 5, 3), date(2029, 5, 10))
    write("PATCH", "may-early", {"start_date": "2029-07-01", "end_date": "2029-07-02"})
    assert _pair_period(session, "month", may) == (1, date(2029, 5, 10), date(2029, 5, 10))
    assert _pair_period(session, "month", july) == (1, date(2029, 7, 1), date(2029, 7, 2))
    assert _pair_period(session, "year", year) == (2, date(2029, 5, 10), date(2029, 7, 2))
    write("DELETE", "may-middle")
    assert _pair_period(session, "month", may) is None
    assert _pair_period(session, "year", year) == (1, date(2029, 7, 1), date(2029, 7, 2))
    write("PATCH", "may-early", {"event_type": "ASSAULT"})
    assert _pair_period(session, "month", july) is None
    assert _pair_period(session, "year", year) is None


def test_as_of_reads_the_network_as_it_stood(database_url: str, tmp_path: Path) -> None:
    """A network read as of a moment before a committed write, over whole months and years,
    is the network as it was (the period rows' versions, on connections of their own)."""
    params = {"start": "2025-01-01", "end": "2026-12-31"}
    for url, _, key in seeded_scratch(database_url, tmp_path, "network"):
        with TestClient(create_app(Settings(database_url=url))) as client:
            before = client.get("/v1/network", params=params).json()
            moment = datetime.now(UTC).isoformat()
            actors = [{"actor": a, "role": "participant"} for a in ("russia", "ukraine")]
            body = new_event("test-network-as-of", actors=actors)
            created = client.post("/v1/events", json=body, headers=bearer(key))
            assert created.status_code == 201, created.text
            after = client.get("/v1/network", params=params).json()
            assert after != before
            assert client.get("/v1/network", params={**params, "as_of": moment}).json() == (before)


def _period_versions(engine: Engine) -> tuple[set[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """network_pair_periods' rows and its versions (the row, valid_from, valid_to)."""
    history = REGISTRY["network_pair_periods"].history
    with engine.connect() as conn:
        live = {tuple(r) for r in conn.execute(select(NetworkPairPeriod.__table__))}
        versions = [tuple(r) for r in conn.execute(select(history))]
    return live, versions


def _as_of(versions: list[tuple[Any, ...]], moment: datetime) -> set[tuple[Any, ...]]:
    return {v[:-2] for v in versions if v[-2] <= moment and (v[-1] is None or v[-1] > moment)}


def test_the_migration_fills_the_periods_and_their_past(database_url: str, tmp_path: Path) -> None:
    """Upgraded from the revision before them, a database's month and year rows are those
    its writes kept, and as of every moment of their versions they read as they did."""
    for url, engine, key in seeded_scratch(database_url, tmp_path, "periods"):
        actors = [{"actor": a, "role": "participant"} for a in ("russia", "ukraine")]
        with TestClient(create_app(Settings(database_url=url))) as client:
            for event_id, start in (("first", "2026-03-01"), ("second", "2026-03-20")):
                body = new_event(event_id, actors=actors, start_date=start, end_date=start)
                assert client.post("/v1/events", json=body, headers=bearer(key)).is_success
            url_first = "/v1/events/first"
            patched = client.patch(
                url_first,
                json={"start_date": "2026-04-02", "end_date": "2026-04-09"},
                headers=bearer(key) | {"If-Match": etag(client, url_first)},
            )
            assert patched.status_code == 200, patched.text
            gone = client.delete(
                "/v1/events/second",
                headers=bearer(key) | {"If-Match": etag(client, "/v1/events/second")},
            )
            assert gone.status_code == 204, gone.text
        kept, kept_versions = _period_versions(engine)
        assert kept
        config = alembic_config(url)
        command.downgrade(config, "6f2a9d4c8e15")
        command.upgrade(config, "head")
        filled, filled_versions = _period_versions(engine)
        assert filled == kept
        moments = {v[-2] for v in kept_versions + filled_versions}
        moments |= {v[-1] for v in kept_versions + filled_versions if v[-1] is not None}
        assert len(moments) > 4
        for moment in sorted(moments):
            assert _as_of(filled_versions, moment) == _as_of(kept_versions, moment), moment
