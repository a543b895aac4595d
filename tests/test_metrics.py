"""The metrics kept in one process: the pool gauges follow the pools, and the pool gauges of
workers that are gone are dropped (the view across workers: tests/test_metrics_workers.py)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.pool import QueuePool

from app.core.config import Settings
from app.main import create_app
from app.web.metrics import forget_dead_workers
from app.web.state import state_of


def gauge(text: str, pool: str, state: str) -> float:
    """One pool gauge of a scrape."""
    series = f'geoevents_db_pool_connections{{pool="{pool}",state="{state}"}}'
    match = re.search(re.escape(series) + r" (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in\n{text}"
    return float(match.group(1))


def test_pool_gauges_follow_checkouts_and_overflow(database_url: str) -> None:
    settings = Settings(database_url=database_url, db_pool_size=2, db_max_overflow=2)
    app = create_app(settings)
    pool = state_of(app).engine.pool
    assert isinstance(pool, QueuePool)  # a file or a server: a pool of a fixed size
    with TestClient(app) as client:
        held = [state_of(app).engine.connect() for _ in range(3)]  # one beyond the pool
        text = client.get("/metrics").text
        assert gauge(text, "primary", "size") == 2
        assert gauge(text, "primary", "checked_out") == 3 == pool.checkedout()
        assert gauge(text, "primary", "overflow") == 1 == pool.overflow()
        for conn in held:
            conn.close()  # the one beyond the pool is closed, the others kept
        text = client.get("/metrics").text
        assert gauge(text, "primary", "checked_out") == 0 == pool.checkedout()
        assert gauge(text, "primary", "overflow") == 0 == pool.overflow()
        assert "replica" not in text


def test_a_read_replica_has_gauges_of_its_own(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, database_read_url=database_url))
    with TestClient(app) as client:
        with state_of(app).read_sessionmaker.kw["bind"].connect():
            text = client.get("/metrics").text
        assert gauge(text, "replica", "checked_out") == 1
        assert gauge(text, "primary", "checked_out") == 0
        assert gauge(text, "replica", "size") == state_of(app).settings.db_pool_size


def test_the_live_gauges_of_a_dead_worker_are_forgotten(tmp_path: Path) -> None:
    """uvicorn replaces a worker that died: the next scrape drops the pool gauges of the
    dead one (their files), and keeps every other file."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    kept = [
        f"gauge_livesum_{os.getpid()}.db",
        f"counter_{dead.pid}.db",
        f"histogram_{dead.pid}.db",
    ]
    for name in [*kept, f"gauge_livesum_{dead.pid}.db"]:
        (tmp_path / name).write_bytes(b"")
    assert forget_dead_workers(tmp_path) == [dead.pid]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
