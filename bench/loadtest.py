"""Load with writes, and nothing lost: `make loadtest`.

Serves a freshly seeded database with `geoevents serve --workers 2`, drives it from 64
concurrent clients for a bounded time with a read-heavy mix (5 % writes, in three equal
parts: new claims, If-Match edits of events, and POST /v1/ingest of a small generated bundle:
a new source with its text, one or two new events naming seed actors and a claim each; about
one ingest in ten is sent twice with the same Idempotency-Key and must get the first answer
back, replayed). Then it checks that every acknowledged write is present exactly once with
one `created` revision, that every ingest not acknowledged left nothing behind, and that the
change feed, replayed, rebuilds the tables. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from serving import scratch_database, seed_with_key, served
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.changes.models import Revision
from app.core.db import make_engine, make_sessionmaker
from app.core.kinds import Kind
from app.core.migrations import alembic_config
from app.core.temporal import REGISTRY
from app.curation import kinds, revisions

ROOT = Path(__file__).resolve().parent.parent
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
# Seed actors the events of generated bundles name. A bundle lists every actor its events
# name; it repeats these exactly as stored, so that ingesting leaves them unchanged.
BUNDLE_ACTORS = ["russia", "ukraine"]


class Tally:
    """What the clients saw."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.claims: list[str] = []  # acknowledged creations
        self.edits: Counter[str] = Counter()  # acknowledged edits per event
        self.conflicts = 0
        # Ingests, each as the ids it writes by kind (source, event, claim).
        self.ingested: list[dict[str, list[str]]] = []  # acknowledged (200)
        self.unanswered: list[dict[str, list[str]]] = []  # transport error: outcome unknown
        self.ingest_retries = 0  # ingests sent a second time with the same key
        self.ingest_problems: list[str] = []  # answers that were not what they should be


async def client_loop(
    http: httpx.AsyncClient,
    key: str,
    actors: list[dict[str, Any]],
    deadline: float,
    tally: Tally,
    rng: random.Random,
) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            if rng.random() < 0.05:
                await write(http, auth, actors, tally, rng)
            else:
                answer = await http.get(rng.choice(READS))
                tally.statuses[answer.status_code] += 1
        except httpx.HTTPError as exc:
            where = exc.request.url.path if exc.request else "?"
            tally.errors[f"{type(exc).__name__} on {where}"] += 1
            continue
        tally.latencies.append(time.perf_counter() - started)


def ingest_bundle(tag: str, actors: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """A small bundle of new reporting, in the seed's format: a source whose text is its own
    (it names `tag`), one or two events naming seed actors, and a claim for each whose
    evidence span is a sentence of that text at its exact offsets."""
    # The dash before the spans is one character but three UTF-8 bytes: offsets must be
    # counted in characters, as the API documents.
    header = f"Load-test report {tag} \u2013 made up, not real reporting."
    counts = [rng.randint(2, 90) for _ in range(rng.choice((1, 2)))]
    sentences = [
        f"Russia and Ukraine exchanged {count} lists of prisoners in round {n}."
        for n, count in enumerate(counts, start=1)
    ]
    text = "\n".join([header, *sentences]) + "\n"
    events = []
    for n, (count, sentence) in enumerate(zip(counts, sentences, strict=True), start=1):
        start = text.index(sentence)
        claim = {
            "id": f"ingest-{tag}-claim-{n}",
            "statement": f"Russia and Ukraine exchanged lists of prisoners (round {n}).",
            "quote": None,
            "speaker": None,
            "hedging": "asserted",
            "evidence": {"start": start, "end": start + len(sentence), "text": sentence},
            "quantities": [
                {
                    "label": "lists of prisoners exchanged",
                    "value": count,
                    "unit": "lists",
                    "qualifier": "exact",
                    "as_reported": f"{count} lists",
                }
            ],
        }
        # Undated: an incoming event with dates is matched against stored ones (same type,
        # overlapping dates, same principal actors) and would corroborate an earlier
        # generated event instead of being created; undated events are never matched.
        events.append(
            {
                "id": f"ingest-{tag}-event-{n}",
                "title": f"Russia and Ukraine exchange lists of prisoners (round {n}, {tag})",
                "summary": None,
                "event_type": "COOPERATE",
                "status": "occurred",
                "start_date": None,
                "end_date": None,
                "date_precision": "unknown",
                "date_note": None,
                "tags": ["load-test"],
                "actors": [{"actor": a["id"], "role": "participant"} for a in actors],
                "locations": [],
                "related": [],
                "claims": [claim],
            }
        )
    source = {
        "id": f"ingest-{tag}",
        "kind": "other",
        "title": f"Load-test report {tag}",
        "published_date_precision": "unknown",
        "language": "en",
        "text": text,
    }
    return {"source": source, "actors": actors, "locations": [], "events": events, "claims": []}


async def ingest(
    http: httpx.AsyncClient,
    auth: dict[str, str],
    actors: list[dict[str, Any]],
    tally: Tally,
    rng: random.Random,
) -> None:
    tag = uuid.uuid4().hex[:12]
    body = ingest_bundle(tag, actors, rng)
    ids = {
        "source": [body["source"]["id"]],
        "event": [e["id"] for e in body["events"]],
        "claim": [c["id"] for e in body["events"] for c in e["claims"]],
    }
    headers = auth | {"Idempotency-Key": f"ingest-{tag}"}
    try:
        first = await http.post("/v1/ingest", json=body, headers=headers)
    except httpx.HTTPError:
        tally.unanswered.append(ids)
        raise
    tally.statuses[first.status_code] += 1
    if first.status_code != 200:
        return  # refused: it must have left nothing behind (see check)
    tally.ingested.append(ids)
    report = first.json()
    outcomes = {e["event_id"]: e["outcome"] for e in report["events"]}
    if not report["changed"] or outcomes != dict.fromkeys(ids["event"], "created"):
        tally.ingest_problems.append(f"ingest-{tag}: unexpected report {report}")
    if rng.random() < 0.1:
        # A client retry, as after a lost answer: the same key and body must get the first
        # answer again, replayed, and write nothing more.
        tally.ingest_retries += 1
        again = await http.post("/v1/ingest", json=body, headers=headers)
        tally.statuses[again.status_code] += 1
        if (
            again.status_code != first.status_code
            or again.content != first.content
            or again.headers.get("idempotent-replayed") != "true"
        ):
            tally.ingest_problems.append(
                f"ingest-{tag}: the retry got {again.status_code} "
                f"(replayed: {again.headers.get('idempotent-replayed')}), not the first answer"
            )


async def write(
    http: httpx.AsyncClient,
    auth: dict[str, str],
    actors: list[dict[str, Any]],
    tally: Tally,
    rng: random.Random,
) -> None:
    kind = rng.randrange(3)
    if kind == 0:
        await ingest(http, auth, actors, tally, rng)
        return
    if kind == 1:
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


async def drive(
    base: str, key: str, actors: list[dict[str, Any]], clients: int, seconds: float
) -> Tally:
    tally = Tally()
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        await asyncio.gather(
            *(
                client_loop(http, key, actors, deadline, tally, random.Random(n))
                for n in range(clients)
            )
        )
    return tally


def stored_actors(url: str) -> list[dict[str, Any]]:
    """The documents of BUNDLE_ACTORS as the database holds them."""
    sys.path.insert(0, str(ROOT))

    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        docs = kinds.documents(session, Kind.actor, BUNDLE_ACTORS)
    engine.dispose()
    return [docs[actor] for actor in BUNDLE_ACTORS]


def differences(what: str, stored: Counter[str], expected: Counter[str]) -> list[str]:
    """What is missing from `stored`, and what it holds more than once or unexpectedly."""
    missing, extra = expected - stored, stored - expected
    if not missing and not extra:
        return []
    return [
        f"{what}: {sum(missing.values())} acknowledged but missing, {sum(extra.values())} "
        f"extra (stored twice, or never acknowledged), e.g. {sorted(missing | extra)[:3]}"
    ]


def check(url: str, tally: Tally, replay_url: str) -> list[str]:
    """Every acknowledged write present exactly once; the feed rebuilds the tables."""
    sys.path.insert(0, str(ROOT))

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
        # Ingests: each acknowledged one's source, events and claims stored once, each with
        # one `created` revision; an ingest refused with an error answer left nothing. Only
        # those whose answer was lost in transport may be either.
        unknown = {i for ids in tally.unanswered for kind_ids in ids.values() for i in kind_ids}
        for kind, table in (("source", "sources"), ("event", "events"), ("claim", "claims")):
            expected = Counter(i for ids in tally.ingested for i in ids[kind])
            rows = session.scalars(text(f"SELECT id FROM {table} WHERE id LIKE 'ingest-%'"))
            stored = Counter(i for i in rows if i not in unknown)
            problems += differences(f"ingested {kind}s", stored, expected)
            revisions = session.scalars(
                text(
                    "SELECT record_id FROM revisions WHERE kind = :kind AND op = 'created'"
                    " AND record_id LIKE 'ingest-%'"
                ),
                {"kind": kind},
            )
            created = Counter(i for i in revisions if i not in unknown)
            problems += differences(f"`created` revisions of ingested {kind}s", created, expected)
        # The seed actors the bundles repeat must be unchanged by them.
        touched = session.scalar(
            text("SELECT count(*) FROM revisions WHERE kind = 'actor' AND op <> 'created'")
        )
        if touched:
            problems.append(f"{touched} actor revisions other than creations")
        problems += tally.ingest_problems
        problems += replayed(session, replay_url)
    engine.dispose()
    return problems


def replayed(session: Session, url: str) -> list[str]:
    """The feed replayed into an empty database: the same records, and every version of
    every row over the same interval."""
    problems = []
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as rebuilt:
        revisions.replay(rebuilt, session.scalars(select(Revision).order_by(Revision.seq)))
        rebuilt.commit()
        for kind in Kind:
            model = kinds.REGISTRY[kind].model
            ids = list(session.scalars(select(model.id)))
            if kinds.documents(rebuilt, kind, ids) != kinds.documents(session, kind, ids):
                problems.append(f"replaying the feed does not rebuild the {kind.value} records")
        for name, entry in REGISTRY.items():
            ours = {tuple(r) for r in session.execute(select(entry.history))}
            if {tuple(r) for r in rebuilt.execute(select(entry.history))} != ours:
                problems.append(f"replaying the feed does not rebuild the versions of {name}")
    engine.dispose()
    return problems


def one_store(store: str, pg_url: str, clients: int, seconds: float) -> dict[str, Any]:
    with scratch_database(store, pg_url, "load") as url:
        env = os.environ | {"DATABASE_URL": url}
        key = seed_with_key(env, "load")
        actors = stored_actors(url)
        with served(env) as (base, _):
            tally = asyncio.run(drive(base, key, actors, clients, seconds))
        with scratch_database(store, pg_url, "replay") as replay_url:
            problems = check(url, tally, replay_url)
    latencies = sorted(tally.latencies)
    # Every answer but a success is an error, except 412: an edit that lost the race to
    # another, which the client is right to be told.
    failures = {s: n for s, n in tally.statuses.items() if s >= 300 and s != 412}
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
        "ingests_acknowledged": len(tally.ingested),
        "ingests_retried": tally.ingest_retries,
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
