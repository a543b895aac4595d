"""Faults, and recovery without a restart: `make faulttest`.

Serves a freshly seeded PostgreSQL database with `geoevents serve --workers 2`, polls it
from a few clients, and meanwhile (1) terminates every backend of the database with
pg_terminate_backend, then (2) stops the PostgreSQL cluster for a few seconds and starts it
again. While the database is away the API must answer 503 problem+json with Retry-After (never
another 5xx, never a dropped connection), `/healthz` must stay 200, and once the database is
back every answer must be 200 again, from the same server processes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

BIN = Path(sys.executable).parent
URLS = ["/v1/events?limit=20", "/v1/events/putin-xi-video-summit", "/v1/stats/summary", "/readyz"]


def cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True
    )


async def poll(base: str, stop: asyncio.Event, seen: list[tuple[float, str, int]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        n = 0
        while not stop.is_set():
            url = URLS[n % len(URLS)]
            n += 1
            try:
                answer = await http.get(url)
                status = answer.status_code
                if status == 503:
                    assert answer.headers["content-type"] == "application/problem+json"
                    assert answer.headers["retry-after"]
            except httpx.HTTPError:
                status = -1  # a dropped connection
            seen.append((time.monotonic(), url, status))
            await asyncio.sleep(0.02)


async def scenario(base: str, admin_url: str, name: str) -> dict[str, object]:
    stop = asyncio.Event()
    seen: list[tuple[float, str, int]] = []
    pollers = [asyncio.create_task(poll(base, stop, seen)) for _ in range(4)]
    marks: dict[str, float] = {}
    await asyncio.sleep(3)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        ).scalar()
    admin.dispose()
    marks["backends terminated"] = time.monotonic()
    await asyncio.sleep(3)
    marks["cluster stopped"] = time.monotonic()
    await asyncio.to_thread(cluster, "stop")
    await asyncio.sleep(5)
    await asyncio.to_thread(cluster, "start")
    marks["cluster started"] = time.monotonic()
    await asyncio.sleep(8)
    stop.set()
    await asyncio.gather(*pollers)
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        health = (await http.get("/healthz")).status_code
    started = marks["cluster started"]
    after = [s for t, _, s in seen if t > started + 3]
    return {
        "requests": len(seen),
        "statuses": dict(sorted(Counter(s for _, _, s in seen).items())),
        "backends_terminated": killed,
        "other_5xx_or_dropped": sum(1 for _, _, s in seen if s == -1 or (s >= 500 and s != 503)),
        "answers_503": sum(1 for _, _, s in seen if s == 503),
        "all_200_from_3s_after_restart": bool(after) and all(s == 200 for s in after),
        "healthz_after": health,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    name = f"geoevents_fault_{uuid.uuid4().hex[:6]}"
    admin_url = args.pg_url.replace("postgresql://", "postgresql+psycopg://") + "/postgres"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    env = os.environ | {"DATABASE_URL": f"{args.pg_url}/{name}"}
    geoevents = str(BIN / "geoevents")
    subprocess.run([geoevents, "seed"], env=env, check=True, capture_output=True)
    port = 8765
    server = subprocess.Popen(
        [geoevents, "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
        pids = subprocess.run(["pgrep", "-g", str(server.pid)], capture_output=True, text=True)
        result = asyncio.run(scenario(base, admin_url, name))
        still = subprocess.run(["pgrep", "-g", str(server.pid)], capture_output=True, text=True)
        result["same_server_processes"] = pids.stdout.split() == still.stdout.split()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(result, flush=True)
    ok = (
        result["other_5xx_or_dropped"] == 0
        and result["all_200_from_3s_after_restart"]
        and result["healthz_after"] == 200
        and result["same_server_processes"]
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
