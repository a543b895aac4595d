"""Benchmark driver of geoevents: datasets, servers, load, comparisons and bench/RESULTS.md."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import platform
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import queries
import targets
from serving import free_port

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
HOST = "127.0.0.1"
DATASETTE_VENV = BENCH / ".venv-datasette"
DATASETTE_REQUIREMENT = "datasette>=0.65,<0.66"
TABLES = [
    "events",
    "event_actors",
    "actor_events",
    "event_locations",
    "locations",
    "event_tags",
    "claims",
    "quantities",
    "actors",
    "sources",
]
GENERATE_TIMEOUT = 4 * 3600.0
READY_TIMEOUT = 900.0
CACHE_SETTING = "response_cache_entries"
PROBE_TIMEOUT = 300.0
SETTLE_LIMIT = 60.0
SQL_RUNS = 20
SQL_BUDGET = 10.0
DATASETTE_JSON = {
    "Q1": ["tags", "actors", "locations", "quantities"],
    "Q2": ["tags", "actors", "locations", "quantities"],
    "Q3": ["tags", "actors", "locations", "quantities"],
    "Q4": [],
    "Q5": ["tags", "actors", "locations", "quantities", "claims", "related", "source_ids"],
    "Q6": ["tags", "actors", "locations", "quantities"],
    "Q7": ["types"],
    "Q8": [],
}


def log(message: str) -> None:
    """Progress on stderr, timestamped."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- processes -----------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def group_pids(pgid: int) -> list[int]:
    """The live processes of a process group (Linux /proc; empty elsewhere)."""
    pids = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                fields = _stat_fields(int(entry.name))
                if fields and fields[0] != "Z" and int(fields[2]) == pgid:
                    pids.append(int(entry.name))
    return pids


def rss_kib(pid: int) -> int:
    """A process's resident set size in KiB (0 when unknown)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pgid: int) -> int:
    """User plus system clock ticks consumed so far by a process group's live processes."""
    total = 0
    for pid in group_pids(pgid):
        fields = _stat_fields(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])
    return total


class Processes:
    """Every process the harness starts, each in a session of its own, stopped on the way out."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.live: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, cmd: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start cmd in a new session, its output to LOG_DIR/name.log."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as out:
            out.write(f"\n$ {shlex.join(cmd)}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
                cwd=ROOT,
            )
        self.live.append(proc)
        return proc

    def log_tail(self, name: str, lines: int = 20) -> str:
        """The last lines a process wrote."""
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        """SIGTERM the process's group, SIGKILL it after `grace` seconds."""
        pgid = proc.pid
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if not group_pids(pgid) and proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if proc.poll() is not None and not group_pids(pgid):
                    break
                time.sleep(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1)
        if proc in self.live:
            self.live.remove(proc)

    def stop_all(self) -> None:
        """Stop everything still running, newest first."""
        for proc in reversed(list(self.live)):
            self.stop(proc, grace=5.0)

    def run(
        self, name: str, cmd: list[str], timeout: float, env: dict[str, str] | None = None
    ) -> int:
        """Run cmd to completion (killed after `timeout` seconds); return its exit status."""
        proc = self.start(name, cmd, env)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"{name} still running after {timeout:.0f} s; stopping it")
            return -1
        finally:
            self.stop(proc)


class RssSampler(threading.Thread):
    """Polls the summed VmRSS of a process group every 50 ms and keeps the peak."""

    def __init__(self, pgid: int) -> None:
        super().__init__(daemon=True)
        self.pgid = pgid
        self.halt = threading.Event()
        self.first_kib: int | None = None
        self.peak_kib = 0

    def sample(self) -> int:
        """The group's summed RSS now."""
        return sum(rss_kib(pid) for pid in group_pids(self.pgid))

    def run(self) -> None:
        """Sample until stopped."""
        while not self.halt.is_set():
            now = self.sample()
            if self.first_kib is None:
                self.first_kib = now
            self.peak_kib = max(self.peak_kib, now)
            self.halt.wait(0.05)

    def finish(self) -> None:
        """Stop sampling."""
        self.halt.set()
        self.join(timeout=2)


def settle(pgid: int, limit: float = SETTLE_LIMIT) -> bool:
    """Wait until the server's processes stop using CPU (work left from the last run)."""
    deadline = time.monotonic() + limit
    before = cpu_ticks(pgid)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = cpu_ticks(pgid)
        if now - before <= 2:
            return True
        before = now
    return False


# --- HTTP ----------------------------------------------------------------------------------


@dataclass
class Probe:
    """One request, as a client sees it."""

    status: int
    bytes: int
    seconds: float
    content_type: str
    rows: int | None = None
    error: str | None = None
    first_seconds: float | None = None


def fetch(url: str, timeout: float) -> tuple[Probe, bytes]:
    """GET url once; the body is read whole."""
    started = time.perf_counter()
    request = urllib.request.Request(url, headers={"User-Agent": "geoevents-bench"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            status = response.status
            content_type = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        status = exc.code
        content_type = exc.headers.get("Content-Type", "")
    except (OSError, urllib.error.URLError) as exc:
        elapsed = time.perf_counter() - started
        return Probe(0, 0, elapsed, "", error=f"{type(exc).__name__}: {exc}"), b""
    elapsed = time.perf_counter() - started
    return Probe(status, len(body), elapsed, content_type), body


def count_rows(body: bytes, content_type: str) -> int | None:
    """How many records a body holds: CSV rows, a JSON list's items, a page's data or edges."""
    try:
        if "csv" in content_type or content_type.startswith("text/plain"):
            return max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode()))) - 1)
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(doc, list):
        return len(doc)
    if isinstance(doc, dict):
        for key in ("data", "edges"):
            if isinstance(doc.get(key), list):
                return len(doc[key])
        return 1
    return None


def probe(url: str) -> tuple[Probe, bytes]:
    """Fetch url once and count its records."""
    found, body = fetch(url, PROBE_TIMEOUT)
    if found.status == 200:
        found.rows = count_rows(body, found.content_type)
    elif found.error is None:
        found.error = body[:300].decode(errors="replace")
    return found, body


def wait_ready(procs: Processes, name: str, proc: subprocess.Popen[bytes], url: str) -> None:
    """Poll url until it answers 200; fail if the process dies or READY_TIMEOUT passes."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{procs.log_tail(name)}")
        found, _ = fetch(url, 5)
        if found.status == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{name} not ready after {READY_TIMEOUT:.0f} s:\n{procs.log_tail(name)}")


# --- load ----------------------------------------------------------------------------------


@dataclass
class Load:
    """One run of --duration seconds against one URL."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    non2xx: int
    socket_errors: dict[str, int]
    bytes: int
    rss_before_mib: float | None
    rss_peak_mib: float | None
    settled: bool = True
    failure: str | None = None

    def errors(self) -> str:
        """Non-2xx and socket errors, in words."""
        parts = []
        if self.non2xx:
            parts.append(f"{self.non2xx} non-2xx")
        parts += [f"{n} {kind}" for kind, n in self.socket_errors.items() if n]
        if self.failure:
            parts.append(self.failure)
        if not parts and not self.requests:
            parts.append("none completed within the run")
        return ", ".join(parts) or "0"


@dataclass
class Driver:
    """How load is generated: wrk when installed, else bench/loadgen.py."""

    kind: str
    version: str
    timeout: float

    def command(self, url: str, connections: int, duration: int) -> list[str]:
        """The load generator's command line."""
        if self.kind == "wrk":
            return [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                f"{self.timeout:g}s",
                "-s",
                str(BENCH / "wrk_report.lua"),
                url,
            ]
        return [
            sys.executable,
            str(BENCH / "loadgen.py"),
            url,
            "--connections",
            str(connections),
            "--duration",
            str(duration),
            "--timeout",
            f"{self.timeout:g}",
        ]


def pick_driver(choice: str, timeout: float) -> Driver:
    """wrk if present (or asked for), else the httpx driver."""
    wrk = shutil.which("wrk")
    if choice == "wrk" and not wrk:
        raise SystemExit("--driver wrk: wrk is not installed")
    if wrk and choice in ("auto", "wrk"):
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
        version = (out.stdout + out.stderr).splitlines()[0].split(" Copyright")[0]
        return Driver("wrk", version + " (1 thread)", timeout)
    return Driver("httpx", f"bench/loadgen.py (asyncio, httpx {httpx.__version__})", timeout)


class Server:
    """A server under test: started on a free port, restartable, stopped with its group."""

    def __init__(
        self,
        procs: Processes,
        name: str,
        command: Callable[[int], list[str]],
        ready_path: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.procs = procs
        self.name = name
        self.command = command
        self.ready_path = ready_path
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self) -> None:
        """Start it and wait until it is ready."""
        port = free_port()
        self.base = f"http://{HOST}:{port}"
        log(f"starting {self.name} on port {port}")
        self.proc = self.procs.start(self.name, self.command(port), self.env)
        wait_ready(self.procs, self.name, self.proc, self.base + self.ready_path)

    def stop(self) -> None:
        """Stop it, and every process it started."""
        if self.proc is not None:
            self.procs.stop(self.proc)
            self.proc = None

    @property
    def pgid(self) -> int:
        """Its process group."""
        assert self.proc is not None
        return self.proc.pid

    @contextlib.contextmanager
    def running(self) -> Iterator[Server]:
        """Started for the duration of a with block."""
        try:
            self.start()
            yield self
        finally:
            self.stop()


def drive(
    procs: Processes, driver: Driver, server: Server, path: str, connections: int, duration: int
) -> Load:
    """Settle the server (restart it if it stays busy), then load path for `duration`
    seconds while sampling the server's RSS."""
    settled = settle(server.pgid)
    if not settled:
        log(f"{server.name} still busy after {SETTLE_LIMIT:.0f} s; restarting it")
        server.stop()
        server.start()
    sampler = RssSampler(server.pgid)
    sampler.start()
    name = "load"
    proc = procs.start(name, driver.command(server.base + path, connections, duration))
    try:
        proc.wait(timeout=duration + driver.timeout + 30)
    except subprocess.TimeoutExpired:
        pass
    finally:
        procs.stop(proc)
        sampler.finish()
    mib = 1024.0
    before = sampler.first_kib / mib if sampler.first_kib else None
    peak = sampler.peak_kib / mib if sampler.peak_kib else None
    return read_load(procs, name, before, peak, settled)


def read_load(
    procs: Processes, name: str, before: float | None, peak: float | None, settled: bool
) -> Load:
    """The figures of a load run from the GEOBENCH line its generator wrote to LOG_DIR/name.log."""
    summary = None
    for line in reversed(procs.log_tail(name, 50).splitlines()):
        if line.startswith("GEOBENCH "):
            summary = json.loads(line.removeprefix("GEOBENCH "))
            break
    if summary is None:
        tail = procs.log_tail(name, 5).replace("\n", " | ")
        return Load(0, 0.0, 0.0, None, None, 0, {}, 0, before, peak, settled, tail)
    seconds = summary["duration_us"] / 1e6
    done = summary["requests"]
    return Load(
        requests=done,
        seconds=seconds,
        rps=done / seconds if seconds else 0.0,
        p50_ms=summary["p50_us"] / 1000 if done else None,
        p99_ms=summary["p99_us"] / 1000 if done else None,
        non2xx=summary["status"],
        socket_errors={k: summary[k] for k in ("connect", "read", "write", "timeout")},
        bytes=summary["bytes"],
        rss_before_mib=before,
        rss_peak_mib=peak,
        settled=settled,
    )


# --- datasets ------------------------------------------------------------------------------


@dataclass
class Dataset:
    """A database of the synthetic corpus."""

    store: str
    name: str
    url: str
    events: int
    seed: int
    seed_note: str
    reused: bool
    generate_seconds: float | None
    path: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


def pg_url(base: str, database: str) -> str:
    """A PostgreSQL URL naming this database."""
    return base.rstrip("/") + "/" + database


def psql(url: str, sql: str, timeout: float = 600.0) -> list[list[str]]:
    """Rows of a statement run by psql, as text fields."""
    out = subprocess.run(
        ["psql", url, "-X", "-q", "-t", "-A", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {out.stderr.strip()}")
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def sql_rows(ds: Dataset, sql: str) -> list[list[Any]]:
    """Rows of a read-only statement on a dataset."""
    if ds.store == "postgresql":
        return psql(ds.url, sql)
    con = sqlite3.connect(f"file:{ds.path}?mode=ro", uri=True)
    try:
        return [list(row) for row in con.execute(sql)]
    finally:
        con.close()


def _event_count(ds: Dataset) -> int | None:
    """How many events a database holds, None when it has no events table (or no database)."""
    try:
        if ds.store == "sqlite":
            if not ds.path or not Path(ds.path).exists():
                return None
            con = sqlite3.connect(f"file:{ds.path}?mode=ro", uri=True)
            try:
                if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
                    return None
                return int(con.execute("SELECT count(*) FROM events").fetchone()[0])
            finally:
                con.close()
        if psql(ds.url, "SELECT to_regclass('public.events') IS NOT NULL")[0][0] != "t":
            return None
        return int(psql(ds.url, "SELECT count(*) FROM events")[0][0])
    except (RuntimeError, sqlite3.Error):
        return None


def prepare_dataset(
    store: str, args: argparse.Namespace, procs: Processes, geoevents: str
) -> Dataset:
    """Reuse (with --reuse, when it holds N events) or generate the store's database."""
    name = f"geoevents_bench_{args.events}"
    data_dir: Path = args.data_dir
    record = data_dir / f"{name}.{store}.json"
    if store == "sqlite":
        path = (data_dir / f"{name}.db").absolute()
        ds = Dataset(store, name, f"sqlite:///{path}", args.events, args.seed, "", False, None)
        ds.path = str(path)
    else:
        admin = pg_url(args.pg_url, "postgres")
        ds = Dataset(
            store, name, pg_url(args.pg_url, name), args.events, args.seed, "", False, None
        )
        exists = psql(admin, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    earlier = json.loads(record.read_text()) if record.exists() else None
    if args.reuse:
        held = _event_count(ds)
        seed_ok = earlier is None or earlier.get("seed") == args.seed
        if held == args.events and seed_ok:
            ds.reused = True
            ds.generate_seconds = earlier.get("generate_seconds") if earlier else None
            ds.seed_note = (
                "as recorded when generated"
                if earlier
                else "unverified: the database was made outside this harness"
            )
            log(f"{store}: reusing {ds.path or name} ({held} events)")
            return ds
        if args.profile_only:
            raise SystemExit(
                f"{store}: {ds.path or name} holds {held} events (seed ok: {seed_ok}), not "
                f"{args.events}; --profile-only profiles an existing database and generates none"
            )
        log(f"{store}: {name} holds {held} events (seed ok: {seed_ok}); generating anew")
    if store == "sqlite":
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{ds.path}{suffix}").unlink(missing_ok=True)
    else:
        if exists:
            psql(admin, f"DROP DATABASE {name} WITH (FORCE)")
        psql(admin, f"CREATE DATABASE {name}")
    record.unlink(missing_ok=True)
    log(f"{store}: generating {args.events} events (seed {args.seed})")
    started = time.perf_counter()
    cmd = [geoevents, "bench", "generate", "--events", str(args.events)]
    cmd += ["--seed", str(args.seed), "--database-url", ds.url]
    status = procs.run(f"generate-{store}", cmd, GENERATE_TIMEOUT)
    if status != 0:
        raise RuntimeError(f"generation failed:\n{procs.log_tail(f'generate-{store}')}")
    ds.generate_seconds = time.perf_counter() - started
    ds.seed_note = "generated by this run"
    record.write_text(json.dumps({"seed": args.seed, "generate_seconds": ds.generate_seconds}))
    log(f"{store}: generated in {ds.generate_seconds:.1f} s")
    return ds


def count_tables(ds: Dataset) -> dict[str, int]:
    """Row counts of the corpus tables that exist."""
    counts = {}
    for table in TABLES:
        with contextlib.suppress(RuntimeError, sqlite3.Error):
            counts[table] = int(sql_rows(ds, f"SELECT count(*) FROM {table}")[0][0])
    return counts


# --- queries -------------------------------------------------------------------------------


@dataclass
class Params:
    """Query parameters picked from the data."""

    popular_actor: str
    rare_actor: str
    rare_actor_events: int
    event_id: str
    year: int
    month: str


def pick_params(ds: Dataset) -> Params:
    """A popular and a rare actor, an event id, a year and a month inside the date range."""
    first, last = sql_rows(ds, "SELECT min(start_date), max(start_date) FROM events")[0]
    year = (int(str(first)[:4]) + int(str(last)[:4])) // 2
    counted = "SELECT actor_id, count(*) AS n FROM event_actors GROUP BY actor_id"
    rare = sql_rows(
        ds, f"{counted} HAVING count(*) BETWEEN 5 AND 20 ORDER BY abs(count(*) - 12), actor_id"
    )
    if not rare:
        rare = sql_rows(ds, f"{counted} ORDER BY count(*), actor_id")
    middle = f"ev-{ds.events // 2:08d}"
    event = sql_rows(ds, f"SELECT id FROM events WHERE id >= '{middle}' ORDER BY id LIMIT 1")
    if not event:
        event = sql_rows(ds, "SELECT min(id) FROM events")
    return Params(
        popular_actor="actor-000001",
        rare_actor=str(rare[0][0]),
        rare_actor_events=int(rare[0][1]),
        event_id=str(event[0][0]),
        year=year,
        month=f"{year}-06",
    )


@dataclass
class Query:
    """One benchmarked request, for geoevents and for Datasette."""

    name: str
    title: str
    path: str
    datasette_path: str
    sql_params: dict[str, str]


def build_queries(p: Params) -> list[Query]:
    """Q1..Q8 for these parameters."""
    y = p.year
    year = {"start": f"{y}-01-01", "end": f"{y}-12-31"}
    june = {"start": f"{y}-06-01", "end": f"{y}-06-30"}
    specs: list[tuple[str, str, dict[str, str]]] = [
        (
            "Q1",
            f"/v1/events?actor={p.popular_actor}&start={y}-01-01&end={y}-12-31&limit=100",
            {"actor": p.popular_actor, **year},
        ),
        ("Q2", f"/v1/events?actor={p.rare_actor}&limit=1000", {"actor": p.rare_actor}),
        ("Q3", f"/v1/events?start={y}-06-01&end={y}-06-30&limit=100", june),
        (
            "Q4",
            f"/v1/stats/timeline?actor={p.popular_actor}&interval=month",
            {"actor": p.popular_actor},
        ),
        ("Q5", f"/v1/events/{quote(p.event_id)}", {"id": p.event_id}),
        ("Q6", "/v1/events?q=ceasefire%20border&limit=100", {"t1": "ceasefire", "t2": "border"}),
        ("Q7", f"/v1/network?start={y}-01-01&end={y}-12-31", year),
        ("Q8", f"/v1/events?start={y}-01-01&end={y}-12-31&format=csv&limit=all", year),
    ]
    built = []
    for name, path, params in specs:
        if name == "Q8":
            ds_path = f"/{queries.DATABASE}/q8.csv?" + urlencode({"_stream": "on", **params})
        else:
            pairs = [("_shape", "array"), *(("_json", c) for c in DATASETTE_JSON[name])]
            pairs += list(params.items())
            ds_path = f"/{queries.DATABASE}/{name.lower()}.json?" + urlencode(pairs)
        built.append(Query(name, queries.TITLES[name], path, ds_path, params))
    return built


# --- runs ----------------------------------------------------------------------------------


@dataclass
class ServerRun:
    """One server under load: a probe and one Load per (connections, query)."""

    target: str
    store: str
    workers: int
    cached: bool = False
    probes: dict[str, Probe] = field(default_factory=dict)
    loads: dict[int, dict[str, Load]] = field(default_factory=dict)


def probe_all(run: ServerRun, server: Server, targets: dict[str, str]) -> dict[str, bytes]:
    """Fetch every target twice, alone: status, size and rows of the first answer, time of the
    second (warm); return the first bodies."""
    bodies = {}
    for name, path in targets.items():
        found, bodies[name] = probe(server.base + path)
        if found.status == 200:
            again, _ = fetch(server.base + path, PROBE_TIMEOUT)
            found.first_seconds, found.seconds = found.seconds, again.seconds
        run.probes[name] = found
        log(f"{server.name} probe {name}: {found.status}, {found.bytes} B, {_secs(found.seconds)}")
    return bodies


def load_all(
    run: ServerRun,
    procs: Processes,
    driver: Driver,
    server: Server,
    targets: dict[str, str],
    connections: list[int],
    duration: int,
) -> None:
    """Drive every target URL at every connection count."""
    for conns in connections:
        for name, path in targets.items():
            log(f"{server.name} c{conns} {name}")
            result = drive(procs, driver, server, path, conns, duration)
            run.loads.setdefault(conns, {})[name] = result
            log(
                f"  {result.requests} requests, {result.rps:.1f} req/s, p50 {_num(result.p50_ms)}"
                f" ms, p99 {_num(result.p99_ms)} ms, errors {result.errors()}"
            )


def serve_geoevents(
    procs: Processes,
    geoevents: str,
    ds: Dataset,
    workers: int,
    qs: list[Query],
    args: argparse.Namespace,
    driver: Driver,
    cached: bool,
) -> tuple[ServerRun, dict[str, bytes]]:
    """Serve the dataset with geoevents (its response cache off unless `cached`), probe every
    query and load it."""
    env = {**os.environ, "DATABASE_URL": ds.url}
    if not cached:
        env[CACHE_SETTING.upper()] = "0"

    def command(port: int) -> list[str]:
        cmd = [geoevents, "serve", "--host", HOST, "--port", str(port)]
        return [*cmd, "--workers", str(workers), "--log-level", "warning"]

    name = f"geoevents-{ds.store}-w{workers}-{'cached' if cached else 'uncached'}"
    run = ServerRun("geoevents", ds.store, workers, cached)
    targets = {q.name: q.path for q in qs}
    with Server(procs, name, command, "/readyz", env).running() as server:
        bodies = probe_all(run, server, targets)
        load_all(run, procs, driver, server, targets, args.connections, args.duration)
    return run, bodies


def ensure_tool(procs: Processes, venv: Path, requirement: str, exe_name: str) -> tuple[str, str]:
    """A venv of a benchmark tool's own (made from PyPI when missing): the tool, its python."""
    exe = venv / "bin" / exe_name
    python = venv / "bin" / "python"
    if not exe.exists():
        log(f"creating {venv} and installing {requirement}")
        if procs.run(venv.name, [sys.executable, "-m", "venv", str(venv)], 300):
            raise RuntimeError(procs.log_tail(venv.name))
        pip = [str(python), "-m", "pip", "install", "--quiet", requirement]
        if procs.run(venv.name, pip, 900):
            raise RuntimeError(procs.log_tail(venv.name))
    ignore = venv / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# made by bench/run.py: a tool venv, kept out of git\n*\n")
    return str(exe), str(python)


def ensure_datasette(procs: Processes) -> tuple[str, str]:
    """bench/.venv-datasette with Datasette 0.65.x in it; its executables."""
    return ensure_tool(procs, DATASETTE_VENV, DATASETTE_REQUIREMENT, "datasette")


def serve_datasette(
    procs: Processes,
    ds: Dataset,
    qs: list[Query],
    args: argparse.Namespace,
    driver: Driver,
    connections: int,
) -> ServerRun:
    """Datasette (one process, immutable) with the canned queries, probed and loaded."""
    exe, _ = ensure_datasette(procs)
    link_dir = args.data_dir / "datasette"
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / f"{queries.DATABASE}.db"
    link.unlink(missing_ok=True)
    link.symlink_to(Path(str(ds.path)).resolve())

    def command(port: int) -> list[str]:
        cmd = [exe, "serve", "-i", str(link), "--host", HOST, "--port", str(port)]
        cmd += ["--setting", "sql_time_limit_ms", "60000"]
        cmd += ["--setting", "max_returned_rows", "100000", "--setting", "max_csv_mb", "0"]
        return [*cmd, "-m", str(BENCH / "datasette-metadata.json")]

    run = ServerRun("datasette", ds.store, 1)
    targets = {q.name: q.datasette_path for q in qs}
    with Server(procs, "datasette", command, "/-/versions.json").running() as server:
        probe_all(run, server, targets)
        load_all(run, procs, driver, server, targets, [connections], args.duration)
    return run


def serve_ceiling(
    procs: Processes,
    ds: Dataset,
    qs: list[Query],
    run_probes: dict[str, Probe],
    bodies: dict[str, bytes],
    args: argparse.Namespace,
    driver: Driver,
    connections: int,
) -> ServerRun:
    """The bare Starlette app answering geoevents' own bodies, probed and loaded."""
    folder = args.data_dir / f"ceiling-{ds.store}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    manifest = {}
    for q in qs:
        (folder / f"{q.name}.body").write_bytes(bodies[q.name])
        content_type = run_probes[q.name].content_type or "application/octet-stream"
        manifest[q.path] = {"file": f"{q.name}.body", "content_type": content_type}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    env = {**os.environ, "CEILING_MANIFEST": str((folder / "manifest.json").resolve())}

    def command(port: int) -> list[str]:
        cmd = [sys.executable, "-m", "uvicorn", "ceiling:app", "--app-dir", str(BENCH)]
        cmd += ["--host", HOST, "--port", str(port), "--workers", "1"]
        return [*cmd, "--log-level", "warning", "--no-access-log"]

    run = ServerRun("ceiling", ds.store, 1)
    targets = {q.name: q.path for q in qs}
    with Server(procs, "ceiling", command, "/readyz", env).running() as server:
        probe_all(run, server, targets)
        load_all(run, procs, driver, server, targets, [connections], args.duration)
    return run


@dataclass
class SqlTiming:
    """Datasette's SQL run in-process through sqlite3."""

    runs: int
    median_ms: float | None
    rows: int | None
    error: str | None = None


def time_sql(ds: Dataset, qs: list[Query]) -> dict[str, SqlTiming]:
    """The median of up to SQL_RUNS runs (at most SQL_BUDGET s per query) of each query's SQL."""
    con = sqlite3.connect(f"file:{ds.path}?mode=ro&immutable=1", uri=True)
    timings = {}
    try:
        for q in qs:
            sql = queries.SQL[q.name]
            samples: list[float] = []
            rows = None
            spent = 0.0
            try:
                while len(samples) < SQL_RUNS and (len(samples) < 3 or spent < SQL_BUDGET):
                    started = time.perf_counter()
                    rows = len(con.execute(sql, q.sql_params).fetchall())
                    samples.append(time.perf_counter() - started)
                    spent += samples[-1]
            except sqlite3.Error as exc:
                timings[q.name] = SqlTiming(len(samples), None, None, str(exc))
                continue
            timings[q.name] = SqlTiming(len(samples), statistics.median(samples) * 1000, rows)
            log(f"SQL {q.name}: {timings[q.name].median_ms:.2f} ms median of {len(samples)}")
    finally:
        con.close()
    return timings


# --- profiles ------------------------------------------------------------------------------

PYSPY_VENV = BENCH / ".venv-pyspy"
PYSPY_REQUIREMENT = "py-spy>=0.4,<0.5"
PROFILE_SECONDS = 12
PROFILE_CONNECTIONS = 32
PROFILE_TOP = 12
PROFILE_MIN_SAMPLES = 100
PROFILE_HEADING = "## Where the time goes"
GENERATE_ROOT = "app.bench.generate.generate"
PHASE_FLOOR = 0.01
APP = "geoevents (app.*)"
SQLALCHEMY = "SQLAlchemy"
WEB = "FastAPI, Starlette, pydantic, anyio"
SERVER = "uvicorn, httptools, asyncio"
DRIVER = "sqlite3 and the SQLite library, psycopg and libpq"
ORJSON = "orjson"
OTHER = "other: the interpreter, the standard library, other packages"
PACKAGES = [APP, SQLALCHEMY, WEB, SERVER, DRIVER, ORJSON, OTHER]
# Which package a frame's file belongs to. py-spy --native names a C frame by its source file
# (Modules/_asynciomodule.c, Modules/_sqlite/cursor.c, SQLAlchemy's compiled _result_cy.c) or by its
# shared library (libsqlite3.so).
PACKAGE_MARKERS: list[tuple[str, tuple[str, ...]]] = [
    (SQLALCHEMY, ("/sqlalchemy/",)),
    (WEB, ("/fastapi/", "/starlette/", "/pydantic/", "/pydantic_core/", "/anyio/")),
    (SERVER, ("/uvicorn/", "/httptools/", "/h11/", "/asyncio/", "_asynciomodule")),
    (DRIVER, ("/_sqlite/", "/sqlite3/", "libsqlite3", "/psycopg", "libpq")),
    (ORJSON, ("orjson",)),
]
# The innermost named frame of a thread that waits (a lock, the GIL, the event loop's poll):
# py-spy --native counts such threads as active, so the `cpu` recording leaves them out.
WAIT_FRAMES = {
    "PyThread_acquire_lock_timed",
    "pthread_cond_timedwait",
    "pthread_cond_wait",
    "take_gil",
    "epoll_wait",
    "epoll_pwait",
    "sem_wait",
    "sem_timedwait",
    "sem_clockwait",
    "poll",
    "select",
}
GC_FRAMES = {"gc_collect_main", "gc_collect_with_callback", "gc_collect_generations"}
# mode: (py-spy options, rate, what its samples are). Without --gil py-spy unwinds every
# thread (a worker has up to 40 in anyio's pool) at each instant, hence a lower rate.
MODES = {
    "gil": (["--gil"], 200, "GIL held"),
    "cpu": ([], 50, "threads on a CPU"),
    "wall": (["--idle"], 200, "wall clock"),
}


@dataclass
class Recording:
    """One py-spy recording, folded (see fold)."""

    mode: str
    command: str
    raw: str
    seconds: float
    folded: Folded | None = None
    load: Load | None = None
    behind: float = 0.0
    error: str | None = None
    connections: int = 0
    load_average: float | None = None

    @property
    def label(self) -> str:
        """What its samples are, and under how many connections."""
        kind = MODES[self.mode][2]
        if not self.connections:
            return kind
        return f"{kind}, {self.connections} connection{'s' if self.connections > 1 else ''}"

    @property
    def samples(self) -> int:
        """Samples folded (waiting threads left out)."""
        return self.folded.samples if self.folded else 0

    def share(self, table: str, key: str) -> float:
        """A key's share of the samples in one of the folded tables."""
        if not self.folded or not self.folded.samples:
            return 0.0
        found: dict[str, int] = getattr(self.folded, table)
        return found.get(key, 0) / self.folded.samples


@dataclass
class Profile:
    """A query (or the generator) under py-spy."""

    name: str
    title: str
    target: str
    recordings: list[Recording] = field(default_factory=list)
    load_command: str = ""
    outcome: str = ""
    store: str = "sqlite"


@dataclass
class Folded:
    """Samples of a raw recording, counted five ways."""

    samples: int = 0
    waiting: int = 0
    charged: dict[str, int] = field(default_factory=dict)
    innermost: dict[str, int] = field(default_factory=dict)
    callers: dict[str, int] = field(default_factory=dict)
    last_app: dict[str, int] = field(default_factory=dict)
    frames: dict[str, int] = field(default_factory=dict)
    pool: int = 0
    phases: dict[str, int] = field(default_factory=dict)
    waits: dict[str, int] = field(default_factory=dict)


def _frame(text: str) -> tuple[str, str]:
    """A raw frame, 'name (file:line)' or 'name (file)', as (name, file)."""
    name, sep, rest = text.rpartition(" (")
    if not sep:
        return text, ""
    where = rest.removesuffix(")")
    head, colon, tail = where.rpartition(":")
    return name, head if colon and tail.isdigit() else where


def _package(path: str, app_root: str) -> str | None:
    """The package a frame's file belongs to; None for the interpreter, libc and the standard
    library outside asyncio and sqlite3, whose time counts for the frame that called them."""
    if path.startswith(app_root):
        return APP
    for category, markers in PACKAGE_MARKERS:
        if any(marker in path for marker in markers):
            return category
    return OTHER if "/site-packages/" in path else None


def _dotted(name: str, path: str, app_root: str) -> str:
    """app/events/service.py's list_page as app.events.service.list_page."""
    return "app." + path[len(app_root) :].removesuffix(".py").replace("/", ".") + "." + name


def _short(name: str, path: str) -> str:
    """A frame named by its file inside its package: `sqlalchemy/engine/base.py: execute`."""
    for marker in ("/site-packages/", "/project/lib/", "/project/", "/Modules/"):
        if marker in path:
            return f"{path.split(marker)[-1]}: {name}"
    if "/lib/python3." in path:
        return f"{path.split('/lib/python3.')[-1].split('/', 1)[-1]}: {name}"
    return f"{path.rsplit('/', 1)[-1]}: {name}" if path else name


def _add(table: dict[str, int], key: str, n: int) -> None:
    table[key] = table.get(key, 0) + n


def _phases(parsed: list[tuple[str, str]], app_root: str, root: str, depth: int) -> list[str]:
    """Below the frame `root` (an app.* function), the chain of calls down to `depth`: app.*
    functions, ended by the first frame of another package (the standard library skipped)."""
    chain: list[str] = []
    below = False
    for name, path in parsed:
        if not below:
            below = path.startswith(app_root) and _dotted(name, path, app_root) == root
            continue
        found = _package(path, app_root)
        if found is None or name.startswith("0x"):
            if path.endswith("contextlib.py") and not chain:
                chain.append(_short(name, path))  # the end of a with block: say what it ran
            continue
        chain.append(_dotted(name, path, app_root) if found == APP else _short(name, path))
        if found != APP or len(chain) == depth:
            break
    return chain


def fold(
    raw: Path, app_root: str, drop_waits: bool = False, phase_root: str | None = None
) -> Folded:
    """Fold py-spy's raw output (a line per stack, `outermost;...;innermost count`). Every
    sample is charged to the innermost frame whose file belongs to a package (the interpreter,
    libc and the standard library count for the frame that called them; the garbage collector
    counts for itself), counted by the innermost frame's package alone, counted once for every
    app.* function on its stack (inclusive) and for the innermost app.* frame, and by the
    chain of calls below `phase_root`. `drop_waits` leaves out the samples of threads waiting
    on a lock, the GIL or a poll."""
    out = Folded()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        parsed = [_frame(text) for text in stack.split(";")]
        named = [name for name, _ in parsed if not name.startswith("0x")]
        if drop_waits and named and named[-1] in WAIT_FRAMES:
            out.waiting += n
            where = next(
                (
                    _dotted(name, path, app_root) if found == APP else _short(name, path)
                    for name, path in reversed(parsed)
                    if (found := _package(path, app_root)) is not None
                ),
                "no package frame (an idle thread of the standard library)",
            )
            loop = "WorkerThread.run" not in named and any("run_forever" in x for x in named)
            _add(out.waits, where + (" (the event loop's thread)" if loop else ""), n)
            continue
        out.samples += n
        _add(out.innermost, _package(parsed[-1][1], app_root) or OTHER, n)
        owner, label = OTHER, _short(*parsed[-1])
        for name, path in reversed(parsed):
            if name in GC_FRAMES:
                owner, label = OTHER, f"the garbage collector ({name})"
                break
            found = _package(path, app_root)
            if found is not None:
                owner = found
                label = _dotted(name, path, app_root) if found == APP else _short(name, path)
                break
        _add(out.charged, owner, n)
        _add(out.frames, label, n)
        mine = [_dotted(name, path, app_root) for name, path in parsed if path.startswith(app_root)]
        for function in set(mine):
            _add(out.callers, function, n)
        if mine:
            _add(out.last_app, mine[-1], n)
        if "WorkerThread.run" in named:
            out.pool += n
        if phase_root:
            chain = _phases(parsed, app_root, phase_root, 3)
            for depth in range(1, len(chain) + 1):
                _add(out.phases, " > ".join(chain[:depth]), n)
    return out


def app_root(geoevents: str) -> str:
    """The folder of the app package the geoevents console script imports."""
    code = "import app, os; print(os.path.dirname(os.path.abspath(app.__file__)))"
    out = subprocess.run(
        [geoevents_python(geoevents), "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    return (out.stdout.strip() or str(ROOT / "app")) + "/"


def _shown(cmd: list[str]) -> str:
    """A command line as RESULTS.md shows it: paths inside the checkout made relative."""
    return shlex.join(cmd).replace(str(ROOT) + "/", "")


def record(
    procs: Processes,
    pyspy: str,
    mode: str,
    raw: Path,
    target: list[str],
    seconds: float | None,
    root: str,
    shown_target: list[str] | None = None,
    phase_root: str | None = None,
) -> Recording:
    """py-spy record into raw, then fold it. `gil` samples the thread holding the GIL, `cpu`
    every thread running on a CPU, `wall` every thread, running or waiting."""
    options, rate, _ = MODES[mode]
    cmd = [pyspy, "record", "--rate", str(rate), "--format", "raw", "--native"]
    cmd += ["--function", "--full-filenames", *options, "-o", str(raw)]
    if seconds is not None:
        cmd += ["--duration", f"{seconds:g}"]
    cmd += target
    shown = [raw.name if part == str(raw) else part for part in cmd[: len(cmd) - len(target)]]
    rec = Recording(mode, _shown(shown + (shown_target or target)), str(raw), seconds or 0.0)
    raw.unlink(missing_ok=True)
    name = f"py-spy-{raw.stem}"
    started = time.perf_counter()
    status = procs.run(name, cmd, (seconds or GENERATE_TIMEOUT) + 120)
    if seconds is None:
        rec.seconds = time.perf_counter() - started
    behind = [
        float(line.split("py-spy>")[1].split("s behind")[0])
        for line in procs.log_tail(name, 10_000).splitlines()
        if "s behind in sampling" in line
    ]
    if behind:
        rec.behind = max(behind)
    if status != 0 or not raw.exists():
        rec.error = f"py-spy exited with {status}: {procs.log_tail(name, 3)}"
        return rec
    with contextlib.suppress(OSError):
        rec.load_average = os.getloadavg()[0]
    rec.folded = fold(raw, root, drop_waits=mode == "cpu", phase_root=phase_root)
    return rec


def profile_query(
    procs: Processes, pyspy: str, driver: Driver, server: Server, q: Query, root: str
) -> Profile:
    """wrk at PROFILE_CONNECTIONS on one URL while py-spy samples the server, twice: the
    thread holding the GIL, then every thread on a CPU (where SQLite's own work shows)."""
    prof = Profile(q.name, q.title, q.path)
    length = PROFILE_SECONDS + 3
    prof.load_command = _shown(driver.command(server.base + q.path, PROFILE_CONNECTIONS, length))
    plan = [("gil", PROFILE_CONNECTIONS), ("cpu", PROFILE_CONNECTIONS)]
    while plan:
        mode, conns = plan.pop(0)
        if mode == "gil" and conns == 1 and prof.recordings:
            # A stalled server uses no CPU, so settling cannot tell it from an idle one.
            log(f"restarting {server.name}: it may be stalled on the last run's requests")
            server.stop()
            server.start()
        settled = settle(server.pgid)
        if not settled:
            log(f"{server.name} still busy after {SETTLE_LIMIT:.0f} s; restarting it")
            server.stop()
            server.start()
        name = f"load-profile-{q.name}-{mode}-c{conns}"
        load = procs.start(name, driver.command(server.base + q.path, conns, length))
        time.sleep(1.5)
        raw = procs.log_dir / f"profile-{q.name}-{mode}-c{conns}.raw"
        pid = ["--pid", str(server.pgid)]
        rec = record(procs, pyspy, mode, raw, pid, PROFILE_SECONDS, root, ["--pid", "<pid>"])
        with contextlib.suppress(subprocess.TimeoutExpired):
            load.wait(timeout=length + driver.timeout + 30)
        procs.stop(load)
        rec.load = read_load(procs, name, None, None, settled)
        rec.connections = conns
        prof.recordings.append(rec)
        log(
            f"profile {q.name} {mode} c{conns}: {rec.samples} samples, {rec.load.rps:.1f} req/s"
            + (f"; {rec.error}" if rec.error else "")
        )
        if mode == "gil" and conns > 1 and rec.samples < PROFILE_MIN_SAMPLES:
            # The server hardly ran under this load (it stalled, waiting): also profile the
            # work of one request at a time.
            plan += [("gil", 1), ("cpu", 1)]
    return prof


def profile_queries(
    procs: Processes,
    geoevents: str,
    ds: Dataset,
    qs: list[Query],
    driver: Driver,
) -> tuple[list[Profile], str]:
    """Serve the dataset with one geoevents worker (response cache off) and profile each
    query; also the server's command line."""
    pyspy = str(PYSPY_VENV / "bin" / "py-spy")
    root = app_root(geoevents)
    env = {**os.environ, "DATABASE_URL": ds.url, CACHE_SETTING.upper(): "0"}

    def command(port: int) -> list[str]:
        cmd = [geoevents, "serve", "--host", HOST, "--port", str(port)]
        return [*cmd, "--workers", "1", "--log-level", "warning"]

    shown = f"{CACHE_SETTING.upper()}=0 DATABASE_URL={ds.url} " + _shown(command(0))
    profiles = []
    with Server(
        procs, f"geoevents-{ds.store}-profile", command, "/readyz", env
    ).running() as server:
        shown = shown.replace("--port 0", f"--port {server.base.rsplit(':', 1)[1]}")
        for q in qs:
            if not settle(server.pgid):
                log(f"{server.name} still busy after {SETTLE_LIMIT:.0f} s; restarting it")
                server.stop()
                server.start()
            found, _ = probe(server.base + q.path)
            log(f"profile {q.name}: warm-up answered {found.status} in {_secs(found.seconds)}")
            prof = profile_query(procs, pyspy, driver, server, q, root)
            prof.store = ds.store
            prof.outcome = f"warm-up answered {found.status}" + (
                f", {found.rows:,} rows" if found.rows is not None else ""
            )
            profiles.append(prof)
    return profiles, shown


def profile_generate(procs: Processes, geoevents: str, args: argparse.Namespace) -> Profile:
    """`geoevents bench generate --events N` into a new SQLite file under py-spy (every thread,
    running or waiting: wall-clock shares), the file removed afterwards."""
    pyspy = str(PYSPY_VENV / "bin" / "py-spy")
    n = args.profile_generate
    path = args.work_dir / f"profile-generate-{n}.db"
    suffixes = ("", "-journal", "-wal", "-shm")
    for suffix in suffixes:
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    cmd = [geoevents, "bench", "generate", "--events", str(n), "--seed", str(args.seed)]
    cmd += ["--database-url", f"sqlite:///{path}"]
    prof = Profile("generate", f"Generating {n:,} events with their history", _shown(cmd))
    log(f"profiling generation of {n} events into {path}")
    raw = procs.log_dir / f"profile-generate-{n}.raw"
    try:
        root = app_root(geoevents)
        rec = record(procs, pyspy, "wall", raw, ["--", *cmd], None, root, None, GENERATE_ROOT)
    finally:
        for suffix in suffixes:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    prof.recordings.append(rec)
    tail = procs.log_tail(f"py-spy-{raw.stem}", 30)
    said = [line for line in tail.splitlines() if line.startswith("generated in")]
    prof.outcome = said[-1].split(":")[0] if said else "the generator's summary line is missing"
    log(f"profile generate: {rec.samples} samples in {rec.seconds:.0f} s; {prof.outcome}")
    return prof


def _pct(share: float) -> str:
    return f"{share * 100:.1f} %"


STORE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def render_profile(prof: Profile) -> list[str]:
    """One profile: the load it ran under, the shares by package, by app.* function, by frame."""
    recs = [r for r in prof.recordings if r.samples]
    on = f" (on {STORE_NAMES.get(prof.store, prof.store)})" if prof.name != "generate" else ""
    heading = f"### {prof.name}{on}: {prof.title}"
    lines = [heading, "", f"`{prof.target}` ({prof.outcome}).", ""]
    for r in prof.recordings:
        rate = MODES[r.mode][1]
        what = f"- {r.label}: {r.samples:,} samples in {r.seconds:.0f} s at {rate} Hz"
        if r.behind:
            what += f" (py-spy fell up to {r.behind:.1f} s behind: fewer samples than instants)"
        elif r.mode == "gil" and r.seconds:
            held = min(r.samples / (r.seconds * rate), 1.0)
            what += f" (the GIL held at {_pct(held)} of the instants)"
        if r.mode == "cpu" and r.folded:
            what += f"; {r.folded.waiting:,} samples of waiting threads left out"
        if r.folded and r.samples and r.mode != "wall":
            what += f"; in anyio's worker threads {_pct(r.folded.pool / r.samples)}"
        if r.load is not None:
            what += f"; wrk meanwhile: {r.load.requests:,} requests, {r.load.rps:,.1f} req/s"
            what += f", p50 {_num(r.load.p50_ms)} ms, errors {r.load.errors()}"
        if r.load_average is not None:
            what += f"; the machine's load average {r.load_average:.1f} at its end"
        if r.error:
            what += f"; **{r.error}**"
        lines.append(what + ".")
    if not recs:
        return [*lines, *render_waits(prof), ""]
    first = recs[0]
    kinds = [r.label for r in recs]
    lines += [
        "",
        f"| package (the innermost frame that belongs to one) | {' | '.join(kinds)} | "
        f"{kinds[0]}, innermost frame alone |",
        "| --- |" + " ---: |" * (len(recs) + 1),
    ]
    for package in PACKAGES:
        cells = " | ".join(_pct(r.share("charged", package)) for r in recs)
        lines.append(f"| {package} | {cells} | {_pct(first.share('innermost', package))} |")
    assert first.folded is not None
    if first.folded.phases:
        phases = first.folded.phases
        shown = [k for k in phases if phases[k] >= PHASE_FLOOR * first.samples]
        shown.sort(key=lambda k: [-phases[" > ".join(k.split(" > ")[:d])] for d in (1, 2, 3)])
        lines += [
            "",
            f"What `{GENERATE_ROOT.rsplit('.', 1)[1]}` spends it on (inclusive shares of the "
            "calls below it, three levels down, those of 1 % and more; a call into another "
            "package ends a line):",
            "",
            f"| call | {kinds[0]} |",
            "| --- | ---: |",
            *(f"| `{k}` | {_pct(first.share('phases', k))} |" for k in shown),
        ]
    callers, last = first.folded.callers, first.folded.last_app
    inclusive = [f for f in sorted(callers, key=lambda k: -callers[k]) if ".cli." not in f]
    innermost = [f for f in sorted(last, key=lambda k: -last[k]) if ".cli." not in f]
    chosen = inclusive[:PROFILE_TOP]
    chosen += [f for f in innermost[: PROFILE_TOP // 2] if f not in chosen]
    chosen.sort(key=lambda k: -callers[k])
    lines += [
        "",
        f"geoevents' own functions (app.*, the entry point app.cli left out): the top "
        f"{PROFILE_TOP} by inclusive share (the function on the stack, whatever it called), "
        "with those most often the innermost app.* frame (the function itself and the "
        "library code it called directly):",
        "",
        f"| app.* function | {kinds[0]}, inclusive | {kinds[0]}, as the innermost app.* frame |"
        + "".join(f" {k}, inclusive |" for k in kinds[1:]),
        "| --- | ---: | ---: |" + " ---: |" * (len(recs) - 1),
    ]
    for function in chosen:
        shares = [first.share("callers", function), first.share("last_app", function)]
        shares += [r.share("callers", function) for r in recs[1:]]
        lines.append(f"| `{function}` | {' | '.join(_pct(x) for x in shares)} |")
    frames: list[str] = []
    for r in recs:
        assert r.folded is not None
        table = r.folded.frames
        for label in sorted(table, key=lambda k: -table[k])[: PROFILE_TOP // len(recs) + 2]:
            if label not in frames:
                frames.append(label)
    lines += [
        "",
        "Top frames by self share (each sample charged to its innermost frame that belongs to "
        "a package):",
        "",
        f"| frame | {' | '.join(kinds)} |",
        "| --- |" + " ---: |" * len(recs),
    ]
    for label in frames:
        cells = " | ".join(_pct(r.share("frames", label)) for r in recs)
        lines.append(f"| `{label}` | {cells} |")
    return [*lines, *render_waits(prof), ""]


def render_waits(prof: Profile) -> list[str]:
    """Where the threads left out of the `cpu` recording waited (their innermost frame that
    belongs to a package), as shares of every thread sample of that recording."""
    lines: list[str] = []
    for r in prof.recordings:
        if r.mode != "cpu" or not r.folded or not r.folded.waiting:
            continue
        waits, every = r.folded.waits, r.folded.waiting + r.folded.samples
        lines += [
            "",
            f"Where the waiting threads of the recording of {r.label} waited, by their "
            "innermost frame that belongs to a package, as shares of all its thread samples "
            "(anyio's idle worker threads wait in `WorkerThread.run`; a thread waiting for "
            "the GIL shows under the frame that released it, e.g. the sqlite3 module after a "
            "statement):",
            "",
            "| waiting in | share |",
            "| --- | ---: |",
            *(
                f"| `{k}` | {_pct(waits[k] / every)} |"
                for k in sorted(waits, key=lambda k: -waits[k])[:5]
            ),
        ]
    return lines


def render_profiles(report: Report, written: bool = False) -> list[str]:
    """The "Where the time goes" section: how the profiles were taken, then each of them;
    `written` adds the command and the code (a section spliced into an existing report)."""
    profiles, driver, events = report.profiles, report.driver, report.profile_events
    if not profiles:
        return []
    queries_done = [p for p in profiles if p.name != "generate"]
    lines = [f"{PROFILE_HEADING} (py-spy)", ""]
    if written:
        lines += [
            f"Written by bench/run.py; started {report.started}, code {report.code}:",
            "",
            "```",
            report.command,
            "```",
            "",
        ]
    lines += [
        f"py-spy {report.versions.get('py-spy', '?')} (from PyPI, in a venv of its own: "
        "bench/.venv-pyspy) with native frames (`--native`, so that C code shows: SQLite, "
        "the sqlite3 module, httptools, pydantic-core, orjson), in its default blocking mode: "
        "it stops the process for each sample, so the rates below, taken under the "
        "profiler, are lower than the tables'. On a machine shared with other work (each "
        "recording gives the load average at its end) absolute rates are low and vary from "
        "run to run: the shares are what to read.",
        "",
    ]
    if queries_done:
        gil, cpu = MODES["gil"][1], MODES["cpu"][1]
        lines += [
            f"Queries: {events:,} events on each store named in the headings, one geoevents "
            "worker with the response "
            f"cache off, {driver.version.split(' (')[0]} at {PROFILE_CONNECTIONS} connections "
            f"on one URL while py-spy records the server for {PROFILE_SECONDS} s, twice. "
            f"First only the thread holding the GIL (`--gil`, {gil} Hz): with one worker the "
            "GIL serialises all Python work, so these shares say what bounds req/s. Then "
            f"every thread ({cpu} Hz, as it unwinds each of anyio's worker threads at every "
            "instant), leaving out the threads waiting on a lock, the GIL or a poll: SQLite "
            "runs its statements with the GIL released, so its own work shows only there. "
            "Commands, for the first query (the others alike):",
            "",
            "```sh",
            report.profile_server + " &",
            queries_done[0].load_command.replace(queries_done[0].target, "<URL>") + " &",
            *(r.command for r in queries_done[0].recordings),
            "```",
            "",
        ]
    lines += [
        "Folding: every sample is charged to the innermost frame whose file belongs to a "
        "package (the interpreter, libc and the standard library outside asyncio and sqlite3 "
        "count for the frame that called them, the garbage collector for itself); a column "
        "counts the innermost frame alone, where those go to `other`. A geoevents function's "
        "inclusive share counts the samples in which it is on the stack; as the innermost "
        "app.* frame, those in which no other app.* function is below it. The raw files "
        "(`py-spy record --format raw`) are kept beside the run's logs.",
        "",
    ]
    for prof in profiles:
        if prof.name == "generate":
            lines += [
                "Generation: every thread, running or waiting (`--idle`, wall-clock "
                "shares: the generator is one thread, and its SQLite writes run with the GIL "
                "released):",
                "",
                "```sh",
                *(r.command for r in prof.recordings),
                "```",
                "",
            ]
        lines += render_profile(prof)
    return lines


def splice_section(text: str, section: list[str]) -> str:
    """text with its "Where the time goes" section (up to the next ## heading) replaced by
    section, or section appended when it has none."""
    lines = text.rstrip("\n").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(PROFILE_HEADING)), None)
    if start is None:
        return "\n".join([*lines, "", *section]).rstrip() + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *section, *lines[end:]]).rstrip() + "\n"


# --- environment ---------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """CPU count and model, memory, kernel."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
    }


VERSION_PROBE = (
    "import json, platform, sqlite3, importlib.metadata as m\n"
    "out = {'python': platform.python_version(), 'sqlite': sqlite3.sqlite_version}\n"
    "for name in NAMES:\n"
    "    try:\n"
    "        out[name] = m.version(name)\n"
    "    except m.PackageNotFoundError:\n"
    "        pass\n"
    "print(json.dumps(out))\n"
)


def interpreter_versions(python: str, names: list[str]) -> dict[str, str]:
    """Python, SQLite and package versions as another interpreter sees them."""
    code = f"NAMES = {names!r}\n{VERSION_PROBE}"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        return {}
    found: dict[str, str] = json.loads(out.stdout)
    return found


def code_version() -> str:
    """The commit the working tree is at, and whether it has uncommitted changes (read-only)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=30,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=30,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    if not head:
        return "unknown (not a git checkout)"
    return head + (f" with uncommitted changes to {len(changed)} files" if changed else "")


def has_cache_setting(python: str) -> bool:
    """Whether this geoevents has the response cache setting (so that 0 turns it off)."""
    code = (
        f"from app.core.config import Settings; print({CACHE_SETTING!r} in Settings.model_fields)"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    return out.stdout.strip() == "True"


def geoevents_python(geoevents: str) -> str:
    """The interpreter the geoevents console script runs on."""
    first = Path(geoevents).read_text(errors="replace").splitlines()[0]
    if first.startswith("#!") and Path(first[2:].strip().split()[0]).exists():
        return first[2:].strip().split()[0]
    return sys.executable


# --- report --------------------------------------------------------------------------------


@dataclass
class StoreReport:
    """Everything measured on one store."""

    dataset: Dataset
    params: Params
    queries: list[Query]
    runs: list[ServerRun] = field(default_factory=list)
    repeats: list[ServerRun] = field(default_factory=list)
    datasette: ServerRun | None = None
    ceiling: ServerRun | None = None
    sql: dict[str, SqlTiming] = field(default_factory=dict)
    compare_connections: int | None = None


@dataclass
class Report:
    """The whole run."""

    command: str
    started: str
    args: dict[str, Any]
    machine: dict[str, str]
    versions: dict[str, str]
    driver: Driver
    stores: list[StoreReport] = field(default_factory=list)
    response_cache: bool = False
    code: str = ""
    wall_seconds: float | None = None
    incomplete: str | None = None
    profiles: list[Profile] = field(default_factory=list)
    profile_server: str = ""
    profile_events: int | None = None


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} B"


def _secs(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    return f"{a / b:.3g}"


LOAD_COLUMNS = "requests | req/s | p50 ms | p99 ms | errors | server RSS peak MiB |"
LOAD_ALIGN = " ---: | ---: | ---: | ---: | --- | ---: |"


def _load_cells(r: Load) -> str:
    errors = r.errors() + ("" if r.settled else "; server restarted: busy from the last run")
    return (
        f"{r.requests:,} | {_num(r.rps)} | {_num(r.p50_ms)} | {_num(r.p99_ms)} | {errors} | "
        f"{_num(r.rss_peak_mib, 0)} |"
    )


def render_repeat(run: ServerRun, connections: list[int]) -> list[str]:
    """The repeat scenario: Q1 at every connection count."""
    lines = [f"| connections | {LOAD_COLUMNS}", f"| ---: |{LOAD_ALIGN}"]
    for conns in connections:
        r = run.loads.get(conns, {}).get("Q1")
        if r is not None:
            lines.append(f"| {conns} | {_load_cells(r)}")
    return lines


def render_run(run: ServerRun, conns: int, qs: list[Query], duration: int) -> list[str]:
    """One table: a server, a worker count, a connection count."""
    lines = [f"| query | {LOAD_COLUMNS}", f"| --- |{LOAD_ALIGN}"]
    loads = run.loads.get(conns, {})
    for q in qs:
        r = loads.get(q.name)
        if r is not None:
            lines.append(f"| {q.name} | {_load_cells(r)}")
    q8 = loads.get("Q8")
    found = run.probes.get("Q8")
    if q8 and found and found.rows:
        single = found.rows / found.seconds if found.seconds else 0.0
        received = q8.bytes / q8.seconds if q8.seconds else 0.0
        lines += [
            "",
            f"Q8 export: {found.rows:,} rows ({_size(found.bytes)}) per answer; one request "
            f"alone took {_secs(found.seconds)} ({single:,.0f} rows/s). Under this load "
            f"{q8.requests:,} exports completed in {duration} s ({q8.rps * found.rows:,.0f} "
            f"rows/s); counting the exports cut off at the end too, {_size(int(received))}/s "
            f"came in, about {received * found.rows / found.bytes:,.0f} rows/s. Server RSS "
            f"(all its processes, VmRSS sampled every 50 ms): "
            f"{_num(q8.rss_before_mib, 0)} MiB when the run began, "
            f"{_num(q8.rss_peak_mib, 0)} MiB at its peak.",
        ]
    return lines


def render_comparison(sr: StoreReport) -> list[str]:
    """geoevents against Datasette, the ceiling and the raw SQL, per query."""
    conns = sr.compare_connections
    geo = next((r for r in sr.runs if r.workers == 1), sr.runs[0] if sr.runs else None)
    if conns is None or geo is None:
        return []
    lines = [
        f"## Comparison on {sr.dataset.store}: {conns} connections, geoevents with "
        f"{geo.workers} worker",
        "",
        "Same SQLite file, same load driver, same duration. Datasette runs its canned queries "
        "(bench/datasette-metadata.json, written from bench/queries.py) as one process on the "
        "file opened immutable; the ceiling is a bare Starlette app (bench/ceiling.py, uvicorn, "
        "1 worker) answering each URL with geoevents' own body, fetched once beforehand. "
        "'One request alone' is the time of one request with nothing else running (the second "
        "of two, so warm); it compares queries that complete no request under load. The SQL "
        "column is the median time of Datasette's SQL run in-process through sqlite3 "
        "(fetchall), the database's share of an answer.",
        "",
        "| query | geoevents req/s | Datasette req/s | ceiling req/s | geoevents / Datasette "
        "| geoevents / ceiling | one request alone, geoevents / Datasette | SQL ms (runs) "
        "| rows geoevents / Datasette | body geoevents / Datasette |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for q in sr.queries:
        g = geo.loads.get(conns, {}).get(q.name)
        d = sr.datasette.loads.get(conns, {}).get(q.name) if sr.datasette else None
        c = sr.ceiling.loads.get(conns, {}).get(q.name) if sr.ceiling else None
        t = sr.sql.get(q.name)
        gp = geo.probes.get(q.name)
        dp = sr.datasette.probes.get(q.name) if sr.datasette else None
        sql = "—" if t is None else (f"{_num(t.median_ms, 2)} ({t.runs})" if t.median_ms else "—")
        rows = f"{_rows(gp)} / {_rows(dp)}"
        alone = f"{_alone(gp)} / {_alone(dp)}"
        if not (gp and gp.status == 200):
            g = None
        if not (dp and dp.status == 200):
            d = None
        body = f"{_size(gp.bytes) if gp else '—'} / {_size(dp.bytes) if dp else '—'}"
        lines.append(
            f"| {q.name} | {_num(g.rps if g else None)} | {_num(d.rps if d else None)} | "
            f"{_num(c.rps if c else None)} | {_ratio(g.rps if g else None, d.rps if d else None)} "
            f"| {_ratio(g.rps if g else None, c.rps if c else None)} | {alone} | {sql} | {rows} "
            f"| {body} |"
        )
    notes = []
    for target, run in (("Datasette", sr.datasette), ("ceiling", sr.ceiling)):
        for q in sr.queries:
            p = run.probes.get(q.name) if run else None
            if p is not None and p.status != 200:
                notes.append(f"- {target} {q.name} answered {p.status}: {p.error or ''}".strip())
    for name, t in sr.sql.items():
        if t.error:
            notes.append(f"- SQL of {name} failed in sqlite3: {t.error}")
    if notes:
        lines += ["", *notes]
    return lines


def _alone(p: Probe | None) -> str:
    return _secs(p.seconds) if p and p.status == 200 else "—"


def _rows(p: Probe | None) -> str:
    if p is None:
        return "—"
    if p.status != 200:
        return f"HTTP {p.status}"
    return "—" if p.rows is None else f"{p.rows:,}"


def render(report: Report) -> str:
    """bench/RESULTS.md."""
    a = report.args
    v = report.versions
    out = [
        "# geoevents benchmark results",
        "",
        f"Written by bench/run.py; started {report.started}"
        + (f", {report.wall_seconds:.0f} s wall-clock in all" if report.wall_seconds else "")
        + ".",
        "",
        "```",
        report.command,
        "```",
        "",
    ]
    if report.incomplete:
        out += [f"**Incomplete run:** {report.incomplete}", ""]
    m = report.machine
    out += [
        "## Machine and versions",
        "",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['os']}; load "
        "generator, servers and database share the machine, over the loopback interface.",
        f"- Code: geoevents at {report.code}.",
        f"- Load driver: {report.driver.version}; request timeout {report.driver.timeout:g} s.",
        f"- geoevents side: Python {v.get('python', '?')}, SQLite {v.get('sqlite', '?')}, "
        f"FastAPI {v.get('fastapi', '?')}, Starlette {v.get('starlette', '?')}, "
        f"SQLAlchemy {v.get('sqlalchemy', '?')}, uvicorn {v.get('uvicorn', '?')}, "
        f"psycopg {v.get('psycopg', '?')}.",
    ]
    if "postgresql" in v:
        out.append(f"- PostgreSQL server {v['postgresql']}.")
    if "datasette" in v:
        out.append(
            f"- Datasette {v['datasette']} (Python {v.get('datasette_python', '?')}, "
            f"SQLite {v.get('datasette_sqlite', '?')})."
        )
    out += [
        "",
        "## Method",
        "",
        f"Each figure comes from one run of {a['duration']} s against one URL (no repetition, "
        "so no spread is known). Before each run the harness waits until the server's "
        "processes stop using CPU; one still busy after "
        f"{SETTLE_LIMIT:.0f} s (slow requests queued by the last run) is restarted. Requests "
        "still in flight when a run ends are not counted; p50 and p99 are over the requests "
        "that completed. `errors` counts non-2xx answers and socket errors (connect, read, "
        "write, timeout). Every URL is first requested twice with nothing else running: the "
        "first answer gives the status, rows and body, the second the warm time of one "
        "request alone (the warm-up times below). geoevents is started with `geoevents serve "
        "--log-level warning`; clients send no If-None-Match, so every answer is a full 200. "
        + (
            "geoevents keeps a response cache per process; every load run repeats one URL, "
            "so the main runs start geoevents with it off (RESPONSE_CACHE_ENTRIES=0) to "
            "measure the work of answering, and the repeat scenario runs Q1 with the cache "
            "at its default, as a dashboard polling one URL gets it. "
            if report.response_cache
            else "This geoevents has no response cache setting: the repeat scenario runs "
            "the same code as the main runs. "
        )
        + "Server RSS is the sum of VmRSS over the server's "
        "processes, sampled every 50 ms during the run.",
        "",
    ]
    for sr in report.stores:
        ds, p = sr.dataset, sr.params
        if ds.reused:
            gen = "reused an existing database" + (
                f" (generated earlier in {ds.generate_seconds:.0f} s)"
                if ds.generate_seconds
                else ""
            )
        else:
            gen = f"generated in {ds.generate_seconds:.1f} s by this run"
        counts = ", ".join(f"{k} {n:,}" for k, n in ds.counts.items())
        out += [
            f"## {ds.store}",
            "",
            f"- Dataset: {ds.events:,} events, seed {ds.seed} ({ds.seed_note}); {gen}; "
            f"{'file ' + str(ds.path) if ds.path else 'database ' + ds.name}.",
            f"- Rows: {counts}.",
            f"- Parameters: popular actor {p.popular_actor}, rare actor {p.rare_actor} "
            f"({p.rare_actor_events} events), event {p.event_id}, year {p.year}, "
            f"month {p.month}.",
            "",
            "| query | URL |",
            "| --- | --- |",
            *(f"| {q.name} | `{q.path}` |" for q in sr.queries),
            "",
        ]
        for run in sr.runs:
            out += _probe_notes(run, sr.queries, ds.reused)
            for conns in a["connections"]:
                if conns not in run.loads:
                    continue
                out += [
                    f"### geoevents on {ds.store}, {run.workers} worker"
                    f"{'s' if run.workers > 1 else ''}, {conns} connection"
                    f"{'s' if conns > 1 else ''}",
                    "",
                    *render_run(run, conns, sr.queries, a["duration"]),
                    "",
                ]
            for again in sr.repeats:
                if again.workers == run.workers:
                    out += [
                        f"### Repeat: Q1 polled with the response cache at its default, "
                        f"geoevents on {ds.store}, {run.workers} worker"
                        f"{'s' if run.workers > 1 else ''}",
                        "",
                        *render_repeat(again, a["connections"]),
                        "",
                    ]
        comparison = render_comparison(sr)
        if comparison:
            out += [*comparison, ""]
            for target, other in (("Datasette", sr.datasette), ("ceiling", sr.ceiling)):
                if other and sr.compare_connections in other.loads:
                    out += [
                        f"### {target} on {ds.store}, {sr.compare_connections} connections",
                        "",
                        *render_run(other, sr.compare_connections, sr.queries, a["duration"]),
                        "",
                    ]
    out += [*targets.render(asdict(report)), ""]
    out += render_profiles(report)
    return "\n".join(out).rstrip() + "\n"


def _probe_notes(run: ServerRun, qs: list[Query], reused: bool) -> list[str]:
    bad = [
        f"- warm-up {q.name} answered {run.probes[q.name].status}: "
        f"{(run.probes[q.name].error or '').strip()[:200]}"
        for q in qs
        if q.name in run.probes and run.probes[q.name].status != 200
    ]
    slow = [
        f"{q.name} {_secs(run.probes[q.name].seconds)}"
        for q in qs
        if q.name in run.probes and run.probes[q.name].status == 200
    ]
    head = f"One request alone (warm), geoevents {run.workers} worker(s): " + ", ".join(slow) + "."
    if bad and reused:
        bad.append(
            "- the database was reused: one made before a schema change answers errors; "
            "run without --reuse to generate it anew"
        )
    return [head, *bad, ""]


# --- main ----------------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, required=True, help="dataset size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stores", default="sqlite", help="comma list of sqlite, postgresql")
    parser.add_argument("--duration", type=int, default=10, help="seconds per load run")
    parser.add_argument("--workers", type=_int_list, default=[1], help="e.g. 1,2")
    parser.add_argument("--connections", type=_int_list, default=[1, 32], help="e.g. 1,32")
    parser.add_argument("--datasette", action="store_true", help="compare with Datasette")
    parser.add_argument("--data-dir", type=Path, default=BENCH / "data")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--reuse", action="store_true", help="reuse a database holding N events")
    parser.add_argument("--queries", default="Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8", help="a subset")
    parser.add_argument(
        "--no-repeat", action="store_true", help="skip Q1 with the response cache on"
    )
    parser.add_argument(
        "--profile",
        default="",
        help="queries to profile with py-spy on SQLite, one worker (Q1,Q7 or all)",
    )
    parser.add_argument(
        "--profile-generate",
        type=int,
        metavar="N",
        help="profile `geoevents bench generate --events N` into a new SQLite file",
    )
    parser.add_argument(
        "--profile-only",
        action="store_true",
        help="only the profiles: replace the 'Where the time goes' section of --out",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="where logs, raw results and profiles go (default: --data-dir)",
    )
    parser.add_argument("--driver", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL, without a database name",
    )
    args = parser.parse_args(argv)
    args.stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = set(args.stores) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown store(s): {', '.join(sorted(unknown))}")
    args.queries = [q.strip().upper() for q in args.queries.split(",") if q.strip()]
    if set(args.queries) - set(queries.SQL):
        parser.error("--queries takes names among Q1..Q8")
    profile = args.profile.strip().upper()
    args.profile = (
        list(queries.SQL)
        if profile == "ALL"
        else [q.strip() for q in profile.split(",") if q.strip()]
    )
    if set(args.profile) - set(queries.SQL):
        parser.error("--profile takes names among Q1..Q8, or all")
    if args.profile_generate is not None and args.profile_generate < 1:
        parser.error("--profile-generate needs a positive number of events")
    if args.profile_only and not (args.profile or args.profile_generate):
        parser.error("--profile-only needs --profile or --profile-generate")
    if args.profile_only and args.profile and not args.reuse:
        parser.error("--profile-only --profile needs --reuse: it profiles an existing database")
    if not args.workers or not args.connections or min(args.workers + args.connections) < 1:
        parser.error("--workers and --connections need positive integers")
    if args.events < 1 or args.duration < 1:
        parser.error("--events and --duration must be positive")
    for url in [args.pg_url]:
        if "@127.0.0.1" not in url and "@localhost" not in url:
            parser.error("--pg-url must point at 127.0.0.1 or localhost")
    return args


def find_geoevents() -> str:
    """The geoevents console script beside this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "geoevents"
    found = str(beside) if beside.exists() else shutil.which("geoevents")
    if not found:
        raise SystemExit("the geoevents console script was not found (pip install -e .)")
    return found


def _terminate(signum: int, frame: FrameType | None) -> None:
    """Unwind to the cleanup; further signals are ignored so that it runs to its end."""
    for other in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(other, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def bench_store(
    store: str,
    args: argparse.Namespace,
    procs: Processes,
    geoevents: str,
    driver: Driver,
    report: Report,
) -> None:
    """Dataset, geoevents runs and (SQLite with --datasette) the comparisons for one store."""
    ds = prepare_dataset(store, args, procs, geoevents)
    ds.counts = count_tables(ds)
    params = pick_params(ds)
    qs = [q for q in build_queries(params) if q.name in args.queries]
    log(f"{store}: parameters {params}")
    if args.profile:
        profiled = [q for q in build_queries(params) if q.name in args.profile]
        found, server = profile_queries(procs, geoevents, ds, profiled, driver)
        report.profiles.extend(found)
        report.profile_server = report.profile_server or server
        report.profile_events = ds.events
    if args.profile_only:
        return
    sr = StoreReport(ds, params, qs)
    report.stores.append(sr)
    kept: tuple[ServerRun, dict[str, bytes]] | None = None
    repeat = [q for q in qs if q.name == "Q1"]
    for workers in args.workers:
        run, bodies = serve_geoevents(procs, geoevents, ds, workers, qs, args, driver, False)
        sr.runs.append(run)
        if kept is None or workers == 1:
            kept = (run, bodies)
        if repeat and not args.no_repeat:
            again, _ = serve_geoevents(procs, geoevents, ds, workers, repeat, args, driver, True)
            sr.repeats.append(again)
    if store != "sqlite" or not args.datasette or kept is None:
        return
    conns = 32 if 32 in args.connections else max(args.connections)
    sr.compare_connections = conns
    geo_run = kept[0]
    if conns not in geo_run.loads:
        return
    sr.datasette = serve_datasette(procs, ds, qs, args, driver, conns)
    sr.ceiling = serve_ceiling(procs, ds, qs, geo_run.probes, kept[1], args, driver, conns)
    sr.sql = time_sql(ds, qs)


def collect_versions(args: argparse.Namespace, geoevents: str, procs: Processes) -> dict[str, str]:
    """Versions of everything measured."""
    names = ["fastapi", "starlette", "sqlalchemy", "uvicorn", "psycopg"]
    versions = interpreter_versions(geoevents_python(geoevents), names)
    if "postgresql" in args.stores and not args.profile_only:
        admin = pg_url(args.pg_url, "postgres")
        versions["postgresql"] = psql(admin, "SHOW server_version")[0][0]
    if args.datasette and "sqlite" in args.stores and not args.profile_only:
        _, python = ensure_datasette(procs)
        found = interpreter_versions(python, ["datasette"])
        versions["datasette"] = found.get("datasette", "?")
        versions["datasette_python"] = found.get("python", "?")
        versions["datasette_sqlite"] = found.get("sqlite", "?")
    return versions


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write the results."""
    args = parse_args(argv)
    if queries.METADATA.read_text() != queries.metadata_text():
        raise SystemExit("bench/datasette-metadata.json is stale: run python bench/queries.py")
    args.data_dir = args.data_dir.absolute()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    args.work_dir = (args.work_dir or args.data_dir).absolute()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    procs = Processes(args.work_dir / "logs" / stamp)
    geoevents = find_geoevents()
    driver = pick_driver(args.driver, args.request_timeout)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    report: Report | None = None
    try:
        report = Report(
            command=shlex.join(sys.orig_argv),
            started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            args={"duration": args.duration, "connections": args.connections},
            machine=machine(),
            versions=collect_versions(args, geoevents, procs),
            driver=driver,
            response_cache=has_cache_setting(geoevents_python(geoevents)),
            code=code_version(),
        )
        log(f"load driver: {driver.version}; logs in {procs.log_dir}")
        if args.profile or args.profile_generate:
            pyspy, _ = ensure_tool(procs, PYSPY_VENV, PYSPY_REQUIREMENT, "py-spy")
            said = subprocess.run([pyspy, "--version"], capture_output=True, text=True, timeout=60)
            report.versions["py-spy"] = said.stdout.strip().removeprefix("py-spy ") or "?"
        stores = args.stores
        for store in [] if args.profile_only and not args.profile else stores:
            bench_store(store, args, procs, geoevents, driver, report)
        if args.profile_generate:
            report.profiles.append(profile_generate(procs, geoevents, args))
    except BaseException as exc:
        if report is not None:
            report.incomplete = f"{type(exc).__name__}: {exc}".strip()
        raise
    finally:
        procs.stop_all()
        if report is not None:
            report.wall_seconds = time.perf_counter() - started
            done = report.incomplete is None
            target = args.out if done else args.work_dir / "RESULTS.partial.md"
            if not args.profile_only:
                text = render(report)
            elif done and args.out.exists():
                text = splice_section(args.out.read_text(), render_profiles(report, True))
            else:
                text = "\n".join(["# geoevents profiles", "", *render_profiles(report, True)])
            target.write_text(text)
            (args.work_dir / f"results-{stamp}.json").write_text(
                json.dumps(asdict(report), indent=1, default=str)
            )
            log(f"wrote {target} ({report.wall_seconds:.0f} s)")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt as stop:
        log(f"interrupted ({stop}); every server started was stopped")
        sys.exit(130)
