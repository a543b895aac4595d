"""The one write path: records as documents, written by kind, every change kept as a revision.

Every write (the seed, an ingest, the write API, a replay of the change feed) says which
records it touches, writes their documents with `put` or takes them away with `remove`, and
then `Changes.record` compares each touched record's document before and after: for every
record that changed it bumps the record's version and appends a revision with both
documents. Reading the revisions back in order (`replay`) rebuilds the same records.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, exists, or_, select, text, update
from sqlalchemy.orm import Session, undefer

from app import search
from app.actors.models import Actor, ActorAlias, Affiliation
from app.actors.schemas import ActorCreate
from app.actors.service import normalise
from app.auth.models import ApiKey
from app.changes.models import IdempotentRequest, Revision
from app.claims.models import Claim, Quantity
from app.claims.schemas import bounds
from app.core import version as data_version
from app.core.db import Base, utcnow
from app.core.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from app.curation.schemas import (
    KIND_MODELS,
    ClaimDoc,
    EventOutcome,
    IngestBundle,
    IngestReport,
    Kind,
    Op,
    SourceDoc,
)
from app.curation.seed.schemas import Bundle
from app.events import service as events
from app.events.models import Event, EventActor, EventLocation, EventRelation, EventTag
from app.events.schemas import EventDoc
from app.locations import service as locations
from app.locations.models import Location
from app.locations.schemas import LocationCreate
from app.sources.models import Source

MODELS: dict[Kind, Any] = {
    Kind.source: Source,
    Kind.actor: Actor,
    Kind.location: Location,
    Kind.event: Event,
    Kind.claim: Claim,
}
VERSIONED = (Kind.source, Kind.actor, Kind.event, Kind.claim)
ORDER = (Kind.source, Kind.actor, Kind.location, Kind.event, Kind.claim)


# -- documents -------------------------------------------------------------------------------


def _json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def documents(session: Session, kind: Kind, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The current document of each of these records that exists, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    match kind:
        case Kind.source:
            rows = session.scalars(
                select(Source).where(Source.id.in_(wanted)).options(undefer(Source.text))
            )
            return {s.id: _json(SourceDoc.model_validate(s)) for s in rows}
        case Kind.location:
            rows = session.scalars(select(Location).where(Location.id.in_(wanted)))
            return {loc.id: _json(LocationCreate.model_validate(loc)) for loc in rows}
        case Kind.actor:
            return _actor_documents(session, wanted)
        case Kind.event:
            return _event_documents(session, wanted)
        case Kind.claim:
            return _claim_documents(session, wanted)


def _actor_documents(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    aliases: dict[str, list[str]] = defaultdict(list)
    for actor_id, alias in session.execute(
        select(ActorAlias.actor_id, ActorAlias.alias)
        .where(ActorAlias.actor_id.in_(ids))
        .order_by(ActorAlias.actor_id, ActorAlias.alias)
    ):
        aliases[actor_id].append(alias)
    memberships: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in session.scalars(
        select(Affiliation).where(Affiliation.actor_id.in_(ids)).order_by(Affiliation.id)
    ):
        memberships[row.actor_id].append(
            {
                "organization": row.organization_id,
                "role": row.role,
                "start_date": row.start_date,
                "end_date": row.end_date,
                "current": row.current,
            }
        )
    docs = {}
    for actor in session.scalars(select(Actor).where(Actor.id.in_(ids))):
        doc = ActorCreate(
            id=actor.id,
            name=actor.name,
            kind=actor.kind,
            country=actor.country,
            aliases=aliases[actor.id],
            wikidata_id=actor.wikidata_id,
            description=actor.description,
            affiliations=memberships[actor.id],
        )
        docs[actor.id] = _json(doc)
    return docs


def _event_documents(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    links: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for event_id, actor_id, role in session.execute(
        select(EventActor.event_id, EventActor.actor_id, EventActor.role)
        .where(EventActor.event_id.in_(ids))
        .order_by(EventActor.event_id, EventActor.position, EventActor.actor_id, EventActor.role)
    ):
        links[event_id]["actors"].append({"actor": actor_id, "role": role})
    for event_id, location_id in session.execute(
        select(EventLocation.event_id, EventLocation.location_id)
        .where(EventLocation.event_id.in_(ids))
        .order_by(EventLocation.event_id, EventLocation.position, EventLocation.location_id)
    ):
        links[event_id]["locations"].append(location_id)
    for event_id, tag in session.execute(
        select(EventTag.event_id, EventTag.tag)
        .where(EventTag.event_id.in_(ids))
        .order_by(EventTag.event_id, EventTag.tag)
    ):
        links[event_id]["tags"].append(tag)
    for event_id, other, relation in session.execute(
        select(EventRelation.event_id, EventRelation.related_event_id, EventRelation.relation)
        .where(EventRelation.event_id.in_(ids))
        .order_by(EventRelation.event_id, EventRelation.related_event_id, EventRelation.relation)
    ):
        links[event_id]["related"].append({"event": other, "relation": relation})
    docs = {}
    for event in session.scalars(select(Event).where(Event.id.in_(ids))):
        fields = {name: getattr(event, name) for name in EVENT_FIELDS}
        docs[event.id] = _json(EventDoc.model_validate(fields | dict(links[event.id])))
    return docs


EVENT_FIELDS = (
    "id",
    "title",
    "summary",
    "event_type",
    "status",
    "start_date",
    "end_date",
    "date_precision",
    "date_note",
)


def _claim_documents(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    numbers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in session.scalars(
        select(Quantity).where(Quantity.claim_id.in_(ids)).order_by(Quantity.id)
    ):
        numbers[q.claim_id].append(
            {
                "label": q.label,
                "value": q.value,
                "unit": q.unit,
                "qualifier": q.qualifier,
                "as_reported": q.as_reported,
            }
        )
    docs = {}
    for c in session.scalars(select(Claim).where(Claim.id.in_(ids))):
        doc = ClaimDoc.model_validate(
            {
                "id": c.id,
                "statement": c.statement,
                "quote": c.quote,
                "speaker": c.speaker_id,
                "hedging": c.hedging,
                "evidence": {
                    "start": c.evidence_start,
                    "end": c.evidence_end,
                    "text": c.evidence_text,
                },
                "quantities": numbers[c.id],
                "source_id": c.source_id,
                "event_id": c.event_id,
            }
        )
        docs[c.id] = _json(doc)
    return docs


# -- writing ---------------------------------------------------------------------------------


def _upsert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert new rows and update changed ones by `id`; timestamps move only on a change."""
    if not rows:
        return
    found = {
        obj.id: obj
        for obj in session.scalars(select(model).where(model.id.in_([r["id"] for r in rows])))
    }
    for row in rows:
        obj = found.get(row["id"])
        if obj is None:
            session.add(model(**row))
            continue
        changed = {k: v for k, v in row.items() if getattr(obj, k) != v}
        for key, value in changed.items():
            setattr(obj, key, value)
        if changed and hasattr(model, "updated_at"):
            obj.updated_at = utcnow()
    session.flush()


def _replace(
    session: Session, model: Any, parent: Any, ids: list[str], rows: Sequence[Base]
) -> None:
    """Make the link rows of these parents exactly `rows`."""
    columns = list(model.__table__.columns)
    existing = {tuple(r) for r in session.execute(select(*columns).where(parent.in_(ids)))}
    wanted = {tuple(getattr(row, c.key) for c in columns) for row in rows}
    if existing == wanted:
        return
    session.execute(delete(model).where(parent.in_(ids)))
    session.add_all(rows)
    session.flush()


def put(session: Session, kind: Kind, docs: Sequence[BaseModel]) -> None:
    """Write these documents: create the records that are new, update the others."""
    if not docs:
        return
    match kind:
        case Kind.source:
            _upsert(session, Source, [d.model_dump() for d in docs])
        case Kind.location:
            rows = []
            for doc in docs:
                row = locations.enrich(doc)  # type: ignore[arg-type]
                rows.append({c.key: getattr(row, c.key) for c in Location.__table__.columns})
            _upsert(session, Location, rows)
        case Kind.actor:
            _put_actors(session, docs)  # type: ignore[arg-type]
        case Kind.event:
            _put_events(session, docs)  # type: ignore[arg-type]
        case Kind.claim:
            _put_claims(session, docs)  # type: ignore[arg-type]


def _put_actors(session: Session, docs: Sequence[ActorCreate]) -> None:
    _upsert(
        session,
        Actor,
        [
            a.model_dump(exclude={"aliases", "affiliations"}) | {"name_norm": normalise(a.name)}
            for a in docs
        ],
    )
    ids = [a.id for a in docs]
    _replace(
        session,
        ActorAlias,
        ActorAlias.actor_id,
        ids,
        [
            ActorAlias(actor_id=a.id, alias=alias, alias_norm=normalise(alias))
            for a in docs
            for alias in dict.fromkeys(a.aliases)
        ],
    )
    _replace(
        session,
        Affiliation,
        Affiliation.actor_id,
        ids,
        [
            Affiliation(
                id=f"{a.id}@{aff.organization}#{n:03d}",
                actor_id=a.id,
                **aff.model_dump(exclude={"organization"}),
                organization_id=aff.organization,
            )
            for a in docs
            for n, aff in enumerate(a.affiliations, start=1)
        ],
    )


def _put_events(session: Session, docs: Sequence[EventDoc]) -> None:
    ids = [e.id for e in docs]
    with events.maintaining(session, ids):
        _upsert(
            session,
            Event,
            [
                e.model_dump(include=set(EVENT_FIELDS))
                | {
                    "event_type": e.event_type.value,
                    "status": e.status.value,
                    "date_precision": e.date_precision.value,
                    "span_days": events.span_days(e.start_date, e.end_date),
                    "last_date": events.last_date(e.start_date, e.end_date, e.status.value),
                }
                for e in docs
            ],
        )
        _replace(
            session,
            EventActor,
            EventActor.event_id,
            ids,
            [
                EventActor(event_id=e.id, actor_id=link.actor, role=link.role.value, position=n)
                for e in docs
                for n, link in enumerate({(a.actor, a.role): a for a in e.actors}.values())
            ],
        )
        _replace(
            session,
            EventLocation,
            EventLocation.event_id,
            ids,
            [
                EventLocation(event_id=e.id, location_id=loc, position=n)
                for e in docs
                for n, loc in enumerate(dict.fromkeys(e.locations))
            ],
        )
        _replace(
            session,
            EventTag,
            EventTag.event_id,
            ids,
            [EventTag(event_id=e.id, tag=tag) for e in docs for tag in dict.fromkeys(e.tags)],
        )
        _replace(
            session,
            EventRelation,
            EventRelation.event_id,
            ids,
            [
                EventRelation(event_id=e.id, related_event_id=r.event, relation=r.relation.value)
                for e in docs
                for r in {(r.event, r.relation): r for r in e.related}.values()
            ],
        )
    search.refresh(session, ids)


def _put_claims(session: Session, docs: Sequence[ClaimDoc]) -> None:
    previous = {
        row.id: row.event_id
        for row in session.execute(
            select(Claim.id, Claim.event_id).where(Claim.id.in_([c.id for c in docs]))
        )
    }
    _upsert(
        session,
        Claim,
        [
            {
                "id": c.id,
                "event_id": c.event_id,
                "source_id": c.source_id,
                "speaker_id": c.speaker,
                "statement": c.statement,
                "quote": c.quote,
                "hedging": c.hedging.value,
                "evidence_start": c.evidence.start,
                "evidence_end": c.evidence.end,
                "evidence_text": c.evidence.text,
            }
            for c in docs
        ],
    )
    numbers = []
    for c in docs:
        for n, q in enumerate(c.quantities, start=1):
            low, high, low_inc, high_inc = bounds(q.qualifier, q.value)
            numbers.append(
                Quantity(
                    id=f"{c.id}-q{n}",
                    claim_id=c.id,
                    event_id=c.event_id,
                    label=q.label,
                    value=q.value,
                    unit=q.unit,
                    qualifier=q.qualifier.value,
                    low=low,
                    high=high,
                    low_inclusive=low_inc,
                    high_inclusive=high_inc,
                    as_reported=q.as_reported,
                )
            )
    _replace(session, Quantity, Quantity.claim_id, [c.id for c in docs], numbers)
    touched = {c.event_id for c in docs} | set(previous.values())
    search.refresh(session, sorted(e for e in touched if e is not None))


def remove(session: Session, kind: Kind, ids: list[str]) -> None:
    """Delete these records (their revisions keep them); 409 while others still use them."""
    if not ids:
        return
    match kind:
        case Kind.event:
            with events.maintaining(session, ids):
                session.execute(
                    delete(EventRelation).where(EventRelation.related_event_id.in_(ids))
                )
                session.execute(delete(Event).where(Event.id.in_(ids)))
            search.refresh(session, ids)
        case Kind.claim:
            event_ids = list(
                session.scalars(select(Claim.event_id).where(Claim.id.in_(ids)).distinct())
            )
            session.execute(delete(Claim).where(Claim.id.in_(ids)))
            search.refresh(session, [e for e in event_ids if e is not None])
        case Kind.actor:
            used = session.scalar(
                select(
                    or_(
                        exists().where(EventActor.actor_id.in_(ids)),
                        exists().where(Claim.speaker_id.in_(ids)),
                        exists().where(Affiliation.organization_id.in_(ids)),
                    )
                )
            )
            if used:
                raise Conflict(
                    "the actor is still named by events, claims or affiliations; change those "
                    "first",
                    param="actor_id",
                )
            session.execute(delete(Actor).where(Actor.id.in_(ids)))
        case Kind.source:
            if session.scalar(select(exists().where(Claim.source_id.in_(ids)))):
                raise Conflict("claims still cite the source; delete them first", param="source_id")
            session.execute(delete(Source).where(Source.id.in_(ids)))
        case Kind.location:
            if session.scalar(select(exists().where(EventLocation.location_id.in_(ids)))):
                raise Conflict("events still name the location", param="location_id")
            session.execute(delete(Location).where(Location.id.in_(ids)))
    session.flush()


# -- revisions -------------------------------------------------------------------------------


def _versions(session: Session, kind: Kind, ids: Iterable[str]) -> dict[str, int]:
    if kind not in VERSIONED:
        return {}
    model = MODELS[kind]
    rows = session.execute(select(model.id, model.version).where(model.id.in_(list(ids))))
    return {row.id: row.version for row in rows}


class Changes:
    """One write's bookkeeping: the documents of the records it touches, before and after."""

    def __init__(self, session: Session, author: str) -> None:
        data_version.lock_writes(session)
        self.session = session
        self.author = author
        self.before: dict[Kind, dict[str, dict[str, Any] | None]] = defaultdict(dict)
        self.versions: dict[Kind, dict[str, int]] = defaultdict(dict)
        self.notes: list[tuple[str, str]] = []

    def track(self, kind: Kind, ids: Iterable[str]) -> None:
        """Remember these records as they are now (or that they do not exist yet)."""
        new = [i for i in set(ids) if i not in self.before[kind]]
        if not new:
            return
        self.session.flush()
        docs = documents(self.session, kind, new)
        for record_id in new:
            self.before[kind][record_id] = docs.get(record_id)
        self.versions[kind].update(_versions(self.session, kind, new))

    def merged(self, event_id: str, note: str) -> None:
        """Note that an incoming record was merged into this event (a `merged` revision)."""
        self.track(Kind.event, [event_id])
        self.notes.append((event_id, note))

    def record(self) -> list[Revision]:
        """Append a revision for every touched record that changed; bump versions and the
        data version. Returns the revisions, in the order written."""
        self.session.flush()
        now = datetime.now(UTC)  # to the microsecond: as_of tells apart changes a moment apart
        written: list[Revision] = []
        for kind in ORDER:
            tracked = self.before.get(kind)
            if not tracked:
                continue
            after = documents(self.session, kind, tracked)
            for record_id in sorted(tracked):
                old, new = tracked[record_id], after.get(record_id)
                if old == new:
                    continue
                version = self.versions[kind].get(record_id, 0) + 1 if old is not None else 1
                if new is not None and old is not None and kind in VERSIONED:
                    model = MODELS[kind]
                    self.session.execute(
                        update(model).where(model.id == record_id).values(version=version)
                    )
                op = Op.created if old is None else Op.deleted if new is None else Op.updated
                written.append(self._revision(kind, record_id, op, version, old, new, now))
        for event_id, note in self.notes:
            current = documents(self.session, Kind.event, [event_id]).get(event_id)
            version = _versions(self.session, Kind.event, [event_id]).get(event_id, 1)
            revision = self._revision(
                Kind.event, event_id, Op.merged, version, current, current, now
            )
            revision.note = note
            written.append(revision)
        if written:
            # Writers hold the data version's row lock from their start (lock_writes), so
            # revisions commit in the order of their numbers: a reader of the feed that has
            # seen number n never sees a smaller one appear later.
            data_version.bump(self.session)
            self.session.add_all(written)
            self.session.flush()
        return written

    def _revision(
        self,
        kind: Kind,
        record_id: str,
        op: Op,
        version: int,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        at: datetime,
    ) -> Revision:
        doc = new or old or {}
        event_id = record_id if kind is Kind.event else doc.get("event_id")
        if kind is Kind.claim and old and new and old.get("event_id") != new.get("event_id"):
            event_id = new.get("event_id") or old.get("event_id")
        return Revision(
            at=at,
            kind=kind.value,
            record_id=record_id,
            event_id=event_id,
            op=op.value,
            version=version,
            author=self.author,
            before=_dump(old),
            after=_dump(new),
        )


def _dump(doc: dict[str, Any] | None) -> str | None:
    return None if doc is None else orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()


def load(text: str | None) -> dict[str, Any] | None:
    """A revision's stored document."""
    return None if text is None else orjson.loads(text)


def request_hash(method: str, path: str, body: bytes) -> str:
    """What identifies a request body for Idempotency-Key: method, path and canonical JSON."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def replay(session: Session, revisions: Iterable[Revision]) -> None:
    """Apply revisions in order to a database: every record as the feed last left it.

    Consecutive creations and updates of one kind are written together, as they were
    first written (events of one bundle may link to each other). A record's `created_at` and
    `updated_at` are those of its first and last revision, not the time of the replay."""
    batch: list[Revision] = []
    first_seen: dict[tuple[str, str], datetime] = {}

    def flush() -> None:
        if not batch:
            return
        kind = Kind(batch[0].kind)
        latest = {r.record_id: r for r in batch}
        put(
            session,
            kind,
            [KIND_MODELS[kind].model_validate(load(r.after)) for r in latest.values()],
        )
        if kind in VERSIONED:
            model = MODELS[kind]
            for r in latest.values():
                session.execute(
                    update(model)
                    .where(model.id == r.record_id)
                    .values(
                        version=r.version,
                        # Whole seconds, as the records written live keep them.
                        created_at=first_seen[(r.kind, r.record_id)].replace(microsecond=0),
                        updated_at=r.at.replace(microsecond=0),
                    )
                )
        batch.clear()

    for revision in revisions:
        op = Op(revision.op)
        if op is Op.merged:
            continue
        if op is Op.created or (revision.kind, revision.record_id) not in first_seen:
            first_seen[(revision.kind, revision.record_id)] = revision.at
        if batch and (batch[0].kind != revision.kind or op is Op.deleted):
            flush()
        if op is Op.deleted:
            remove(session, Kind(revision.kind), [revision.record_id])
        else:
            batch.append(revision)
    flush()
    session.flush()


# -- the write API ---------------------------------------------------------------------------


def parse_if_match(header: str | None) -> list[str] | None:
    """The entity tags an If-Match header lists (None for `*`); 428 when it is missing.

    RFC 9110 §13.1.1 compares them strongly: a weak tag (`W/"…"`) never matches, and a
    strong one matches only the record's current ETag exactly, version and digest alike.
    """
    if header is None:
        raise PreconditionRequired(
            "send If-Match with the ETag of the record as you read it", param="If-Match"
        )
    if header.strip() == "*":
        return None
    return [tag.strip() for tag in header.split(",") if tag.strip().startswith('"')]


ETagOf = Callable[[Session, Kind, str], str]


def lock(
    session: Session, kind: Kind, record_id: str, if_match: str | None, etag_of: ETagOf
) -> None:
    """Hold the record for this write if If-Match names its current ETag (or is `*`): 404
    when it does not exist, 412 when it has moved on. The row is locked before its ETag is
    compared, so of two writers with the same ETag exactly one gets through."""
    accepted = parse_if_match(if_match)
    model = MODELS[kind]
    stmt = update(model).where(model.id == record_id).values(version=model.version)
    held = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    current = session.scalar(select(model.version).where(model.id == record_id))
    if not held or current is None:
        raise NotFound(f"no {kind.value} with id {record_id!r}", param=f"{kind.value}_id")
    if accepted is None or etag_of(session, kind, record_id) in accepted:
        return
    raise PreconditionFailed(
        f"the {kind.value} is at version {current}; read it again and reapply the change",
        param="If-Match",
        current_version=current,
    )


def check_references(session: Session, kind: Kind, doc: BaseModel) -> None:
    """422 naming the field when a document points at records that do not exist, or when
    its evidence does not match the source's text."""
    needs: list[tuple[Any, str, str]] = []  # (model, id, field)
    if isinstance(doc, EventDoc):
        needs += [(Actor, a.actor, f"actors.{n}.actor") for n, a in enumerate(doc.actors)]
        needs += [(Location, loc, f"locations.{n}") for n, loc in enumerate(doc.locations)]
        needs += [(Event, r.event, f"related.{n}.event") for n, r in enumerate(doc.related)]
    elif isinstance(doc, ClaimDoc):
        needs.append((Source, doc.source_id, "source_id"))
        if doc.event_id is not None:
            needs.append((Event, doc.event_id, "event_id"))
        if doc.speaker is not None:
            needs.append((Actor, doc.speaker, "speaker"))
    elif isinstance(doc, ActorCreate):
        needs += [
            (Actor, a.organization, f"affiliations.{n}.organization")
            for n, a in enumerate(doc.affiliations)
            if a.organization != doc.id
        ]
    found = {
        model: set(session.scalars(select(model.id).where(model.id.in_(ids))))
        for model, ids in _grouped(needs).items()
    }
    for model, record_id, field in needs:
        if record_id not in found[model]:
            raise InvalidParameter(f"{field}: no such record {record_id!r}", param=field)
    if isinstance(doc, ClaimDoc):
        check_evidence(session, doc)


def _grouped(needs: list[tuple[Any, str, str]]) -> dict[Any, list[str]]:
    ids: dict[Any, list[str]] = defaultdict(list)
    for model, record_id, _ in needs:
        ids[model].append(record_id)
    return ids


def _span_mismatch(claim: ClaimDoc, text: str | None, length: int | None) -> str | None:
    """Which part of a claim's span disagrees with its source: `end` (past the text), `text`
    (not the source's words at those offsets), or None."""
    span = claim.evidence
    if length is not None and span.end > length:
        return "end"
    if text is not None and text[span.start : span.end] != span.text:
        return "text"
    return None


def check_evidence(session: Session, claim: ClaimDoc) -> None:
    """The span lies inside its source and, when the source's text is stored, is exactly that
    text; the quote and reported numbers are inside the span (checked by the schema)."""
    row = session.execute(
        select(Source.text_length, Source.text).where(Source.id == claim.source_id)
    ).one_or_none()
    if row is None:
        raise InvalidParameter(f"no source {claim.source_id!r}", param="source_id")
    length, text = row
    span = claim.evidence
    match _span_mismatch(claim, text, length):
        case "end":
            raise InvalidParameter(
                f"claim {claim.id}: evidence ends at {span.end}, past the source's {length} "
                "characters",
                param="evidence.end",
            )
        case "text":
            raise InvalidParameter(
                f"claim {claim.id}: evidence.text is not the source text at "
                f"[{span.start}:{span.end}]",
                param="evidence.text",
            )


def create(
    session: Session, author: str, kind: Kind, doc: BaseModel, claims: Sequence[ClaimDoc] = ()
) -> None:
    """Write a new record (an event with its claims); 409 when the id is taken."""
    record_id = str(doc.model_dump(include={"id"})["id"])
    model = MODELS[kind]
    if session.scalar(select(model.id).where(model.id == record_id)) is not None:
        raise Conflict(f"a {kind.value} with id {record_id!r} exists already", param="id")
    taken = session.scalars(select(Claim.id).where(Claim.id.in_([c.id for c in claims]))).all()
    if taken:
        raise Conflict(f"claim ids exist already: {', '.join(taken)}", param="claims")
    tracker = Changes(session, author)
    tracker.track(kind, [record_id])
    tracker.track(Kind.claim, [c.id for c in claims])
    check_references(session, kind, doc)
    put(session, kind, [doc])
    for claim in claims:
        check_references(session, Kind.claim, claim)
    put(session, Kind.claim, list(claims))
    tracker.record()


def update_record(
    session: Session,
    author: str,
    kind: Kind,
    record_id: str,
    if_match: str | None,
    patch: BaseModel,
    etag_of: ETagOf,
) -> None:
    """Apply a patch to a record whose current ETag If-Match names (412 otherwise)."""
    data_version.lock_writes(session)
    lock(session, kind, record_id, if_match, etag_of)
    current = documents(session, kind, [record_id])[record_id]
    merged = current | patch.model_dump(mode="json", exclude_unset=True)
    try:
        doc = KIND_MODELS[kind].model_validate(merged)
    except ValidationError as exc:
        raise invalid_body(exc) from exc
    tracker = Changes(session, author)
    tracker.track(kind, [record_id])
    check_references(session, kind, doc)
    put(session, kind, [doc])
    tracker.record()


def delete_record(
    session: Session,
    author: str,
    kind: Kind,
    record_id: str,
    if_match: str | None,
    etag_of: ETagOf,
) -> None:
    """Delete a record whose current ETag If-Match names; an event takes its claims too."""
    data_version.lock_writes(session)
    lock(session, kind, record_id, if_match, etag_of)
    tracker = Changes(session, author)
    tracker.track(kind, [record_id])
    if kind is Kind.event:
        claim_ids = list(session.scalars(select(Claim.id).where(Claim.event_id == record_id)))
        tracker.track(Kind.claim, claim_ids)
        # Events linking to it lose that link: their documents change too.
        linking = session.scalars(
            select(EventRelation.event_id).where(EventRelation.related_event_id == record_id)
        )
        tracker.track(Kind.event, list(linking))
        remove(session, Kind.claim, claim_ids)
    remove(session, kind, [record_id])
    tracker.record()


def invalid_body(exc: ValidationError) -> InvalidParameter:
    """A 422 naming the first field a validation error points at."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid"}
    field = ".".join(str(part) for part in first.get("loc", ())) or "body"
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())) or 'body'}: {e.get('msg')}" for e in errors
    )
    return InvalidParameter(detail, param=field)


def remembered(session: Session, author: str, key: str, fingerprint: str) -> tuple[int, str] | None:
    """The stored answer to an earlier POST with this Idempotency-Key; 422 when that POST
    had another body."""
    row = session.get(IdempotentRequest, (key, author))
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise InvalidParameter(
            "this Idempotency-Key was used with another request body", param="Idempotency-Key"
        )
    return row.status, row.body


def remember(
    session: Session, author: str, key: str, fingerprint: str, status: int, body: str
) -> None:
    """Keep the answer to a POST under its Idempotency-Key."""
    session.add(
        IdempotentRequest(
            key=key, author=author, request_hash=fingerprint, status=status, body=body, at=utcnow()
        )
    )
    session.flush()


# -- ingestion -------------------------------------------------------------------------------

PRINCIPAL_ROLES = ("initiator", "target")


def _principals(doc: EventDoc) -> set[str]:
    """The actors an event is about: initiators and targets, else every actor named."""
    main = {a.actor for a in doc.actors if a.role.value in PRINCIPAL_ROLES}
    return main or {a.actor for a in doc.actors}


def find_match(session: Session, doc: EventDoc) -> str | None:
    """An existing event this incoming one reports again: the same type, overlapping dates
    and the same principal actors. Undated events never match (nothing says they are one)."""
    if doc.start_date is None or not doc.actors:
        return None
    last = events.last_date(doc.start_date, doc.end_date, doc.status.value)
    stmt = select(Event.id).where(
        Event.event_type == doc.event_type.value,
        Event.start_date.is_not(None),
        Event.id != doc.id,
        or_(Event.last_date.is_(None), Event.last_date >= doc.start_date),
    )
    if last is not None:
        stmt = stmt.where(Event.start_date <= last)
    wanted = _principals(doc)
    for actor_id in wanted:
        stmt = stmt.where(
            exists().where(EventActor.event_id == Event.id, EventActor.actor_id == actor_id)
        )
    for candidate in session.scalars(stmt.order_by(Event.start_date, Event.id)):
        existing = documents(session, Kind.event, [candidate])[candidate]
        if _principals(EventDoc.model_validate(existing)) == wanted:
            return candidate
    return None


def text_digest(text: str) -> str:
    """The SHA-256 (hex) of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify_bundle(bundle: IngestBundle) -> str:
    """Check every span, quote and number against the source text before anything is
    written; return the text's sha256. 422 naming the first field that disagrees."""
    text = bundle.source.text or ""
    digest = text_digest(text)
    if bundle.source.sha256 is not None and bundle.source.sha256 != digest:
        raise InvalidParameter(
            f"source.sha256 is not the SHA-256 of source.text ({digest})", param="source.sha256"
        )
    if bundle.source.text_length is not None and bundle.source.text_length != len(text):
        raise InvalidParameter(
            f"source.text_length is {bundle.source.text_length}; the text has {len(text)}",
            param="source.text_length",
        )
    for event_id, claim in bundle.all_claims():
        doc = ClaimDoc.model_validate(
            claim.model_dump() | {"source_id": bundle.source.id, "event_id": event_id}
        )
        check_evidence_text(doc, text)
    return digest


def check_evidence_text(claim: ClaimDoc, text: str) -> None:
    """The claim's span is exactly the bundle's source text at its offsets."""
    if _span_mismatch(claim, text, len(text)) is not None:
        span = claim.evidence
        raise InvalidParameter(
            f"claim {claim.id}: evidence.text is not the source text at [{span.start}:{span.end}]",
            param=f"claims.{claim.id}.evidence",
        )


def write_bundle(
    changes: Changes,
    bundle: Bundle,
    source: SourceDoc,
    claim_events: dict[str, str | None] | None = None,
) -> None:
    """Write a bundle's records through the one write path (tracked for revisions), as the
    seed and ingest do. `claim_events` overrides which event a claim is about
    (corroboration)."""
    targets = claim_events or {}
    claims = [
        ClaimDoc.model_validate(
            c.model_dump() | {"source_id": source.id, "event_id": targets.get(c.id, event_id)}
        )
        for event_id, c in bundle.all_claims()
    ]
    event_docs = [EventDoc.model_validate(e.model_dump(exclude={"claims"})) for e in bundle.events]
    writes: list[tuple[Kind, list[Any]]] = [
        (Kind.source, [source]),
        (Kind.actor, list(bundle.actors)),
        (Kind.location, list(bundle.locations)),
        (Kind.event, event_docs),
        (Kind.claim, claims),
    ]
    for kind, docs in writes:
        changes.track(kind, [d.id for d in docs])
    for kind, docs in writes:
        put(changes.session, kind, docs)


def ingest(session: Session, author: str, bundle: IngestBundle) -> IngestReport:
    """Write a bundle of new reporting in the caller's transaction, all or nothing.

    Incoming events that match an existing event (see `find_match`) are not added again:
    their claims are attached to that event as evidence from this source, and the event
    gets a `merged` revision. Re-ingesting the same bundle changes nothing.
    """
    digest = verify_bundle(bundle)
    data_version.lock_writes(session)
    source = bundle.source.model_copy(
        update={"sha256": digest, "text_length": len(bundle.source.text or "")}
    )
    merged: dict[str, str] = {}
    for doc in bundle.events:
        exists_already = session.get(Event, doc.id) is not None
        if exists_already:
            continue
        match = find_match(session, EventDoc.model_validate(doc.model_dump(exclude={"claims"})))
        if match is not None:
            merged[doc.id] = match
    kept = [e for e in bundle.events if e.id not in merged]
    retargeted = bundle.model_copy(
        update={
            "events": [
                e.model_copy(
                    update={
                        "related": [
                            r.model_copy(update={"event": merged.get(r.event, r.event)})
                            for r in e.related
                        ]
                    }
                )
                for e in kept
            ],
            "claims": list(bundle.claims)
            + [c for e in bundle.events if e.id in merged for c in e.claims],
        }
    )
    tracker = Changes(session, author)
    write_bundle(tracker, retargeted, source, claim_events=_claim_events(bundle, merged))
    new_claims = {c for c, before in tracker.before[Kind.claim].items() if before is None}
    outcomes = []
    for doc in bundle.events:
        if doc.id in merged:
            fresh = [c.id for c in doc.claims if c.id in new_claims]
            if fresh:
                tracker.merged(
                    merged[doc.id],
                    f"corroborated by {len(fresh)} claim(s) of source {source.id!r} "
                    f"(incoming event {doc.id!r})",
                )
            outcomes.append(
                EventOutcome(incoming_id=doc.id, event_id=merged[doc.id], outcome="corroborated")
            )
        else:
            state = "created" if tracker.before[Kind.event].get(doc.id) is None else "unchanged"
            outcomes.append(EventOutcome(incoming_id=doc.id, event_id=doc.id, outcome=state))
    written = tracker.record()
    changed_events = {r.record_id for r in written if r.kind == Kind.event.value}
    for outcome in outcomes:
        if outcome.outcome == "unchanged" and outcome.event_id in changed_events:
            outcome.outcome = "updated"
    return IngestReport(
        source_id=source.id,
        sha256=digest,
        changed=bool(written),
        events=outcomes,
        revisions=len(written),
    )


def _claim_events(bundle: IngestBundle, merged: dict[str, str]) -> dict[str, str | None]:
    """The event each claim of the bundle ends up about (a merged event's claims move)."""
    out: dict[str, str | None] = {}
    for event_id, claim in bundle.all_claims():
        out[claim.id] = merged.get(event_id, event_id) if event_id is not None else None
    return out


# -- backups ---------------------------------------------------------------------------------

EXPORT_HEADER = {"format": "geoevents-export", "version": 1}


def _line(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS) + b"\n"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def export_lines(session: Session) -> Iterator[bytes]:
    """The whole history as NDJSON: a header, the API keys (hashes only), then every revision
    in order. Importing it into an empty database rebuilds every record from the revisions;
    exporting that database again gives the same bytes."""
    yield _line(EXPORT_HEADER)
    for key in session.scalars(select(ApiKey).order_by(ApiKey.id)):
        yield _line(
            {
                "type": "api_key",
                "name": key.name,
                "scope": key.scope,
                "prefix": key.prefix,
                "key_hash": key.key_hash,
                "created_at": _iso(key.created_at),
                "revoked_at": _iso(key.revoked_at),
            }
        )
    revisions = session.scalars(select(Revision).order_by(Revision.seq)).yield_per(1000)
    for r in revisions:
        yield _line(
            {
                "type": "revision",
                "seq": r.seq,
                "at": _iso(r.at),
                "kind": r.kind,
                "record_id": r.record_id,
                "event_id": r.event_id,
                "op": r.op,
                "version": r.version,
                "author": r.author,
                "note": r.note,
                "before": load(r.before),
                "after": load(r.after),
            }
        )


def import_lines(session: Session, lines: Iterable[bytes]) -> dict[str, int]:
    """Load an export into an empty database: keys, revisions (with their numbers), and
    every record as the revisions leave it. 409 unless the database holds no revisions and
    no events."""
    if session.scalar(select(exists().where(Revision.seq > 0))) or session.scalar(
        select(exists().where(Event.id.is_not(None)))
    ):
        raise Conflict("import needs an empty database (no events, no history)", param="file")
    counts = {"api_keys": 0, "revisions": 0}
    rows = iter(lines)
    header = orjson.loads(next(rows, b"{}"))
    if header != EXPORT_HEADER:
        raise InvalidParameter("not a geoevents export (first line)", param="file")
    batch: list[Revision] = []
    for raw in rows:
        if not raw.strip():
            continue
        item = orjson.loads(raw)
        if item.get("type") == "api_key":
            session.add(
                ApiKey(
                    name=item["name"],
                    scope=item["scope"],
                    prefix=item["prefix"],
                    key_hash=item["key_hash"],
                    created_at=datetime.fromisoformat(item["created_at"]),
                    revoked_at=datetime.fromisoformat(item["revoked_at"])
                    if item["revoked_at"]
                    else None,
                )
            )
            counts["api_keys"] += 1
            continue
        batch.append(
            Revision(
                seq=item["seq"],
                at=datetime.fromisoformat(item["at"]),
                kind=item["kind"],
                record_id=item["record_id"],
                event_id=item["event_id"],
                op=item["op"],
                version=item["version"],
                author=item["author"],
                note=item["note"],
                before=_dump(item["before"]),
                after=_dump(item["after"]),
            )
        )
        counts["revisions"] += 1
    session.add_all(batch)
    session.flush()
    replay(session, batch)
    if session.get_bind().dialect.name == "postgresql":
        # Numbers were given explicitly: move the sequence past them for the next write.
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('revisions', 'seq'), "
                "(SELECT coalesce(max(seq), 1) FROM revisions))"
            )
        )
    data_version.bump(session)
    session.flush()
    return counts
