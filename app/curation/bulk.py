"""Bulk creation: records that do not exist yet, written set by set instead of record by
record, with every derived table and stored document exact, as after the same records
written one by one through `kinds.put` inside a `revisions.Changes`.

The per-record path pays, for every record, for what only an update needs: the record's
document read before the write, an ORM upsert that first looks the row up, the rows the
record owns compared with their open versions. For a record known to be new none of that
has an answer, so here, for one batch of new records:

- rows are built by the same functions the per-record path uses (`store.*_row(s)`), and
  written in one statement per table: executemany on SQLite, COPY on PostgreSQL;
- the actor index and the rollups move by the difference the new events make, in one
  upsert per rollup (`projections.maintaining`, as for any write);
- the new records' stored documents and search rows are built once for the batch
  (`projections.project`, `search.refresh`, one statement per relation); documents of
  records that already exist and show the new ones (a cited source's claim count, a state
  that lists its new members, an event that gains a claim or a link) are marked stale and
  rebuilt by the ordinary `projections.settle`;
- each new record gets its creation revision, its document as read back after the write
  (as `Changes.record` reads it), all at one moment, with version 1 and its times set to
  that moment's second;
- the first versions of the rows the new records own are copied by one INSERT … SELECT per
  table (`versions.open_created`); those of existing rows that changed (documents, rollup
  rows) are compared as on every write.

The caller decides what is new (app.curation.datasets.common tells new records from stored
ones with one read per kind and batch) and sends changed records down the per-record path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import search
from app.actors.models import Actor, ActorAlias, Affiliation
from app.actors.schemas import ActorCreate
from app.changes.models import Revision
from app.claims.models import Claim, Quantity
from app.core import version as data_version
from app.core.db import insert_rows
from app.core.kinds import Kind
from app.curation import evidence, projections, revisions, store, versions
from app.curation.kinds import ORDER, documents
from app.curation.schemas import ClaimDoc, SourceDoc
from app.events.models import Event
from app.events.schemas import EventDoc
from app.locations.models import Location
from app.locations.schemas import LocationCreate
from app.sources.models import Source

Created = tuple[Kind, str, str | None]  # a creation revision: kind, record, its event
# The tables a bulk creation fills whose statistics the per-batch reads depend on (each also
# has its versions' twin).
ANALYZED = [
    "sources",
    "actors",
    "actor_aliases",
    "affiliations",
    "locations",
    "events",
    "event_actors",
    "event_locations",
    "claims",
    "quantities",
    "actor_events",
    "event_documents",
    "claim_documents",
    "actor_documents",
    "source_documents",
    "event_search",
    "timeline_days",
    "network_pairs",
    "network_pair_periods",
    "actor_periods",
    "event_lines",
]


def create(
    session: Session,
    author: str,
    docs: Mapping[Kind, Sequence[BaseModel]],
    at: datetime | None = None,
) -> list[Created]:
    """Create these records, none of which exists yet (what a record names must exist, or
    be among them), at one moment (`at`, or now), with their creation revisions; returns
    what the revisions say, in the order written. The transaction is left open for the
    caller; updates written later in it at the same `at` (`Changes.record(at=…)`) make one
    write with these, as the versions see it: a row changed twice keeps one version."""
    if not any(docs.values()):
        return []
    data_version.lock_writes(session)
    session.flush()
    now = at if at is not None else datetime.now(UTC)  # to the microsecond, as revisions
    second = now.replace(microsecond=0)
    stamps: dict[str, Any] = {"created_at": second, "updated_at": second, "version": 1}
    sources = [evidence.prepare_new_source(d) for d in _of(docs, Kind.source, SourceDoc)]
    actors = _of(docs, Kind.actor, ActorCreate)
    places = _of(docs, Kind.location, LocationCreate)
    events = _of(docs, Kind.event, EventDoc)
    claims = _of(docs, Kind.claim, ClaimDoc)
    ids = {kind: sorted({getattr(d, "id") for d in docs.get(kind, ())}) for kind in ORDER}  # noqa: B009

    write(session, Source, [store.source_row(d) | stamps for d in sources])
    write(session, Actor, [store.actor_row(d) | stamps for d in actors])
    write(session, ActorAlias, store.alias_rows(actors))
    write(session, Affiliation, store.affiliation_rows(actors))
    write(session, Location, [store.location_row(d) for d in places])
    links = store.event_link_rows(events)
    with projections.maintaining(session, ids[Kind.event]):
        write(session, Event, [store.event_row(d) | stamps for d in events])
        for model, rows in links.items():
            write(session, model, rows)
    evidence.check_claims(session, claims)
    write(session, Claim, [store.claim_row(c) | stamps for c in claims])
    write(session, Quantity, store.quantity_rows(claims))

    for kind in (Kind.event, Kind.claim, Kind.actor, Kind.source):
        projections.project(session, kind.value, ids[kind])
    search.refresh(session, ids[Kind.event])
    # Records that exist already and whose documents show the new ones.
    new_events, new_actors = set(ids[Kind.event]), set(ids[Kind.actor])
    cited = {c.source_id for c in claims} - set(ids[Kind.source])
    projections.stale(session, cited, "source")
    showing = projections.actors_showing(session, ids[Kind.actor]) - new_actors
    projections.stale(session, showing, "actor")
    projections.stale(session, {c.event_id for c in claims} - new_events)
    projections.stale(session, projections.linked_events(session, ids[Kind.event]) - new_events)

    created: list[Created] = []
    feed = []
    for kind in ORDER:
        after = documents(session, kind, ids[kind])
        for record_id in ids[kind]:
            row = revisions.creation_row(kind, record_id, after[record_id], now, author)
            created.append((kind, record_id, row["event_id"]))
            feed.append(row | {"note": None})
    write(session, Revision, feed)
    versions.open_created(session, {kind.value: ids[kind] for kind in ORDER}, now)
    data_version.bump(session)
    versions.at_moment(session, now)
    projections.settle(session)
    return created


def refresh_statistics(session: Session) -> None:
    """Have PostgreSQL's planner see the tables a bulk creation fills as they are now.

    A database filled by bulk creations can outgrow its statistics faster than autovacuum
    analyses it, and a table planned as nearly empty may be read whole where an index
    would do (`bench generate` saw its projection scan all claims for each batch without
    statistics). The importer calls this after its 1st, 2nd, 4th, 8th … batch, so it costs
    O(log n) ANALYZEs; at 10,000 rows it changed nothing measurable (bench/RESULTS.md).
    SQLite plans by its indexes without statistics: nothing to do there."""
    if session.get_bind().dialect.name != "postgresql":
        return
    names = [*ANALYZED, *(f"{name}_history" for name in ANALYZED), "revisions"]
    session.execute(text(f"ANALYZE {', '.join(names)}"))


def _of(docs: Mapping[Kind, Sequence[BaseModel]], kind: Kind, model: type[Any]) -> list[Any]:
    found = list(docs.get(kind, ()))
    for doc in found:
        if not isinstance(doc, model):
            raise TypeError(f"a {kind.value} document must be a {model.__name__}")
    return found


def write(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert these rows (all with the same keys) into a model's table: COPY on PostgreSQL,
    executemany on SQLite, inside the session's transaction."""
    insert_rows(session, model.__table__, rows)
