"""Reads with and without `as_of`, on one database of the synthetic corpus.

    .venv/bin/python bench/as_of.py --events 1000000 [--stores sqlite,postgresql] [--repeat 21]

For each of Q1..Q8 (bench/run.py's queries, with their parameters picked the same way) the
server answers the read as it is, then as of a moment after the corpus was written, so both
answers hold the same rows. Each request is sent alone, one after another, with the response
cache off; the first `as_of` request of a moment no request asked for before is reported
apart (for those to be cold, drop the page cache first: `sync; echo 3 >
/proc/sys/vm/drop_caches`; PostgreSQL's shared buffers keep what they hold). Figures are
medians. The databases are those `make bench-full` leaves in bench/data
(or --database-url); nothing is generated here.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from run import BENCH, Dataset, build_queries, machine, pick_params

GEOEVENTS = str(Path(sys.executable).parent / "geoevents")
PG_BASE = "postgresql://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dataset(store: str, events: int, url: str | None) -> Dataset:
    name = f"geoevents_bench_{events}"  # as bench/run.py names them
    if store == "sqlite":
        url = url or f"sqlite:///{(BENCH / 'data' / f'{name}.db').absolute()}"
        return Dataset(store, name, url, events, 1, "", True, None, url.removeprefix("sqlite:///"))
    return Dataset(store, name, url or f"{PG_BASE}/{name}", events, 1, "", True, None)


def _timed(client: httpx.Client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    answer = client.get(url)
    took = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"{url}: {answer.status_code} {answer.text[:300]}")
    return took * 1000, len(answer.content)


def measure(ds: Dataset, repeat: int) -> list[dict[str, object]]:
    port = free_port()
    env = os.environ | {"DATABASE_URL": ds.url, "RESPONSE_CACHE_ENTRIES": "0"}
    server = subprocess.Popen(
        [GEOEVENTS, "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    rows: list[dict[str, object]] = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become ready")
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=300) as client:
            for n, query in enumerate(build_queries(pick_params(ds))):
                join = "&" if "?" in query.path else "?"
                moment = f"2100-01-{n + 1:02d}T00:00:00.{{:06d}}Z"
                live_first, _ = _timed(client, query.path)
                first, size_past = _timed(client, query.path + join + "as_of=" + moment.format(0))
                live = [_timed(client, query.path) for _ in range(repeat)]
                past = [
                    _timed(client, query.path + join + "as_of=" + moment.format(k + 1))
                    for k in range(repeat)
                ]
                live_ms = statistics.median(t for t, _ in live)
                past_ms = statistics.median(t for t, _ in past)
                if live[0][1] != size_past:
                    raise SystemExit(f"{query.name}: as_of answered other rows than the live read")
                rows.append(
                    {
                        "query": query.name,
                        "title": query.title,
                        "live": live_ms,
                        "first": first,
                        "live_first": live_first,
                        "as_of": past_ms,
                        "ratio": past_ms / live_ms,
                        "first_ratio": first / live_first,
                    }
                )
                print(f"{ds.store} {query.name}: live {live_ms:.1f} ms, as_of {past_ms:.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=60)
    return rows


def report(results: dict[str, list[dict[str, object]]], args: argparse.Namespace) -> str:
    lines = [
        f"# as_of at {args.events:,} events",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with "
        f"`python bench/as_of.py --events {args.events} --stores {args.stores} "
        f"--repeat {args.repeat}`; " + ", ".join(f"{k}: {v}" for k, v in machine().items()) + ".",
        "",
        "Each read alone, one after another, response cache off; medians of "
        f"{args.repeat} requests; `as_of` is a moment after the corpus was written, so both "
        "answers hold the same rows (the script checks their sizes agree). Every `as_of` "
        "request asks for a moment no request asked for before, so the median is the cost "
        "of a first request for a moment. The *cold* columns are each query's first read "
        "since the server started, live and then as of a moment: the pages it reads (of the "
        "live tables, then of their versions) are not yet in memory. Target (issue 12): "
        "within 2x of the same read without `as_of`, the first request included.",
        "",
    ]
    for store, rows in results.items():
        lines += [
            f"## {store}",
            "",
            "| query | live ms | as_of ms | ratio | cold live ms | cold as_of ms | cold ratio |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in rows:
            lines.append(
                f"| {row['query']} {row['title']} | {row['live']:.1f} | {row['as_of']:.1f} | "
                f"{row['ratio']:.2f}x | {row['live_first']:.1f} | {row['first']:.1f} | "
                f"{row['first_ratio']:.2f}x |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--stores", default="sqlite")
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--database-url", default=None, help="instead of bench/data's")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS-as-of.md")
    args = parser.parse_args(argv)
    results = {
        store: measure(_dataset(store, args.events, args.database_url), args.repeat)
        for store in args.stores.split(",")
    }
    args.out.write_text(report(results, args) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
