"""The network of one year (bench/run.py's Q7), timed in the process, on one database.

    .venv/bin/python bench/network.py \
        --database-url sqlite:///bench/data/geoevents_bench_1000000.db \
        [--start 2019-01-01 --end 2019-12-31] [--repeat 15]

Calls the service the route calls (`app.stats.service.network`) in one session, after two
warm-up calls, and prints the minimum and median of the repeats, then the time of each SQL
statement of one more call: what the network costs without HTTP, which bench/run.py's Q7
adds. Nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import models  # noqa: F401  (declares every table)
from app.core.db import make_engine
from app.stats import service
from app.stats.schemas import NetworkQuery


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2019, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2019, 12, 31))
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    query = NetworkQuery(start=args.start, end=args.end)
    statements: list[tuple[float, str]] = []

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        took = time.perf_counter() - conn.info["started"]
        statements.append((took, " ".join(statement.split())[:110]))

    with Session(engine) as session:
        for _ in range(2):
            service.network(session, query)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            answer = service.network(session, query)
            times.append(time.perf_counter() - started)
        event.listen(Engine, "before_cursor_execute", before)
        event.listen(Engine, "after_cursor_execute", after)
        service.network(session, query)
    print(
        f"network {args.start}..{args.end}: {len(answer.nodes)} nodes, {len(answer.edges)} "
        f"edges, {answer.meta.total_events} events; {args.repeat} calls: "
        f"min {min(times) * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms"
    )
    for took, statement in statements:
        print(f"  {took * 1000:8.2f} ms  {statement}")


if __name__ == "__main__":
    main()
