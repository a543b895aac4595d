"""Projections: everything the write path derives from the records, kept exact in the same
transaction as the write. Nothing else writes these tables.

- `event_documents`: each event's list item and detail as stored JSON text, and with them
  its search row (app.search) and its CSV line (`event_lines`). A write marks the events
  whose documents it changed as stale
  (`stale`); the documents are rebuilt once, before the transaction commits (`settle`, run
  by a `before_commit` listener on every session) or before the write answers with the
  record as GET shows it. Claims' and actors' documents carry the words `q` searches.
- `actor_events`, `timeline_days`, `network_pairs`, `network_pair_periods` and
  `actor_periods`: the actor index, the timeline rollup and the network's rollups, updated
  by difference across a change to some events (`maintaining`); the pairs' months and years
  are recomputed from their days for the periods a change touches.

Documents are built from Core rows in the response schemas' field order and serialised once
with orjson; `tests/curation/test_projections.py` pins each stored kind against its schema.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Date,
    Result,
    String,
    Table,
    and_,
    bindparam,
    column,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from app import search
from app.actors.models import Actor, ActorAlias, ActorDocument, Affiliation
from app.actors.schemas import ActorRead
from app.claims.models import Claim, ClaimDocument, Quantity
from app.claims.schemas import ClaimRead, QuantityRead
from app.core.db import among, as_day, dialect_name, insert_rows, key_chunks, key_rows
from app.curation import versions
from app.curation.documents import (
    EVENT_EXTRA,
    EVENT_FIELDS,
    attributes,
    provenance,
)
from app.events.models import (
    ActorEvent,
    ActorPeriod,
    Event,
    EventActor,
    EventDocument,
    EventLine,
    EventLocation,
    EventRelation,
    EventTag,
    NetworkPair,
    NetworkPairPeriod,
    TimelineDay,
)
from app.events.schemas import EventDetail, EventRead
from app.events.service import ALL_EVENTS, STATUS_SCOPE, TYPE_SCOPE
from app.locations.models import Location
from app.locations.schemas import LocationRead, coordinates_note
from app.sources.models import Source, SourceDocument
from app.sources.schemas import SourceRead
from app.stats.schemas import Interval
from app.stats.service import next_period
from app.web.formats import csv_lines

Bind = Session | Connection
BATCH = 1000
STALE = "geoevents.stale"  # session.info: record kind -> ids whose documents are stale

EVENT_OWN = [*EVENT_FIELDS, *EVENT_EXTRA, "created_at", "updated_at"]
ITEM_FIELDS = list(EventRead.model_fields)
DETAIL_FIELDS = [name for name in EventDetail.model_fields if name not in EventRead.model_fields]
QUANTITY_FIELDS = list(QuantityRead.model_fields)
LOCATION_FIELDS = [name for name in LocationRead.model_fields if name != "coordinates_note"]
CLAIM_FIELDS = list(ClaimRead.model_fields)
ACTOR_FIELDS = list(ActorRead.model_fields)
SOURCE_FIELDS = list(SourceRead.model_fields)
SOURCE_OWN = [name for name in SOURCE_FIELDS if name != "claim_count"]
ACTOR_OWN = [name for name in ACTOR_FIELDS if name not in ("aliases", "affiliations")]


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z).decode()


# --- event documents ------------------------------------------------------------------------


def _dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """A result's rows as dicts by column name: the names read once for all of them (a row's
    own `_mapping` builds its keys anew for each row, a large share of a bulk projection)."""
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result.all()]


def _grouped(result: Result[Any], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for mapping in _dicts(result):
        groups[mapping.pop(key)].append(mapping)
    return groups


def build(bind: Bind, ids: Sequence[str]) -> list[dict[str, str]]:
    """The stored documents of these events (those that exist), one statement per relation."""
    events = _dicts(
        bind.execute(select(*(Event.__table__.c[n] for n in EVENT_OWN)).where(among(Event.id, ids)))
    )
    if not events:
        return []
    actors = _grouped(
        bind.execute(
            select(
                EventActor.event_id.label("_event"),
                Actor.id,
                Actor.name,
                Actor.kind,
                EventActor.role,
            )
            .join(Actor, Actor.id == EventActor.actor_id)
            .where(among(EventActor.event_id, ids))
            .order_by(
                EventActor.event_id, EventActor.position, EventActor.actor_id, EventActor.role
            )
        ),
        "_event",
    )
    places = _grouped(
        bind.execute(
            select(
                EventLocation.event_id.label("_event"),
                *(Location.__table__.c[n] for n in LOCATION_FIELDS),
            )
            .join(Location, Location.id == EventLocation.location_id)
            .where(among(EventLocation.event_id, ids))
            .order_by(EventLocation.event_id, EventLocation.position, EventLocation.location_id)
        ),
        "_event",
    )
    tags: dict[str, list[str]] = defaultdict(list)
    for event_id, tag in bind.execute(
        select(EventTag.event_id, EventTag.tag)
        .where(among(EventTag.event_id, ids))
        .order_by(EventTag.event_id, EventTag.tag)
    ):
        tags[event_id].append(tag)
    quantities = _grouped(
        bind.execute(
            select(
                Quantity.event_id.label("_event"),
                *(Quantity.__table__.c[n] for n in QUANTITY_FIELDS),
            )
            .where(among(Quantity.event_id, ids))
            .order_by(Quantity.event_id, Quantity.id)
        ),
        "_event",
    )
    by_claim: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event_quantities in quantities.values():
        for q in event_quantities:
            by_claim[q["claim_id"]].append(q)
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for claim in _claims(bind, among(Claim.event_id, ids), by_claim):
        claims[claim["event_id"]].append(claim)
    related: dict[str, list[dict[str, str]]] = defaultdict(list)
    other = aliased(Event)
    links = EventRelation.__table__.c
    # Outgoing links first, then incoming ones: (this side, the other side, direction).
    for here, there, direction in (
        (links.event_id, links.related_event_id, "outgoing"),
        (links.related_event_id, links.event_id, "incoming"),
    ):
        for event_id, other_id, title, relation in bind.execute(
            select(here, other.id, other.title, links.relation)
            .join(other, other.id == there)
            .where(among(here, ids))
            .order_by(here, there, links.relation)
        ):
            related[event_id].append(
                {"id": other_id, "title": title, "relation": relation, "direction": direction}
            )
    docs = []
    for own_fields in events:
        event_id = own_fields["id"]
        own_fields["provenance"] = provenance(
            own_fields.pop("dataset"),
            own_fields.pop("dataset_release"),
            own_fields.pop("dataset_row"),
        )
        own_fields["attributes"] = attributes(own_fields["attributes"])
        event_claims = claims.get(event_id, [])
        source_ids = sorted({c["source_id"] for c in event_claims})
        item = own_fields | {
            "tags": tags.get(event_id, []),
            "actors": actors.get(event_id, []),
            "locations": [
                place | {"coordinates_note": coordinates_note(place["gazetteer"])}
                for place in places.get(event_id, [])
            ],
            "quantities": quantities.get(event_id, []),
            "source_count": len(source_ids),
        }
        detail = {
            "claims": event_claims,
            "related": related.get(event_id, []),
            "source_ids": source_ids,
            "figure_conflicts": figure_conflicts(event_claims),
        }
        docs.append(
            {
                "event_id": event_id,
                "item": _dumps({name: item[name] for name in ITEM_FIELDS}),
                "detail": _dumps({name: detail[name] for name in DETAIL_FIELDS}),
            }
        )
    return docs


def event_lines(docs: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The event_lines rows of these events' stored documents: each item's CSV line, made
    from the item as stored (its JSON shape: dates and times as text), so it is the line a
    CSV answer makes of that item."""
    lines = csv_lines(EventRead, [orjson.loads(doc["item"]) for doc in docs])
    return [
        {"event_id": doc["event_id"], "csv": line} for doc, line in zip(docs, lines, strict=True)
    ]


def _claims(
    bind: Bind, which: Any, by_claim: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The claims `which` selects, as ClaimRead documents (their quantities from
    `by_claim`), in their events' order: by event, source, position in the text, id."""
    speaker = aliased(Actor)
    rows = bind.execute(
        select(
            Claim.id,
            Claim.event_id,
            Claim.statement,
            Claim.quote,
            speaker.id.label("speaker_id"),
            speaker.name.label("speaker_name"),
            speaker.kind.label("speaker_kind"),
            Claim.source_id,
            Claim.hedging,
            Claim.evidence_start,
            Claim.evidence_end,
            Claim.evidence_text,
            Claim.dataset,
            Claim.dataset_release,
            Claim.dataset_row,
            Claim.created_at,
            Claim.updated_at,
        )
        .outerjoin(speaker, speaker.id == Claim.speaker_id)
        .where(which)
        .order_by(Claim.event_id, Claim.source_id, Claim.evidence_start, Claim.id)
    )
    return [
        {
            "id": claim_id,
            "event_id": event_id,
            "statement": statement,
            "quote": quote,
            "speaker": None
            if speaker_id is None
            else {"id": speaker_id, "name": speaker_name, "kind": speaker_kind},
            "source_id": source_id,
            "hedging": hedging,
            "evidence": None
            if evidence_start is None
            else {
                "source_id": source_id,
                "start": evidence_start,
                "end": evidence_end,
                "text": evidence_text,
            },
            "quantities": by_claim.get(claim_id, []),
            "provenance": provenance(dataset, dataset_release, dataset_row),
            "created_at": created_at,
            "updated_at": updated_at,
        }
        for (
            claim_id,
            event_id,
            statement,
            quote,
            speaker_id,
            speaker_name,
            speaker_kind,
            source_id,
            hedging,
            evidence_start,
            evidence_end,
            evidence_text,
            dataset,
            dataset_release,
            dataset_row,
            created_at,
            updated_at,
        ) in rows.all()
    ]


def build_claims(bind: Bind, ids: Sequence[str]) -> list[dict[str, str]]:
    """The stored documents of these claims (those that exist)."""
    by_claim: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _dicts(
        bind.execute(
            select(*(Quantity.__table__.c[n] for n in QUANTITY_FIELDS))
            .where(among(Quantity.claim_id, ids))
            .order_by(Quantity.event_id, Quantity.id)
        )
    ):
        by_claim[row["claim_id"]].append(row)
    claims = _claims(bind, among(Claim.id, ids), by_claim)
    names = search.actor_names(bind, [c["speaker"]["id"] for c in claims if c["speaker"]])
    return [
        {
            "claim_id": claim["id"],
            "item": _dumps({name: claim[name] for name in CLAIM_FIELDS}),
            "words": search.search_text(
                [
                    claim["statement"],
                    claim["quote"],
                    claim["evidence"]["text"] if claim["evidence"] else None,
                    *(names.get(claim["speaker"]["id"], []) if claim["speaker"] else []),
                ]
            ),
        }
        for claim in claims
    ]


def figure_conflicts(claims: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Quantities (same label and unit) for which two sources give figures whose ranges do
    not overlap: both cannot be true, so both are shown, each with its source."""
    groups: dict[tuple[str, str], list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for claim in claims:
        for q in claim["quantities"]:
            groups[(q["label"], q["unit"])].append((claim, q))
    conflicts = []
    for (label, unit), figures in groups.items():
        disjoint = any(
            a["source_id"] != b["source_id"] and not _overlap(p, q)
            for n, (a, p) in enumerate(figures)
            for b, q in figures[n + 1 :]
        )
        if disjoint:
            conflicts.append(
                {
                    "label": label,
                    "unit": unit,
                    "figures": [
                        {
                            "value": q["value"],
                            "qualifier": q["qualifier"],
                            "as_reported": q["as_reported"],
                            "claim_id": c["id"],
                            "source_id": c["source_id"],
                        }
                        for c, q in figures
                    ],
                }
            )
    return conflicts


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two reported ranges share a possible value."""

    def below(
        high: float | None, high_in: bool | None, low: float | None, low_in: bool | None
    ) -> bool:
        # the range ending at `high` lies wholly below the one starting at `low`
        if high is None or low is None:
            return False
        return high < low or (high == low and not (high_in and low_in))

    return not (
        below(a["high"], a["high_inclusive"], b["low"], b["low_inclusive"])
        or below(b["high"], b["high_inclusive"], a["low"], a["low_inclusive"])
    )


def _chunks(ids: Sequence[str], size: int = BATCH) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def build_actors(bind: Bind, ids: Sequence[str]) -> list[dict[str, str]]:
    """The stored documents of these actors (those that exist): each one's ActorRead item,
    and the members its detail lists, as JSON texts."""
    own = bind.execute(
        select(*(Actor.__table__.c[n] for n in ACTOR_OWN)).where(among(Actor.id, ids))
    ).all()
    if not own:
        return []
    aliases: dict[str, list[str]] = defaultdict(list)
    for actor_id, alias in bind.execute(
        select(ActorAlias.actor_id, ActorAlias.alias)
        .where(among(ActorAlias.actor_id, ids))
        .order_by(ActorAlias.actor_id, ActorAlias.alias)
    ):
        aliases[actor_id].append(alias)
    other = aliased(Actor)
    period = (Affiliation.role, Affiliation.start_date, Affiliation.end_date, Affiliation.current)
    held: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in bind.execute(
        select(Affiliation.actor_id, other.id, other.name, other.kind, *period)
        .join(other, other.id == Affiliation.organization_id)
        .where(among(Affiliation.actor_id, ids))
        .order_by(Affiliation.actor_id, Affiliation.id)
    ):
        held[row.actor_id].append(
            {"organization": {"id": row.id, "name": row.name, "kind": row.kind}}
            | {c.key: getattr(row, c.key) for c in period}
        )
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in bind.execute(
        select(Affiliation.organization_id, other.id, other.name, other.kind, *period)
        .join(other, other.id == Affiliation.actor_id)
        .where(among(Affiliation.organization_id, ids))
        .order_by(Affiliation.organization_id, Affiliation.actor_id, Affiliation.id)
    ):
        members[row.organization_id].append(
            {"member": {"id": row.id, "name": row.name, "kind": row.kind}}
            | {c.key: getattr(row, c.key) for c in period}
        )
    docs = []
    for row in own:
        fields = dict(row._mapping)
        actor_id = fields["id"]
        item = fields | {"aliases": aliases.get(actor_id, []), "affiliations": held[actor_id]}
        docs.append(
            {
                "actor_id": actor_id,
                "item": _dumps({name: item[name] for name in ACTOR_FIELDS}),
                "members": _dumps(members.get(actor_id, [])),
                "words": search.search_text([fields["name"], *aliases.get(actor_id, [])]),
            }
        )
    return docs


def build_sources(bind: Bind, ids: Sequence[str]) -> list[dict[str, str]]:
    """The stored documents of these sources (those that exist), their claims counted."""
    cited = dict(
        bind.execute(
            select(Claim.source_id, func.count())
            .where(among(Claim.source_id, ids))
            .group_by(Claim.source_id)
        ).all()
    )
    rows = bind.execute(
        select(*(Source.__table__.c[n] for n in SOURCE_OWN)).where(among(Source.id, ids))
    )
    docs = []
    for row in rows:
        item = dict(row._mapping) | {"claim_count": cited.get(row.id, 0)}
        docs.append(
            {"source_id": row.id, "item": _dumps({name: item[name] for name in SOURCE_FIELDS})}
        )
    return docs


@dataclass(frozen=True)
class Stored:
    """One kind of record's stored documents: their table and key, the records' ids, and
    how a batch of them is built."""

    table: Any  # the documents' ORM class
    key: Any  # its column naming the record
    ids: Any  # the records' id column
    build: Callable[[Bind, Sequence[str]], list[dict[str, str]]]
    # Rows derived from the documents, kept with them: their ORM class, its column naming
    # the record, and how they are made from a batch of documents.
    also: tuple[Any, Any, Callable[[Sequence[dict[str, str]]], list[dict[str, str]]]] | None = None


# By record kind, in the order they are rebuilt (an event's detail shows claims; none of
# these documents shows another of them, so the order only needs to be fixed).
STORED: dict[str, Stored] = {
    "event": Stored(
        EventDocument,
        EventDocument.event_id,
        Event.id,
        build,
        (EventLine, EventLine.event_id, event_lines),
    ),
    "claim": Stored(ClaimDocument, ClaimDocument.claim_id, Claim.id, build_claims),
    "actor": Stored(ActorDocument, ActorDocument.actor_id, Actor.id, build_actors),
    "source": Stored(SourceDocument, SourceDocument.source_id, Source.id, build_sources),
}


def project(bind: Bind, kind: str, ids: Iterable[str]) -> None:
    """Rebuild the stored documents of these records; those that no longer exist have none."""
    stored = STORED[kind]
    for chunk in _chunks(sorted(set(ids))):
        docs = stored.build(bind, chunk)
        bind.execute(delete(stored.table).where(among(stored.key, chunk)))
        if stored.also is not None:
            bind.execute(delete(stored.also[0]).where(among(stored.also[1], chunk)))
        insert_rows(bind, stored.table.__table__, docs)
        if docs and stored.also is not None:
            insert_rows(bind, stored.also[0].__table__, stored.also[2](docs))


def project_all(bind: Bind, kind: str = "event") -> int:
    """Rebuild every document of one kind (after a bulk load or a migration); how many."""
    stored = STORED[kind]
    bind.execute(delete(stored.table))
    # A revision older than the derived rows' table rebuilds the documents without them (the
    # table's own revision fills it whole).
    also = stored.also
    connection = bind.connection() if isinstance(bind, Session) else bind
    if also is not None and not inspect(connection).has_table(also[0].__tablename__):
        also = None
    if also is not None:
        bind.execute(delete(also[0]))
    done = 0
    for chunk in key_chunks(bind, stored.ids, BATCH):
        docs = stored.build(bind, chunk)
        bind.execute(insert(stored.table), docs)
        if also is not None:
            bind.execute(insert(also[0]), also[2](docs))
        done += len(chunk)
    return done


def stale(session: Session, ids: Iterable[str | None], kind: str = "event") -> None:
    """Mark these records' documents for rebuilding before the transaction ends (and their
    rows for comparing with their versions)."""
    wanted = [i for i in ids if i is not None]
    session.info.setdefault(STALE, {}).setdefault(kind, set()).update(wanted)
    versions.touched(session, kind, wanted)


def settle(session: Session) -> None:
    """Rebuild the documents marked stale in this transaction, then close and open the
    versions of every row the transaction touched (app.curation.versions)."""
    marked: dict[str, set[str]] = session.info.pop(STALE, None) or {}
    if any(marked.values()):
        session.flush()
    for kind in STORED:
        if marked.get(kind):
            project(session, kind, marked[kind])
    if marked.get("event"):
        # The events' search rows show their actors' and speakers' names: a write to an
        # actor marks the events naming it, as it marks their documents.
        search.refresh(session, marked["event"])
    versions.settle(session)


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    settle(session)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(STALE, None)
    versions.forget(session)


# --- what a change to other records makes stale ---------------------------------------------


def linked_events(session: Session, event_ids: Sequence[str]) -> set[str]:
    """Events that link to or from these ones: their details show these titles."""
    if not event_ids:
        return set()
    rows = session.execute(
        select(EventRelation.event_id, EventRelation.related_event_id).where(
            among(EventRelation.event_id, event_ids)
            | among(EventRelation.related_event_id, event_ids)
        )
    )
    return {e for pair in rows for e in pair}


def events_naming_actors(session: Session, actor_ids: Sequence[str]) -> set[str]:
    """Events that list these actors, or that have claims they speak."""
    if not actor_ids:
        return set()
    listed = select(EventActor.event_id).where(among(EventActor.actor_id, actor_ids))
    spoken = select(Claim.event_id).where(
        among(Claim.speaker_id, actor_ids), Claim.event_id.is_not(None)
    )
    return set(session.scalars(listed.union(spoken)))


def actors_showing(session: Session, actor_ids: Sequence[str]) -> set[str]:
    """The actors whose documents show one of these actors: as an organisation they belong
    to, or as a member (their own, and those they belong to, named in either direction)."""
    rows = session.execute(
        select(Affiliation.actor_id, Affiliation.organization_id).where(
            or_(
                among(Affiliation.actor_id, actor_ids),
                among(Affiliation.organization_id, actor_ids),
            )
        )
    )
    return {actor for row in rows for actor in row}


def claims_spoken_by(session: Session, actor_ids: Sequence[str]) -> set[str]:
    """Claims whose speaker is one of these actors (their documents show its name)."""
    return set(session.scalars(select(Claim.id).where(among(Claim.speaker_id, actor_ids))))


def events_at_locations(session: Session, location_ids: Sequence[str]) -> set[str]:
    """Events that list these places."""
    if not location_ids:
        return set()
    return set(
        session.scalars(
            select(EventLocation.event_id).where(among(EventLocation.location_id, location_ids))
        )
    )


# --- the actor index and the timeline rollup ------------------------------------------------

EventFact = tuple[str, str | None, date | None, date | None, str, str]
EventState = frozenset[EventFact]
DAY, MONTH, YEAR = "day", "month", "year"  # the grains of actor_periods


def _state(session: Session, event_ids: list[str]) -> EventState:
    """What the derived tables hold of these events: (event, actor or None, start, last,
    type, status)."""
    rows = session.execute(
        select(
            Event.id,
            EventActor.actor_id,
            Event.start_date,
            Event.last_date,
            Event.event_type,
            Event.status,
        )
        .outerjoin(EventActor, EventActor.event_id == Event.id)
        .where(among(Event.id, event_ids))
    )
    state: set[EventFact] = set()
    for event_id, actor_id, start, last, event_type, status in rows:
        state.add((event_id, None, start, last, event_type, status))
        if actor_id is not None:
            state.add((event_id, actor_id, start, last, event_type, status))
    return frozenset(state)


def _day_counts(state: EventState) -> Counter[tuple[str, date, bool]]:
    """timeline_days contributions: (scope, day, is_end) -> events. An event counts in the
    scope of each of its actors, and once in those of every event, its type and its status."""
    counts: Counter[tuple[str, date, bool]] = Counter()
    for _, actor_id, start, last, event_type, status in state:
        if start is None:
            continue
        scopes = (
            [actor_id]
            if actor_id is not None
            else [ALL_EVENTS, TYPE_SCOPE + event_type, STATUS_SCOPE + status]
        )
        for scope in scopes:
            counts[(scope, start, False)] += 1
            if last is not None:
                counts[(scope, last, True)] += 1
    return counts


def _pair_counts(state: EventState) -> Counter[tuple[Any, ...]]:
    """network_pairs contributions: (source, target, start, last, type) -> events."""
    actors: dict[str, set[str]] = defaultdict(set)
    dated: dict[str, tuple[date, date, str]] = {}
    for event_id, actor_id, start, last, event_type, _ in state:
        if start is None:
            continue
        dated[event_id] = (start, last or start, event_type)
        if actor_id is not None:
            actors[event_id].add(actor_id)
    counts: Counter[tuple[Any, ...]] = Counter()
    for event_id, named in actors.items():
        for source, target in combinations(sorted(named), 2):
            counts[(source, target, *dated[event_id])] += 1
    return counts


def _period_counts(state: EventState) -> Counter[tuple[Any, ...]]:
    """actor_periods contributions: (actor, grain, first day of the period) -> events."""
    counts: Counter[tuple[Any, ...]] = Counter()
    for _, actor_id, start, _, _, _ in state:
        if actor_id is None or start is None:
            continue
        counts[(actor_id, DAY, start)] += 1
        counts[(actor_id, MONTH, start.replace(day=1))] += 1
        counts[(actor_id, YEAR, date(start.year, 1, 1))] += 1
    return counts


def _apply_day_counts(session: Session, before: EventState, after: EventState) -> None:
    """Add the difference of two states to timeline_days, in one upsert."""
    delta: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for sign, state in ((-1, before), (1, after)):
        for (scope, day, is_end), n in _day_counts(state).items():
            delta[(scope, day)][is_end] += sign * n
    rows = [
        {"scope": scope, "day": day, "starts": starts, "ends": ends}
        for (scope, day), (starts, ends) in delta.items()
        if starts or ends
    ]
    if not rows:
        return
    versions.touched(session, "day", [(r["scope"], r["day"]) for r in rows])
    upsert = (pg_insert if dialect_name(session) == "postgresql" else sqlite_insert)(TimelineDay)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[TimelineDay.scope, TimelineDay.day],
            set_={
                "starts": TimelineDay.starts + upsert.excluded.starts,
                "ends": TimelineDay.ends + upsert.excluded.ends,
            },
        ),
        rows,
    )


def _apply_counts(
    session: Session,
    table: Table,
    kind: str,
    before: Counter[tuple[Any, ...]],
    after: Counter[tuple[Any, ...]],
) -> None:
    """Add the difference of two contributions to a counting rollup (its primary key, then
    one count column), in one upsert; rows whose count falls to zero go."""
    key = [c.name for c in table.primary_key.columns]
    (count,) = (c for c in table.c if c.name not in key)
    delta = Counter(after)
    delta.subtract(before)
    rows = [dict(zip(key, k, strict=True)) | {count.name: n} for k, n in delta.items() if n]
    if not rows:
        return
    keys = [k for k, n in delta.items() if n]
    versions.touched(session, kind, keys)
    upsert = (pg_insert if dialect_name(session) == "postgresql" else sqlite_insert)(table)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=key, set_={count.name: count + upsert.excluded[count.name]}
        ),
        rows,
    )
    # Counts are of events, never below zero: only a row that lost some can fall to zero.
    fallen = [k for k, n in delta.items() if n < 0]
    if fallen:
        match = [table.c[k] == bindparam(f"k_{k}") for k in key]
        session.execute(
            delete(table).where(count == 0, *match),
            [dict(zip((f"k_{k}" for k in key), k, strict=True)) for k in fallen],
        )


@contextmanager
def maintaining(session: Session, event_ids: list[str]) -> Iterator[None]:
    """Keep the derived tables (actor_events and the rollups) exact across a change to these
    events: what they held of the events before is replaced by what they hold after."""
    session.flush()
    before = _state(session, event_ids)
    yield
    session.flush()
    after = _state(session, event_ids)
    if after != before:
        refresh_actor_events(session, event_ids)
        _apply_day_counts(session, before, after)
        pairs, periods = _table(NetworkPair), _table(ActorPeriod)
        pairs_before, pairs_after = _pair_counts(before), _pair_counts(after)
        _apply_counts(session, pairs, "pair", pairs_before, pairs_after)
        changed = {
            k for k in pairs_before.keys() | pairs_after.keys() if pairs_before[k] != pairs_after[k]
        }
        _refresh_pair_periods(session, changed)
        _apply_counts(session, periods, "period", _period_counts(before), _period_counts(after))


PairPeriod = tuple[str, str, str, date, str]  # source, target, grain, period, type


def _refresh_pair_periods(session: Session, days: set[tuple[Any, ...]]) -> None:
    """Recompute the network_pair_periods rows over these network_pairs keys (source,
    target, start, last, type): their months from network_pairs, then their years from the
    months. A least start or greatest last day cannot be taken back by difference when an
    event goes, so each touched period is summed again from the rows below it."""
    months = {(s, t, MONTH, start.replace(day=1), kind) for s, t, start, _, kind in days}
    years = {(s, t, YEAR, date(p.year, 1, 1), kind) for s, t, _, p, kind in months}
    for keys in (months, years):
        ordered = sorted(keys)
        for start in range(0, len(ordered), BATCH):
            _recompute_pair_periods(session, ordered[start : start + BATCH])


def _recompute_pair_periods(session: Session, keys: list[PairPeriod]) -> None:
    """Sum these pair periods again (all of one grain) from the grain below, in one
    statement, and write the rows that differ: upserted, or deleted when no event is left."""
    grain = keys[0][2]
    wanted = key_rows(
        session,
        [
            column("source", String),
            column("target", String),
            column("event_type", String),
            column("p_start", Date),
            column("p_after", Date),
        ],
        [(s, t, kind, p, next_period(p, Interval(grain))) for s, t, _, p, kind in keys],
    )
    source = _table(NetworkPair if grain == MONTH else NetworkPairPeriod)
    below = source.c
    if grain == MONTH:
        first, last, day = below.start_date, below.last_date, below.start_date
        extra: list[Any] = []
    else:
        first, last, day = below.first_date, below.last_date, below.period
        extra = [below.grain == MONTH]
    on = and_(
        below.source == wanted.c.source,
        below.target == wanted.c.target,
        below.event_type == wanted.c.event_type,
        day >= wanted.c.p_start,
        day < wanted.c.p_after,
        *extra,
    )
    group = (wanted.c.source, wanted.c.target, wanted.c.p_start, wanted.c.event_type)
    summed = {
        (s, t, grain, as_day(p), kind): (int(n), as_day(lo), as_day(hi))
        for s, t, p, kind, n, lo, hi in session.execute(
            select(*group, func.sum(below.events), func.min(first), func.max(last))
            .select_from(wanted)
            .join(source, on)
            .group_by(*group)
        )
    }
    table = _table(NetworkPairPeriod)
    # The keys joined on the table's key: one index lookup each (SQLite reads the whole
    # table for a row-value IN list).
    asked = key_rows(session, [table.c[k] for k in PAIR_PERIOD_KEY], keys)
    held = {
        (s, t, g, as_day(p), kind): (n, as_day(lo), as_day(hi))
        for s, t, g, p, kind, n, lo, hi in session.execute(
            select(
                table.c.source,
                table.c.target,
                table.c.grain,
                table.c.period,
                table.c.event_type,
                table.c.events,
                table.c.first_date,
                table.c.last_date,
            )
            .select_from(asked)
            .join(table, and_(*(table.c[k] == asked.c[k] for k in PAIR_PERIOD_KEY)))
        )
    }
    changed = [k for k, row in summed.items() if held.get(k) != row]
    gone = [k for k in held if k not in summed]
    if not changed and not gone:
        return
    versions.touched(session, "pair_period", [*changed, *gone])
    if changed:
        upsert = (pg_insert if dialect_name(session) == "postgresql" else sqlite_insert)(table)
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=list(PAIR_PERIOD_KEY),
                set_={
                    "events": upsert.excluded.events,
                    "first_date": upsert.excluded.first_date,
                    "last_date": upsert.excluded.last_date,
                },
            ),
            [
                dict(zip(PAIR_PERIOD_KEY, k, strict=True))
                | {"events": n, "first_date": lo, "last_date": hi}
                for k in changed
                for n, lo, hi in (summed[k],)
            ],
        )
    if gone:
        session.execute(
            delete(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in PAIR_PERIOD_KEY)),
            [dict(zip((f"k_{k}" for k in PAIR_PERIOD_KEY), k, strict=True)) for k in gone],
        )


PAIR_PERIOD_KEY = ("source", "target", "grain", "period", "event_type")


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


def rebuild_timeline_days(connection: Connection) -> None:
    """Recompute timeline_days from scratch (after a bulk load)."""
    connection.execute(delete(TimelineDay))
    connection.execute(text(TIMELINE_DAYS))


def rebuild_network_rollups(connection: Connection) -> None:
    """Recompute network_pairs, network_pair_periods and actor_periods from scratch (after a
    bulk load)."""
    connection.execute(delete(NetworkPair))
    connection.execute(text(NETWORK_PAIRS))
    postgresql = connection.dialect.name == "postgresql"
    connection.execute(delete(NetworkPairPeriod))
    for statement in pair_periods_sql(postgresql):
        connection.execute(text(statement))
    connection.execute(delete(ActorPeriod))
    grains = ((DAY, "start of day"), (MONTH, "start of month"), (YEAR, "start of year"))
    for grain, sqlite_start in grains:
        first = (
            f"CAST(date_trunc('{grain}', start_date) AS DATE)"
            if postgresql
            else f"date(start_date, '{sqlite_start}')"
        )
        connection.execute(
            text(
                f"INSERT INTO actor_periods (actor_id, grain, period, starts) "
                f"SELECT actor_id, '{grain}', {first}, count(*) FROM actor_events "
                f"WHERE start_date IS NOT NULL GROUP BY actor_id, {first}"
            )
        )


def pair_periods_sql(postgresql: bool) -> list[str]:
    """network_pair_periods from network_pairs, set-based: the months summed from the days,
    then the years from the months."""
    month = (
        "CAST(date_trunc('month', start_date) AS DATE)"
        if postgresql
        else "date(start_date, 'start of month')"
    )
    year = (
        "CAST(date_trunc('year', period) AS DATE)"
        if postgresql
        else "date(period, 'start of year')"
    )
    return [
        "INSERT INTO network_pair_periods "
        "(source, target, grain, period, event_type, events, first_date, last_date) "
        f"SELECT source, target, '{MONTH}', {month}, event_type, sum(events), min(start_date), "
        f"max(last_date) FROM network_pairs GROUP BY source, target, {month}, event_type",
        "INSERT INTO network_pair_periods "
        "(source, target, grain, period, event_type, events, first_date, last_date) "
        f"SELECT source, target, '{YEAR}', {year}, event_type, sum(events), min(first_date), "
        f"max(last_date) FROM network_pair_periods WHERE grain = '{MONTH}' "
        f"GROUP BY source, target, {year}, event_type",
    ]


NETWORK_PAIRS = """
INSERT INTO network_pairs (source, target, start_date, last_date, event_type, events)
SELECT a.actor_id, b.actor_id, e.start_date, COALESCE(e.last_date, e.start_date), e.event_type,
       count(*)
  FROM actor_events AS a
  JOIN actor_events AS b ON b.event_id = a.event_id AND a.actor_id < b.actor_id
  JOIN events AS e ON e.id = a.event_id
 WHERE e.start_date IS NOT NULL
 GROUP BY a.actor_id, b.actor_id, e.start_date, COALESCE(e.last_date, e.start_date), e.event_type
"""


TIMELINE_DAYS = f"""
INSERT INTO timeline_days (scope, day, starts, ends)
SELECT scope, day, sum(starts), sum(ends) FROM (
    SELECT '{ALL_EVENTS}' AS scope, start_date AS day, 1 AS starts, 0 AS ends
      FROM events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT '{ALL_EVENTS}', last_date, 0, 1
      FROM events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
    UNION ALL
    SELECT '{TYPE_SCOPE}' || event_type, start_date, 1, 0
      FROM events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT '{TYPE_SCOPE}' || event_type, last_date, 0, 1
      FROM events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
    UNION ALL
    SELECT '{STATUS_SCOPE}' || status, start_date, 1, 0
      FROM events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT '{STATUS_SCOPE}' || status, last_date, 0, 1
      FROM events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
    UNION ALL
    SELECT actor_id, start_date, 1, 0
      FROM actor_events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT actor_id, last_date, 0, 1
      FROM actor_events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
) AS contributions
GROUP BY scope, day
"""


def refresh_actor_events(session: Session, event_ids: list[str]) -> None:
    """Rebuild the derived actor_events rows of these events from event_actors, in SQL."""
    session.execute(delete(ActorEvent).where(among(ActorEvent.event_id, event_ids)))
    pairs = (
        select(EventActor.actor_id, EventActor.event_id, Event.start_date, Event.last_date)
        .join(Event, Event.id == EventActor.event_id)
        .where(among(EventActor.event_id, event_ids))
        .distinct()
    )
    columns = ["actor_id", "event_id", "start_date", "last_date"]
    session.execute(insert(ActorEvent).from_select(columns, pairs))
