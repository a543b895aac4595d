"""Prometheus metrics of the server: requests by route and status, latency, pool use.

They are kept with prometheus_client. Under `geoevents serve --workers N` (N > 1) the command
names a folder of the server's in `PROMETHEUS_MULTIPROC_DIR` before the workers start; each
worker then writes its samples to files of its own there (prometheus_client's multiprocess
mode), and a scrape, whichever worker it reaches, reads and adds up every worker's files: one
view of the host. Elsewhere (one worker, which is the whole server, or the test suite, which
builds many apps in one process) each app keeps its own registry.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, values
from prometheus_client.utils import floatToGoString
from sqlalchemy import event
from sqlalchemy.pool import Pool

from app.core.runtime import alive

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def multiprocess_dir() -> Path | None:
    """The folder the workers of this server share their metrics in, or None when this
    process keeps its own."""
    value = os.environ.get(MULTIPROC_ENV)
    if not value:
        return None
    # prometheus_client chooses where values live when it is first imported: a folder named
    # later would be read at scrape time but never written to.
    if values.ValueClass is values.MutexValue:
        raise RuntimeError(f"{MULTIPROC_ENV} was set after prometheus_client was imported")
    return Path(value)


class Metrics:
    """Counters and a latency histogram per route, and the database pools' connections.

    The pool gauges follow the pools' own events (connect, checkout, checkin, close, detach)
    rather than being read at scrape time: a scrape is answered by one worker, and a value set
    then would bring only that worker's pools up to date. In multiprocess mode they are
    `livesum` gauges, so the host's figure is the sum over the workers that are running. A
    worker that stops takes its gauges out (`close`, at the app's shutdown); one that died
    without stopping (uvicorn starts another in its place) is taken out by the next scrape,
    which removes the gauge files of processes that no longer run
    (`prometheus_client.multiprocess.mark_process_dead`). Its request counts stay: they were
    answered.
    """

    def __init__(self) -> None:
        self.directory = multiprocess_dir()
        # A registry per app, so that many apps in one process never clash.
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "geoevents_requests",
            "Requests answered, by method, route and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "geoevents_request_duration_seconds",
            "Time to answer, by method and route.",
            ("method", "route"),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.pool_connections = Gauge(
            "geoevents_db_pool_connections",
            "Database connections of the pools, by state: size (connections a pool keeps), "
            "checked_out (in use), overflow (open beyond the size; negative while fewer are "
            "open).",
            ("pool", "state"),
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._pools: list[PoolGauges] = []

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)

    def watch_pool(self, name: str, pool: Pool) -> None:
        """Keep the gauges of one database pool from now on."""
        self._pools.append(PoolGauges(self.pool_connections, name, pool))

    def render(self) -> str:
        """The Prometheus text exposition format (0.0.4): this app's registry, or every
        worker's files in multiprocess mode."""
        if self.directory is None:
            return exposition(self.registry)
        forget_dead_workers(self.directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(self.directory))
        return exposition(registry)

    def close(self) -> None:
        """This worker stops: its pool gauges leave the host's sums."""
        if self.directory is not None:
            multiprocess.mark_process_dead(os.getpid(), str(self.directory))


class PoolGauges:
    """One pool's size, checked-out and overflow gauges, kept by its events.

    Connections are tracked by their pool records, not counted up and down: a checkin the
    pool reports without a checkout (a connection that failed while it was handed out) then
    changes nothing, and the figures cannot drift.
    """

    def __init__(self, gauge: Gauge, name: str, pool: Pool) -> None:
        self._lock = threading.Lock()
        self._open: set[int] = set()
        self._checked_out: set[int] = set()
        size = getattr(pool, "size", None)
        # Pools that keep no fixed number of connections (SQLite in memory) have no size.
        self._size: int | None = size() if callable(size) else None
        self._gauges = {state: gauge.labels(name, state) for state in self._states()}
        for name_, listener in (
            ("connect", self._connect),
            ("checkout", self._checkout),
            ("checkin", self._checkin),
            ("close", self._close),
            ("detach", self._detach),
        ):
            event.listen(pool, name_, listener)
        self._publish()

    def _states(self) -> tuple[str, ...]:
        if self._size is None:
            return ("checked_out",)
        return ("size", "checked_out", "overflow")

    def _connect(self, _dbapi: Any, record: Any) -> None:
        with self._lock:
            self._open.add(id(record))
            self._publish()

    def _checkout(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        with self._lock:
            self._checked_out.add(id(record))
            self._publish()

    def _checkin(self, _dbapi: Any, record: Any) -> None:
        with self._lock:
            self._checked_out.discard(id(record))
            self._publish()

    def _close(self, _dbapi: Any, record: Any) -> None:
        with self._lock:
            self._open.discard(id(record))
            self._publish()

    def _detach(self, _dbapi: Any, record: Any) -> None:
        # A detached connection leaves the pool for good; no checkin will follow.
        with self._lock:
            self._open.discard(id(record))
            self._checked_out.discard(id(record))
            self._publish()

    def _publish(self) -> None:
        self._gauges["checked_out"].set(len(self._checked_out))
        if self._size is not None:
            self._gauges["size"].set(self._size)
            self._gauges["overflow"].set(len(self._open) - self._size)


def forget_dead_workers(directory: Path) -> list[int]:
    """Take the live gauges of workers that are gone out of the folder; their pids."""
    gone = []
    for path in directory.glob("gauge_live*_*.db"):
        try:
            pid = int(path.stem.rsplit("_", 1)[1])
        except ValueError:
            continue
        if not alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))
            gone.append(pid)
    return gone


def exposition(registry: CollectorRegistry) -> str:
    """The registry's metrics in the text format (0.0.4).

    prometheus_client's `generate_latest` prints label names sorted, `le` first; this prints
    them as /metrics always has, `le` last, so that one series reads the same in either mode.
    The `_created` samples of the single-process mode are left out, as multiprocess mode has
    none.
    """
    lines = []
    for family in registry.collect():
        name = family.name + "_total" if family.type == "counter" else family.name
        lines.append(f"# HELP {name} {_escape_help(family.documentation)}")
        lines.append(f"# TYPE {name} {family.type}")
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            ordered = sorted(sample.labels.items(), key=lambda item: item[0] == "le")
            labels = ",".join(f'{key}="{_escape(value)}"' for key, value in ordered)
            braces = f"{{{labels}}}" if labels else ""
            lines.append(f"{sample.name}{braces} {floatToGoString(sample.value)}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")
