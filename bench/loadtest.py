"""Load with writes, and nothing lost: `make loadtest`.

Serves a freshly seeded database with `geoevents serve --workers 2`, drives it from 64
concurrent clients for a bounded time with a read-heavy mix (5 % writes: new claims and
If-Match edits of events), then checks that every acknowledged write is present exactly once
and that the change feed, replayed, rebuilds the tables. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
READS = [
    "/v1/events?limit=50",
    "/v1/events?actor=russia&start=2026-01-01&end=2026-12-31",
    "/v1/events?q=talks",
    "/v1/events/putin-xi-video-summit",
    "/v1/events/russian-strike-five-regions",
    "/v1/actors?q=putin",
    "/v1/claims?speaker=zelensky",
    "/v1/stats/timeline?interval=month",
    "/v1/stats/summary",
    "/v1/network",
    "/v1/changes?limit=20",
]
EDITED = ["putin-xi-video-summit", "abu-dhabi-talks-round-1", "energy-ceasefire"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Tally:
    """What the clients saw."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.claims: list[str] = []  # acknowledged creations
        self.edits: Counter[str] = Counter()  # acknowledged edits per event
        self.conflicts = 0


async def client_loop(
    http: httpx.AsyncClient, key: str, deadline: float, tally: Tally, rng: random.Random
) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            if rng.random() < 0.05:
                await write(http, auth, tally, rng)
            else:
                answer = await http.get(rng.choice(READS))
                tally.statuses[answer.status_code] += 1
        except httpx.HTTPError as exc:
            where = exc.request.url.path if exc.request else "?"
            tally.errors[f"{type(exc).__name__} on {where}"] += 1
            continue
        tally.latencies.append(time.perf_counter() - started)


async def write(
    http: httpx.AsyncClient, auth: dict[str, str], tally: Tally, rng: random.Random
) -> None:
    if rng.random() < 0.5:
        claim_id = f"load-{uuid.uuid4().hex[:12]}"
        body = {
            "id": claim_id,
            "source_id": "putin-roundup-article",
            "event_id": rng.choice(EDITED),
            "statement": "A load-test statement.",
            "hedging": "reported",
            "evidence": {"start": 0, "end": 4, "text": "News"},
        }
        headers = auth | {"Idempotency-Key": claim_id}
        answer = await http.post("/v1/claims", json=body, headers=headers)
        tally.statuses[answer.status_code] += 1
        if answer.status_code == 201:
            tally.claims.append(claim_id)
        return
    event = rng.choice(EDITED)
    seen = await http.get(f"/v1/events/{event}")
    tally.statuses[seen.status_code] += 1
    title = f"Load edit {uuid.uuid4().hex[:8]}"
    answer = await http.patch(
        f"/v1/events/{event}",
        json={"date_note": title},
        headers=auth | {"If-Match": seen.headers.get("etag", "")},
    )
    tally.statuses[answer.status_code] += 1
    if answer.status_code == 200:
        tally.edits[event] += 1
    elif answer.status_code == 412:
        tally.conflicts += 1


async def drive(base: str, key: str, clients: int, seconds: float) -> Tally:
    tally = Tally()
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        await asyncio.gather(
            *(client_loop(http, key, deadline, tally, random.Random(n)) for n in range(clients))
        )
    return tally


def run(cmd: list[str], env: dict[str, str]) -> str:
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout


def check(url: str, tally: Tally) -> list[str]:
    """Every acknowledged write present exactly once; the feed rebuilds the tables."""
    sys.path.insert(0, str(ROOT))
    from app.changes.service import PointInTime
    from app.curation import service as curation
    from app.curation.schemas import Kind
    from app.db import make_engine, make_sessionmaker

    problems = []
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        stored = Counter(
            session.scalars(text("SELECT id FROM claims WHERE id LIKE 'load-%'")).all()
        )
        acknowledged = Counter(tally.claims)
        if stored != acknowledged:
            problems.append(
                f"claims: {sum(acknowledged.values())} acknowledged, {sum(stored.values())} stored"
            )
        created = Counter(
            session.scalars(
                text(
                    "SELECT record_id FROM revisions WHERE kind = 'claim' AND op = 'created'"
                    " AND record_id LIKE 'load-%'"
                )
            ).all()
        )
        if created != acknowledged:
            problems.append("the feed's claim creations differ from the acknowledged ones")
        for event, edits in tally.edits.items():
            updates = session.scalar(
                text(
                    "SELECT count(*) FROM revisions"
                    " WHERE kind = 'event' AND op = 'updated' AND record_id = :e"
                ),
                {"e": event},
            )
            if updates != edits:
                problems.append(f"{event}: {edits} edits acknowledged, {updates} revisions")
        rebuilt = PointInTime(keep=1).session(session, datetime.now(UTC))
        for kind in Kind:
            model = curation.MODELS[kind]
            ids = list(session.scalars(select(model.id)))
            if curation.documents(rebuilt, kind, ids) != curation.documents(session, kind, ids):
                problems.append(f"replaying the feed does not rebuild the {kind.value} records")
        rebuilt.close()
    engine.dispose()
    return problems


def one_store(store: str, pg_url: str, clients: int, seconds: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="geoevents-load-"))
    if store == "sqlite":
        url = f"sqlite:///{tmp}/load.db"
    else:
        name = f"geoevents_load_{uuid.uuid4().hex[:6]}"
        admin = create_engine(
            pg_url.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = f"{pg_url}/{name}"
    env = os.environ | {"DATABASE_URL": url}
    geoevents = str(BIN / "geoevents")
    run([geoevents, "seed"], env)
    key = run([geoevents, "keys", "create", "--name", "load", "--scope", "write"], env).split()[-1]
    port = free_port()
    server = subprocess.Popen(
        [geoevents, "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        tally = asyncio.run(drive(base, key, clients, seconds))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    problems = check(url, tally)
    latencies = sorted(tally.latencies)
    failures = {s: n for s, n in tally.statuses.items() if s >= 500 or s in (400, 401, 403, 422)}
    return {
        "store": store,
        "requests": sum(tally.statuses.values()),
        "seconds": seconds,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "statuses": dict(sorted(tally.statuses.items())),
        "transport_errors": dict(tally.errors),
        "claims_acknowledged": len(tally.claims),
        "edits_acknowledged": sum(tally.edits.values()),
        "edit_conflicts_412": tally.conflicts,
        "errors": sum(failures.values()) + sum(tally.errors.values()),
        "consistency": problems
        or "every acknowledged write present once; the feed rebuilds the tables",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    failed = False
    for store in args.stores.split(","):
        result = one_store(store, args.pg_url, args.clients, args.duration)
        print(result, flush=True)
        failed = failed or bool(result["errors"]) or isinstance(result["consistency"], list)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
