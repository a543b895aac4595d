"""What the load and fault tests share: a scratch database (a SQLite file, or a PostgreSQL
database dropped afterwards), seeded with a write key, and `geoevents serve` on a free
loopback port, in a process group of its own, ready when `/readyz` answers, stopped with
SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

HOST = "127.0.0.1"
GEOEVENTS = str(Path(sys.executable).parent / "geoevents")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served(env: dict[str, str], workers: int = 2) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The server's base URL and process, once it answers; SIGTERM to its group after."""
    port = free_port()
    command = [GEOEVENTS, "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        [*command, "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def admin_url(pg_url: str) -> str:
    """The maintenance database of the PostgreSQL server at `pg_url`, for SQLAlchemy."""
    return pg_url.replace("postgresql://", "postgresql+psycopg://") + "/postgres"


def on_server(pg_url: str, statement: str) -> None:
    """Run one statement on the PostgreSQL server's maintenance database, on a connection
    of its own (the server may have restarted since the last one)."""
    admin = create_engine(admin_url(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


@contextmanager
def scratch_database(store: str, pg_url: str, label: str) -> Iterator[str]:
    """A new, empty database's URL (`sqlite` or `postgresql`); removed afterwards."""
    if store == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix=f"geoevents-{label}-"))
        try:
            yield f"sqlite:///{tmp}/{label}.db"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    name = f"geoevents_{label}_{uuid.uuid4().hex[:6]}"
    on_server(pg_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_url}/{name}"
    finally:
        on_server(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed_with_key(env: dict[str, str], name: str) -> str:
    """Seed the database of `env` and return a new write key."""
    subprocess.run([GEOEVENTS, "seed"], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [GEOEVENTS, "keys", "create", "--name", name, "--scope", "write"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.split()[-1]
