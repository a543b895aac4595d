"""Reads with `as_of` never tie up the server: while clients cycle through moments (each
needing its past rebuilt), the probes and ordinary reads answer at once, and the server
leaves no point-in-time files behind when it stops."""

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

MOMENTS = 6  # more than the four pasts a process keeps: every request may need a rebuild


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


def _as_of_folders(pid: int) -> list[Path]:
    found = []
    for folder in Path(tempfile.gettempdir()).glob("geoevents-as-of-*"):
        try:
            if int((folder / "pid").read_text()) == pid:
                found.append(folder)
        except (OSError, ValueError):
            continue
    return found


def test_as_of_rebuilds_hold_up_nothing(server: Server) -> None:
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
    assert _as_of_folders(server.process.pid)  # the pasts were built in a folder of its own
    server.stop()
    assert _as_of_folders(server.process.pid) == []
