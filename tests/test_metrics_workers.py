"""/metrics of `geoevents serve`: one view of the whole server, whichever worker answers the
scrape, and the serving folder gone once the server has stopped.

The server runs as a user runs it (a process of its own, on a scratch database of the suite's
store), with its temporary folder in the test's, so that its serving folder can be found; the
workers' per-process metric files in it show which worker answered what.
"""

from __future__ import annotations

import http.client
import re
import select
import signal
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.fixtures.servers import Server

# With one worker uvicorn, having shut down, raises the signal it caught again.
STOPPED = (0, -signal.SIGTERM)
POOL_SIZE = 3
HEALTHZ = 'geoevents_requests_total{method="GET",route="/healthz",status="200"}'
POOL = 'geoevents_db_pool_connections{pool="primary",state="%s"}'


class MetricsServer(Server):
    """`geoevents serve --workers N` with its temporary folder in the test's."""

    def __init__(self, url: str, tmp: Path, workers: int) -> None:
        self.tmp = tmp / "tmp"
        self.tmp.mkdir()
        env = {"TMPDIR": str(self.tmp), "DB_POOL_SIZE": str(POOL_SIZE)}
        super().__init__(
            url,
            tmp / "server.log",
            "--workers",
            str(workers),
            env=env,
            unset=("PROMETHEUS_MULTIPROC_DIR",),
        )
        (self.folder,) = self.tmp.glob("geoevents-run-*")
        assert (self.folder / "pid").read_text() == str(self.process.pid)

    def scrape(self) -> str:
        """One scrape, on a connection of its own."""
        response = httpx.get(self.base + "/metrics")
        assert response.status_code == 200
        return response.text


@pytest.fixture
def start(scratch_url: str, tmp_path: Path) -> Iterator[Callable[[int], MetricsServer]]:
    """Start a server with start(workers); killed after the test if it still runs."""
    servers: list[MetricsServer] = []

    def make(workers: int) -> MetricsServer:
        servers.append(MetricsServer(scratch_url, tmp_path, workers))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()
        print((tmp_path / "server.log").read_text())


def value(text: str, series: str) -> float:
    """The value of one series in a scrape (it must be there)."""
    match = re.search(re.escape(series) + r" (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in\n{text}"
    return float(match.group(1))


def answered_by(metrics: Path) -> dict[int, float]:
    """Per worker process, the /healthz requests it counted, read from its own file."""
    counts = {}
    for path in metrics.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        for family in MultiProcessCollector.merge([str(path)]):
            for sample in family.samples:
                if sample.labels.get("route") == "/healthz" and sample.labels["status"] == "200":
                    counts[pid] = sample.value
    return counts


def healthz(base: str, n: int) -> None:
    """n requests to /healthz, several at once, each on a fresh connection."""
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: httpx.get(base + "/healthz").status_code, range(n)))
    assert statuses == [200] * n


def settle(metrics: Path, sent: int) -> dict[int, float]:
    """The per-worker counts, once every request sent is counted (a worker counts a request
    just after its answer has gone)."""
    deadline = time.monotonic() + 5
    while sum((counts := answered_by(metrics)).values()) < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    return counts


def until_both_answer(server: MetricsServer) -> tuple[int, dict[int, float]]:
    """/healthz on fresh connections until both workers have answered some (at most a few
    hundred requests): how many were sent, and the per-worker counts."""
    sent = 0
    counts: dict[int, float] = {}
    while len(counts) < 2 and sent < 800:
        healthz(server.base, 40)
        sent += 40
        counts = settle(server.folder / "metrics", sent)
    assert len(counts) == 2, counts
    return sent, counts


def test_two_workers_serve_one_view_of_the_host(start: Callable[[int], MetricsServer]) -> None:
    server = start(2)
    sent, counts = until_both_answer(server)
    assert all(n > 0 for n in counts.values())
    assert sum(counts.values()) == sent
    assert server.process.pid not in counts

    for _ in range(6):  # scrapes reach either worker; each sees every request
        text = server.scrape()
        assert value(text, HEALTHZ) == sent
        assert value(text, POOL % "size") == 2 * POOL_SIZE  # both workers' pools, added up
        assert value(text, POOL % "checked_out") >= 0

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) in STOPPED
    assert not server.folder.exists()


def test_connections_opened_at_once_reach_both_workers(
    start: Callable[[int], MetricsServer],
) -> None:
    """Keep-alive connections opened together (a load test's, a proxy's pool) are spread
    over the workers, each listening on a socket of its own, instead of all going to the
    one that accepts first."""
    server = start(2)
    # Both workers listening first: the server answers once one of them is.
    sent, before = until_both_answer(server)
    address = httpx.URL(server.base)
    # Opened in a burst before any request, as a load driver or a proxy's pool opens them:
    # non-blocking connects, one right after the other, then used as ordinary connections.
    opened = []
    for _ in range(32):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((address.host, address.port))
        opened.append(sock)
    connections = []
    for sock in opened:
        select.select([], [sock], [], 5)
        sock.setblocking(True)
        connection = http.client.HTTPConnection(address.host, address.port)
        connection.sock = sock
        connections.append(connection)
    statuses = []
    for _ in range(3):
        for connection in connections:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    for connection in connections:
        connection.close()
    assert statuses == [200] * 96
    after = settle(server.folder / "metrics", sent + 96)
    counts = {pid: n - before[pid] for pid, n in after.items()}
    assert sum(counts.values()) == 96
    # A connection's three requests go to the worker that accepted it: each has some.
    assert all(n >= 3 and n % 3 == 0 for n in counts.values()), counts
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) in STOPPED
    assert not server.folder.exists()


def test_one_worker_keeps_its_own_registry(start: Callable[[int], MetricsServer]) -> None:
    """One worker is the whole server: no metrics folder, the same exact counts."""
    server = start(1)
    healthz(server.base, 30)
    time.sleep(0.1)
    for _ in range(3):
        assert value(server.scrape(), HEALTHZ) == 30
    assert not (server.folder / "metrics").exists()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) == -signal.SIGTERM
    assert not server.folder.exists()
