"""Graceful shutdown: `geoevents serve` on SIGTERM stops taking connections, lets the requests
in flight finish, and never leaves an ingest half written.

The server runs as a user runs it (a process of its own, on a scratch database of the suite's
store); an ingest is kept in flight by sending its body in two parts, with the signal between.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.core.db import sqlalchemy_url
from tests.fixtures.servers import Server

# uvicorn, having shut down, raises the signal it caught again: the exit status says SIGTERM.
STOPPED = (0, -signal.SIGTERM)


@pytest.fixture
def server(scratch_url: str, tmp_path: Path) -> Iterator[Server]:
    log = tmp_path / "server.log"
    running = Server(scratch_url, log, "--graceful-timeout", "2")
    yield running
    running.stop()
    print(log.read_text())


def bundle(tag: str) -> bytes:
    text_ = f"A report for the shutdown test, {tag}. Talks were held."
    start = text_.index("Talks")
    body: dict[str, Any] = {
        "source": {
            "id": f"shutdown-{tag}",
            "kind": "report",
            "published_date_precision": "unknown",
            "text": text_,
        },
        "events": [
            {
                "id": f"shutdown-{tag}-talks",
                "title": "Talks were held",
                "event_type": "CONSULT",
                "status": "occurred",
                "date_precision": "unknown",
                "claims": [
                    {
                        "id": f"shutdown-{tag}-claim",
                        "statement": "Talks were held.",
                        "hedging": "reported",
                        "evidence": {"start": start, "end": len(text_), "text": text_[start:]},
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


def start_ingest(server: Server, key: str, body: bytes, sent: int) -> socket.socket:
    """Send the request line, the headers and the first `sent` bytes of the body."""
    conn = socket.create_connection(("127.0.0.1", server.port))
    head = (
        "POST /v1/ingest HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    conn.sendall(head + body[:sent])
    return conn


def read_answer(conn: socket.socket) -> bytes:
    conn.settimeout(20)
    received = b""
    while chunk := conn.recv(65536):
        received += chunk
    return received


def stored(url: str, tag: str) -> dict[str, int]:
    engine = create_engine(sqlalchemy_url(url))
    like = {"p": f"shutdown-{tag}%"}
    counts = {}
    with engine.connect() as conn:
        for table in ("sources", "events", "claims"):
            query = text(f"SELECT count(*) FROM {table} WHERE id LIKE :p")
            counts[table] = int(conn.execute(query, like).scalar_one())
        query = text("SELECT count(*) FROM revisions WHERE record_id LIKE :p")
        counts["revisions"] = int(conn.execute(query, like).scalar_one())
    engine.dispose()
    return counts


def test_sigterm_lets_an_ingest_in_flight_finish(server: Server, scratch_url: str) -> None:
    body = bundle("drained")
    conn = start_ingest(server, server.key(), body, len(body) // 2)
    time.sleep(0.3)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    # Shutting down: no new connection is taken, and the process is still there.
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base + "/healthz", timeout=2)
    assert server.process.poll() is None
    conn.sendall(body[len(body) // 2 :])
    answer = read_answer(conn)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    report = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert report["changed"] is True
    assert [e["outcome"] for e in report["events"]] == ["created"]
    assert server.process.wait(timeout=20) in STOPPED
    assert stored(scratch_url, "drained") == {
        "sources": 1,
        "events": 1,
        "claims": 1,
        "revisions": 3,
    }


@contextmanager
def write_lock(url: str) -> Iterator[None]:
    """Hold the database's write lock from outside the server (SQLite's, or the data
    version's row lock that every write takes first on PostgreSQL)."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        conn.execute(text("SELECT id FROM data_version WHERE id = 1 FOR UPDATE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def test_a_write_cut_off_by_the_grace_period_is_not_stored(
    server: Server, scratch_url: str
) -> None:
    """A write still waiting in the database when the grace period ends is cut off: no
    answer, its transaction rolled back, nothing of it stored."""
    key = server.key()
    body = bundle("cut")
    with write_lock(scratch_url):
        conn = start_ingest(server, key, body, len(body))  # whole: it waits on the lock
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) in STOPPED  # after the 2 s grace period
        answer = read_answer(conn)
        conn.close()
    assert not answer.startswith(b"HTTP/1.1 2"), answer[:300]
    assert stored(scratch_url, "cut") == {"sources": 0, "events": 0, "claims": 0, "revisions": 0}


def test_a_request_still_open_after_the_grace_period_writes_nothing(
    server: Server, scratch_url: str
) -> None:
    """A request still waiting for its body when the grace period ends is answered 503:
    the client is told to retry, and nothing of it is stored."""
    body = bundle("abandoned")
    conn = start_ingest(server, server.key(), body, len(body) - 10)  # never completed
    time.sleep(0.3)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) in STOPPED  # after the 2 s grace period
    answer = read_answer(conn)
    conn.close()
    # Abandoned whole, and the client told to retry.
    assert answer.startswith(b"HTTP/1.1 503"), answer[:300]
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert b"content-type: application/problem+json" in head
    assert b"retry-after: 5" in head
    assert stored(scratch_url, "abandoned") == {
        "sources": 0,
        "events": 0,
        "claims": 0,
        "revisions": 0,
    }
