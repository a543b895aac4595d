"""Faults, and recovery without a restart: `make faulttest`.

Serves a freshly seeded PostgreSQL database with `geoevents serve --workers 2`, polls it
from a few clients while two writer clients keep creating claims, and meanwhile (1)
terminates every backend of the database with pg_terminate_backend, then (2) stops the
PostgreSQL cluster for a few seconds and starts it again. While the database is away the API
must answer 503 problem+json with Retry-After (never another 5xx, never a dropped
connection), `/healthz` must stay 200, and once the database is back every answer must be 200
again, from the same server processes.

A writer sends each claim with an Idempotency-Key and repeats the same request on a 503 or a
transport error until it is acknowledged (201, or the first 201 replayed). One write in five
hangs up before its first answer arrives (a dropped response: the write may have committed),
so that retries after a commit are answered by a replay, never by a second claim. A claim still
unacknowledged when the scenario ends is retried for up to 30 s more. Every answer to a write
must be 201, a 503 as above, or a transport error; afterwards every acknowledged claim must be
stored exactly once with exactly one `created` revision, and nothing else the writers sent:
nothing lost, nothing duplicated.

The cluster stopped and started is `--cluster` (`main`) of `--cluster-version` (the newest
under /etc/postgresql); it must be the one serving `--pg-url`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter

import httpx
from serving import admin_url, scratch_database, seed_with_key, served
from sqlalchemy import create_engine, text

URLS = ["/v1/events?limit=20", "/v1/events/putin-xi-video-summit", "/v1/stats/summary", "/readyz"]
CLAIM_EVENTS = ["putin-xi-video-summit", "abu-dhabi-talks-round-1", "energy-ceasefire"]
WRITERS = 2
# The share of writes whose first answer the client does not wait for.
LOST_ANSWERS = 0.2
# How long a writer keeps retrying its last claim once the scenario is over.
FINAL_RETRY_SECONDS = 30.0


def cluster(version: str, name: str, action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action], check=True
    )


def check_cluster(version: str, name: str, admin_url: str) -> None:
    """Exit unless the cluster to stop and start is the one serving the database under test:
    stopping another would break whatever else runs on it, and test nothing."""
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True
    ).stdout
    data_dirs = [f[5] for f in map(str.split, listing.splitlines()) if f[:2] == [version, name]]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        serving = conn.execute(text("SHOW data_directory")).scalar()
    admin.dispose()
    if not data_dirs or os.path.realpath(data_dirs[0]) != os.path.realpath(str(serving)):
        sys.exit(
            f"cluster {version}/{name} does not serve --pg-url (whose data directory is "
            f"{serving}): pass the --cluster and --cluster-version that do"
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


class Writes:
    """What the writer clients did."""

    def __init__(self) -> None:
        self.attempted: list[str] = []  # one claim id per claim tried
        self.acknowledged: list[str] = []  # claim ids answered 201
        self.retries = 0  # requests repeated after a 503 or a transport error
        self.replayed = 0  # 201s that were replays of an earlier, unseen, 201
        self.statuses: Counter[int] = Counter()  # every answer to a write; -1: transport error
        self.bad: list[str] = []  # answers other than 201 and a well-formed 503
        self.give_up_at: float | None = None  # set when the scenario is over


async def create_claim(
    http: httpx.AsyncClient, body: dict[str, object], writes: Writes, lose_answer: bool
) -> None:
    """POST one claim until it is acknowledged, repeating the very same request. With
    `lose_answer`, the first try hangs up before its answer arrives, as a network that drops
    a response would: the write goes on without the client, which must retry."""
    claim_id = str(body["id"])
    writes.attempted.append(claim_id)
    headers = {"Idempotency-Key": claim_id}
    while True:
        timeout = httpx.Timeout(10, read=0.001) if lose_answer else httpx.USE_CLIENT_DEFAULT
        lose_answer = False
        try:
            answer = await http.post("/v1/claims", json=body, headers=headers, timeout=timeout)
        except httpx.HTTPError:
            writes.statuses[-1] += 1  # the write may or may not have been stored: try again
        else:
            writes.statuses[answer.status_code] += 1
            if answer.status_code == 201:
                writes.acknowledged.append(claim_id)
                writes.replayed += answer.headers.get("idempotent-replayed") == "true"
                return
            if answer.status_code != 503:
                # Nothing but a 503 or a lost answer says the same request may succeed later.
                writes.bad.append(f"{claim_id}: {answer.status_code} {answer.text[:200]}")
                return
            problem = answer.headers.get("content-type") == "application/problem+json"
            if not problem or not answer.headers.get("retry-after"):
                writes.bad.append(f"{claim_id}: a 503 without problem+json or Retry-After")
        if writes.give_up_at is not None and time.monotonic() > writes.give_up_at:
            return
        writes.retries += 1
        # Shorter than the Retry-After the API sends (5 s), so that writes keep arriving
        # throughout each fault.
        await asyncio.sleep(0.2)


async def writer(base: str, key: str, n: int, stop: asyncio.Event, writes: Writes) -> None:
    rng = random.Random(n)
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=auth) as http:
        count = 0
        while not stop.is_set():
            count += 1
            body: dict[str, object] = {
                "id": f"faultw-{n}-{count}-{uuid.uuid4().hex[:6]}",
                "source_id": "putin-roundup-article",
                "event_id": rng.choice(CLAIM_EVENTS),
                "statement": "A fault-test statement.",
                "hedging": "reported",
                "evidence": {"start": 0, "end": 4, "text": "News"},
            }
            await create_claim(http, body, writes, lose_answer=rng.random() < LOST_ANSWERS)
            await asyncio.sleep(0.05)


async def scenario(
    base: str, key: str, admin_url: str, name: str, version: str, cluster_name: str
) -> tuple[dict[str, object], Writes]:
    stop = asyncio.Event()
    seen: list[tuple[float, str, int]] = []
    writes = Writes()
    pollers = [asyncio.create_task(poll(base, stop, seen)) for _ in range(4)]
    writers = [asyncio.create_task(writer(base, key, n, stop, writes)) for n in range(WRITERS)]
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
    await asyncio.to_thread(cluster, version, cluster_name, "stop")
    await asyncio.sleep(5)
    await asyncio.to_thread(cluster, version, cluster_name, "start")
    marks["cluster started"] = time.monotonic()
    await asyncio.sleep(8)
    writes.give_up_at = time.monotonic() + FINAL_RETRY_SECONDS
    stop.set()
    await asyncio.gather(*pollers, *writers)
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
    }, writes


def stored_writes(db_url: str, writes: Writes) -> dict[str, object]:
    """The writers' claims as the database holds them, against what was acknowledged."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = Counter(
            conn.execute(text("SELECT id FROM claims WHERE id LIKE 'faultw-%'")).scalars()
        )
        created = Counter(
            conn.execute(
                text(
                    "SELECT record_id FROM revisions WHERE kind = 'claim' AND op = 'created'"
                    " AND record_id LIKE 'faultw-%'"
                )
            ).scalars()
        )
    engine.dispose()
    acknowledged = set(writes.acknowledged)
    return {
        "writes_attempted": len(writes.attempted),
        "writes_acknowledged": len(acknowledged),
        "writes_unacknowledged": len(set(writes.attempted) - acknowledged),
        "write_retries": writes.retries,
        "write_201s_replayed": writes.replayed,
        "write_503s": writes.statuses[503],
        "write_transport_errors": writes.statuses[-1],
        "write_other_answers": len(writes.bad),
        "write_other_answers_sample": writes.bad[:3],
        "claims_stored": sum(stored.values()),
        "claims_created_revisions": sum(created.values()),
        # A claim stored, or given a `created` revision, more than once.
        "duplicates": sum(1 for c in stored | created if stored[c] > 1 or created[c] > 1),
        # An acknowledged claim not stored, or without its `created` revision.
        "lost": sum(1 for c in acknowledged if not stored[c] or not created[c]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--cluster", default="main", help="the cluster serving --pg-url")
    parser.add_argument(
        "--cluster-version",
        default=sorted(os.listdir("/etc/postgresql"))[-1],
        help="its PostgreSQL major version",
    )
    args = parser.parse_args()
    admin = admin_url(args.pg_url)
    check_cluster(args.cluster_version, args.cluster, admin)
    with scratch_database("postgresql", args.pg_url, "fault") as db_url:
        env = os.environ | {"DATABASE_URL": db_url}
        key = seed_with_key(env, "fault")
        with served(env) as (base, server):
            group = ["pgrep", "-g", str(server.pid)]
            pids = subprocess.run(group, capture_output=True, text=True)
            name = db_url.rsplit("/", 1)[1]
            result, writes = asyncio.run(
                scenario(base, key, admin, name, args.cluster_version, args.cluster)
            )
            still = subprocess.run(group, capture_output=True, text=True)
            result["same_server_processes"] = pids.stdout.split() == still.stdout.split()
        result |= stored_writes(db_url.replace("postgresql://", "postgresql+psycopg://"), writes)
    print(result, flush=True)
    ok = (
        result["other_5xx_or_dropped"] == 0
        and result["all_200_from_3s_after_restart"]
        and result["healthz_after"] == 200
        and result["same_server_processes"]
        and result["write_other_answers"] == 0
        and result["writes_unacknowledged"] == 0
        and result["duplicates"] == 0
        and result["lost"] == 0
        # Some committed write was retried, and answered by a replay rather than redone.
        and result["write_201s_replayed"] != 0
        and result["claims_stored"] == result["writes_acknowledged"]
        and result["claims_created_revisions"] == result["writes_acknowledged"]
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
