"""With `geoevents serve --workers 2`, a caller's allowance on one host is the setting once,
not once per worker: the workers share their buckets (a file of the server's serving folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import scratch_database
from tests.fixtures.servers import Server

BURST = 10


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """Two workers, a burst of 10 and almost no refill."""
    env = {"RATE_LIMIT_PER_SECOND": "0.01", "RATE_LIMIT_BURST": str(BURST)}
    for url in scratch_database(database_url, tmp_path, "limits"):
        running = Server(url, tmp_path / "server.log", "--workers", "2", env=env)
        yield running
        running.stop()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _holding(pid: int, name: str) -> bool:
    try:
        return any(name in os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def test_two_workers_grant_one_allowance(server: Server) -> None:
    def one(_: int) -> int:
        # A fresh connection each time, so that both workers may take requests.
        return httpx.get(server.base + "/v1/actors?limit=1").status_code

    def limiting() -> list[int]:
        return [p for p in _children(server.process.pid) if _holding(p, "rate-limits.db")]

    statuses: list[int] = []
    # The kernel hands each connection to whichever worker accepts first, so a short burst
    # may all land on one worker: keep asking, in rounds, until both have limited requests.
    with ThreadPoolExecutor(max_workers=20) as pool:
        for _ in range(20):
            statuses += pool.map(one, range(2 * BURST))
            if len(statuses) >= 4 * BURST and len(limiting()) == 2:
                break
    assert len(limiting()) == 2, "both workers should have limited requests"
    assert statuses.count(200) == BURST, statuses
    assert set(statuses) == {200, 429}
