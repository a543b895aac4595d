"""Reads with `as_of` never tie up the server: while clients cycle through moments, the
probes and ordinary reads answer at once; each moment reads as it was, and no read of the
past leaves a file behind (the past is a query of the versions, not a rebuilt database)."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import scratch_database
from tests.fixtures.servers import Server

MOMENTS = 6


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """`geoevents serve` working on one request at a time."""
    for url in scratch_database(database_url, tmp_path, "as-of"):
        running = Server(url, tmp_path / "server.log", env={"REQUEST_CONCURRENCY": "1"})
        yield running
        running.stop()


def _unique(moment: datetime, n: int) -> str:
    """The moment, a few microseconds on: the same past, but a URL no cache has answered."""
    return (moment + timedelta(microseconds=n % 1000)).isoformat()


def _files(folder: Path) -> set[Path]:
    return set(folder.iterdir())


def test_as_of_reads_hold_up_nothing(server: Server) -> None:
    temp_before = _files(Path(tempfile.gettempdir()))
    writer = {"Authorization": f"Bearer {server.key()}", "If-Match": "*"}
    moments: list[datetime] = []
    with httpx.Client(base_url=server.base, timeout=30) as client:
        for n in range(MOMENTS):
            answer = client.patch(
                "/v1/events/putin-xi-video-summit", json={"title": f"Title {n}"}, headers=writer
            )
            assert answer.status_code == 200, answer.text
            time.sleep(1.05)  # revisions are kept to the second
            moments.append(datetime.now(UTC))

    stop = threading.Event()
    as_of_statuses: list[int] = []

    def cycle(offset: int) -> None:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            n = offset
            while not stop.is_set():
                moment = _unique(moments[n % MOMENTS], n)
                as_of_statuses.append(
                    client.get("/v1/events", params={"as_of": moment}).status_code
                )
                n += 1

    clients = [threading.Thread(target=cycle, args=(k,)) for k in range(4)]
    for thread in clients:
        thread.start()
    slowest = {"/healthz": 0.0, "read": 0.0, "/readyz": 0.0}
    try:
        time.sleep(0.5)
        with httpx.Client(base_url=server.base, timeout=10) as probe:
            for n in range(15):
                for name, url in (
                    ("/healthz", "/healthz"),
                    ("/readyz", "/readyz"),
                    ("read", f"/v1/events?q=summit&limit={n + 1}"),  # never cached
                ):
                    started = time.perf_counter()
                    assert probe.get(url).status_code == 200
                    slowest[name] = max(slowest[name], time.perf_counter() - started)
                time.sleep(0.2)
    finally:
        stop.set()
        for thread in clients:
            thread.join()
    assert all(took < 0.5 for took in slowest.values()), slowest
    assert as_of_statuses
    assert set(as_of_statuses) == {200}
    with httpx.Client(base_url=server.base, timeout=10) as client:
        for n, moment in enumerate(moments):
            url = "/v1/events/putin-xi-video-summit"
            past = client.get(url, params={"as_of": moment.isoformat()})
            assert past.json()["title"] == f"Title {n}"
    made = _files(Path(tempfile.gettempdir())) - temp_before
    assert not [p for p in made if p.name.startswith("geoevents-as-of")], made
