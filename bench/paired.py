"""geoevents against Datasette in alternating short runs, for a machine shared with other work.

bench/run.py loads geoevents with every query, then Datasette: on a machine whose load
changes by the minute, the two halves of a ratio can meet different loads. Here both
servers run at once (the idle one costs nothing) and each round loads one query on
geoevents, then at once the same query on Datasette, so each ratio's halves are seconds
apart; the report gives per query the median req/s of each over the rounds and the median
of the rounds' ratios. Same servers, canned queries and URLs as bench/run.py.

    .venv/bin/python bench/paired.py --database /path/geoevents_bench_1000000.db \\
        --queries Q1,Q2,Q3,Q5 --rounds 5 --duration 5
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import queries  # noqa: E402  (bench/queries.py: the canned queries' database name)
import run  # noqa: E402  (bench/run.py: the queries, parameters and Datasette's install)


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((run.HOST, 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, seconds: float = 120) -> None:
    """Until the server answers url, or fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"no answer from {url}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def family(pid: int) -> list[int]:
    """A process and its descendants (a server's workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += family(int(child))
    return found


def wait_idle(pids: list[int], limit: float = 120) -> None:
    """Until none of these processes (and their workers) used CPU for half a second:
    requests still queued from the last run (slow ones outlive wrk's end) would otherwise
    weigh on the next."""
    deadline = time.monotonic() + limit
    every = [p for pid in pids for p in family(pid)]
    before = sum(cpu_seconds(pid) for pid in every)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sum(cpu_seconds(pid) for pid in every)
        if now - before < 0.02:
            return
        before = now


def wrk(url: str, connections: int, duration: int) -> float:
    """Requests per second wrk reached on url."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(found.group(1)) if found else 0.0


def main() -> None:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", type=Path, required=True, help="a bench SQLite file")
    parser.add_argument("--queries", default="Q1,Q2,Q3,Q5")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="geoevents workers")
    args = parser.parse_args()
    database = args.database.resolve()
    url = f"sqlite:///{database}"
    ds = run.Dataset("sqlite", database.stem, url, 0, 1, "", True, None)
    ds.path = str(database)
    wanted = {q.strip() for q in args.queries.split(",")}
    qs = [q for q in run.build_queries(run.pick_params(ds)) if q.name in wanted]
    procs = run.Processes(BENCH / "data" / "paired-logs")
    exe, _ = run.ensure_datasette(procs)
    link_dir = BENCH / "data" / "datasette"
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / f"{queries.DATABASE}.db"
    link.unlink(missing_ok=True)
    link.symlink_to(database)
    g_port, d_port = free_port(), free_port()
    env = dict(os.environ, DATABASE_URL=url, RESPONSE_CACHE_ENTRIES="0")
    geoevents = [str(ROOT / ".venv" / "bin" / "geoevents"), "serve", "--host", run.HOST]
    geoevents += ["--port", str(g_port), "--workers", str(args.workers), "--log-level", "warning"]
    datasette = [exe, "serve", "-i", str(link), "--host", run.HOST, "--port", str(d_port)]
    datasette += ["--setting", "sql_time_limit_ms", "60000", "--setting", "max_returned_rows"]
    datasette += ["100000", "-m", str(BENCH / "datasette-metadata.json")]
    servers = [
        subprocess.Popen(geoevents, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(datasette, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        wait_ready(f"http://{run.HOST}:{g_port}/healthz")
        wait_ready(f"http://{run.HOST}:{d_port}/-/versions.json")
        g = {q.name: f"http://{run.HOST}:{g_port}{q.path}" for q in qs}
        d = {q.name: f"http://{run.HOST}:{d_port}{q.datasette_path}" for q in qs}
        for q in qs:  # warm both
            for target in (g[q.name], d[q.name]):
                for _ in range(2):
                    with urllib.request.urlopen(target, timeout=120) as answer:
                        answer.read()
        rates: dict[str, list[tuple[float, float]]] = {q.name: [] for q in qs}
        pids = [server.pid for server in servers]
        loads = [os.getloadavg()[0]]
        for n in range(args.rounds):
            for q in qs:
                wait_idle(pids)
                ours = wrk(g[q.name], args.connections, args.duration)
                wait_idle(pids)
                theirs = wrk(d[q.name], args.connections, args.duration)
                rates[q.name].append((ours, theirs))
                print(
                    f"round {n + 1} {q.name}: geoevents {ours:,.1f} req/s, Datasette "
                    f"{theirs:,.1f} req/s",
                    flush=True,
                )
            loads.append(os.getloadavg()[0])
    finally:
        for server in servers:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a long request still running (an export)
                server.kill()
                server.wait()
    print()
    print(
        f"{args.rounds} rounds of {args.duration} s per server and query, "
        f"{args.connections} connections, geoevents {args.workers} worker(s), response "
        f"cache off; load average {min(loads):.1f}-{max(loads):.1f}"
    )
    print()
    print("| query | geoevents req/s | Datasette req/s | ratio (median of rounds) | ratios |")
    print("| --- | ---: | ---: | ---: | --- |")
    for q in qs:
        pairs = rates[q.name]
        ratios = [a / b if b else float("inf") for a, b in pairs]
        print(
            f"| {q.name} | {statistics.median(a for a, _ in pairs):,.1f} | "
            f"{statistics.median(b for _, b in pairs):,.1f} | "
            f"{statistics.median(ratios):.2f}× | "  # noqa: RUF001
            f"{', '.join(f'{r:.2f}' for r in ratios)} |"
        )


if __name__ == "__main__":
    main()
