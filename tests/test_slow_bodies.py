"""No client can stall the server by sending headers and then not the body: the body is read
before the request takes a place among those worked on, a write without a valid key is
refused before its body is read, a late body gets a 408, and the probes never queue.

The server runs as a user runs it, on a scratch database of the suite's store."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import scratch_database
from tests.fixtures.servers import Server, raw_answer

CONCURRENCY = 4
TIMEOUT = 3


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`geoevents serve` with REQUEST_CONCURRENCY=4 and a 3 s body timeout."""
    folder = tmp_path_factory.mktemp("slow-bodies")
    env = {"REQUEST_CONCURRENCY": str(CONCURRENCY), "BODY_TIMEOUT_SECONDS": str(TIMEOUT)}
    for url in scratch_database(database_url, folder, "slow"):
        running = Server(url, Path(folder) / "server.log", env=env)
        yield running
        running.stop()


def _stalled(server: Server, key: str | None, path: str = "/v1/claims") -> socket.socket:
    """A POST whose headers promise 1000 bytes of body, none of which is sent."""
    sock = server.connect()
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n".encode()
    )
    return sock


def _timed(client: httpx.Client, url: str) -> tuple[int, float]:
    started = time.perf_counter()
    status = client.get(url).status_code
    return status, time.perf_counter() - started


def test_stalled_bodies_hold_no_place(server: Server) -> None:
    key = server.key("slow-writer")
    stalled = [_stalled(server, key) for _ in range(4 * CONCURRENCY)]
    try:
        time.sleep(0.5)  # every stalled request has reached the app and waits for its body
        with httpx.Client(base_url=server.base, timeout=5) as client:
            for n in range(5):
                status, took = _timed(client, "/healthz")
                assert status == 200
                assert took < 1.0, f"/healthz took {took:.2f} s"
                # A different query each time: never a cached answer.
                status, took = _timed(client, f"/v1/events?q=summit&limit={n + 1}")
                assert status == 200
                assert took < 1.0, f"an uncached read took {took:.2f} s"
                status, took = _timed(client, "/readyz")
                assert status == 200
                assert took < 1.0, f"/readyz took {took:.2f} s"
        # The body never came: each gets a 408 problem+json, and its connection is closed.
        for sock in stalled:
            sock.settimeout(TIMEOUT + 5)
            status, headers, body = raw_answer(sock)
            assert status == 408, body
            assert headers["content-type"] == "application/problem+json"
            assert headers["connection"] == "close"
            assert b'"param": "body"' in body
            assert sock.recv(1) == b""  # closed by the server
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.parametrize("key", [None, "gek_not-a-key", "junk"])
def test_a_write_without_a_valid_key_is_refused_before_its_body(
    server: Server, key: str | None
) -> None:
    started = time.perf_counter()
    with _stalled(server, key) as sock:
        status, headers, body = raw_answer(sock)
    assert status == 401, body
    assert headers["content-type"] == "application/problem+json"
    assert time.perf_counter() - started < 1.0  # answered at once, not after the timeout


def test_a_read_key_cannot_start_a_write_body(server: Server) -> None:
    reader = server.key("slow-reader", scope="read")
    with _stalled(server, reader, "/v1/ingest") as sock:
        status, _, body = raw_answer(sock)
    assert status == 403, body


def test_a_body_sent_slowly_but_in_time_is_taken(server: Server) -> None:
    key = server.key("patient-writer")
    body = (
        b'{"id": "slow-claim", "source_id": "putin-roundup-article", '
        b'"statement": "Sent slowly.", "hedging": "asserted", '
        b'"evidence": {"start": 0, "end": 4, "text": "News"}}'
    )
    with server.connect() as sock:
        sock.sendall(
            f"POST /v1/claims HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        for start in range(0, len(body), 40):
            time.sleep(0.3)
            sock.sendall(body[start : start + 40])
        status, _, answer = raw_answer(sock)
    assert status == 201, answer
    assert httpx.get(server.base + "/v1/claims/slow-claim").status_code == 200
