"""The registry of record kinds: for each, its table, its document schema, whether it
carries a version, and how its documents are read, written and removed. Kinds are listed in
the order a bundle is written (what a record names is written before it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.actors.models import Actor
from app.actors.schemas import ActorCreate
from app.claims.models import Claim
from app.core.db import among
from app.core.kinds import Kind
from app.curation import documents as read
from app.curation import store
from app.curation.schemas import ClaimDoc, SourceDoc
from app.events.models import Event
from app.events.schemas import EventDoc
from app.locations.models import Location
from app.locations.schemas import LocationCreate
from app.sources.models import Source


@dataclass(frozen=True)
class RecordKind:
    """One kind of record, as the write path handles it."""

    model: Any  # its table's ORM class
    document: type[BaseModel]
    versioned: bool
    read: Callable[[Session, list[str]], dict[str, dict[str, Any]]]
    write: Callable[[Session, Sequence[Any]], None]
    delete: Callable[[Session, list[str]], None]


REGISTRY: dict[Kind, RecordKind] = {
    Kind.source: RecordKind(
        Source, SourceDoc, True, read.source_documents, store.put_sources, store.remove_sources
    ),
    Kind.actor: RecordKind(
        Actor, ActorCreate, True, read.actor_documents, store.put_actors, store.remove_actors
    ),
    Kind.location: RecordKind(
        Location,
        LocationCreate,
        False,
        read.location_documents,
        store.put_locations,
        store.remove_locations,
    ),
    Kind.event: RecordKind(
        Event, EventDoc, True, read.event_documents, store.put_events, store.remove_events
    ),
    Kind.claim: RecordKind(
        Claim, ClaimDoc, True, read.claim_documents, store.put_claims, store.remove_claims
    ),
}
ORDER = tuple(REGISTRY)


def documents(session: Session, kind: Kind, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The current document of each of these records that exists, by id."""
    wanted = sorted(set(ids))
    return REGISTRY[kind].read(session, wanted) if wanted else {}


def stored_documents(session: Session, kind: Kind, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """As `documents`, asking first which of these records exist (one statement on the id
    index) and reading the documents of those only: for ids that are mostly new (an
    import's batch) it spares the reader's statements for records that are not there."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    model = REGISTRY[kind].model
    held = list(session.scalars(select(model.id).where(among(model.id, wanted))))
    return REGISTRY[kind].read(session, sorted(held)) if held else {}


def put(session: Session, kind: Kind, docs: Sequence[BaseModel]) -> None:
    """Write these documents: create the records that are new, update the others."""
    if docs:
        REGISTRY[kind].write(session, docs)


def remove(session: Session, kind: Kind, ids: list[str]) -> None:
    """Delete these records (their revisions keep them); 409 while others still use them."""
    if ids:
        REGISTRY[kind].delete(session, ids)
        session.flush()
