"""Records as documents: the shape the write API takes, read back from the tables, one reader
per kind of record (registered in app.curation.kinds). The readers select columns, not ORM
entities (a bulk load reads millions of them), and validate with `STORED`: what the tables
hold was checked for control characters on its way in.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.actors.models import Actor, ActorAlias, Affiliation
from app.actors.schemas import ActorCreate
from app.claims.models import Claim, Quantity
from app.core.db import among
from app.core.schemas import STORED, Provenance
from app.core.vocab import Qualifier
from app.curation.schemas import (
    ClaimDoc,
    SourceDoc,
)
from app.events.models import Event, EventActor, EventLocation, EventRelation, EventTag
from app.events.schemas import EventDoc
from app.locations.models import Location
from app.locations.schemas import DATASET_GAZETTEERS, LocationCreate
from app.sources.models import Source


def _json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


# The columns that hold an imported record's provenance (events and claims alike).
PROVENANCE_COLUMNS = ("dataset", "dataset_release", "dataset_row")


def provenance(dataset: str | None, release: str | None, row: int | None) -> dict[str, Any] | None:
    """A record's provenance from its columns; None for a record of reporting."""
    if dataset is None:
        return None
    return {"dataset": dataset, "release": release, "row": row}


def provenance_columns(given: Provenance | None) -> dict[str, Any]:
    """The provenance columns of a record from its document's `provenance`."""
    if given is None:
        return dict.fromkeys(PROVENANCE_COLUMNS)
    return {
        "dataset": given.dataset.value,
        "dataset_release": given.release,
        "dataset_row": given.row,
    }


def attributes(stored: str | None) -> dict[str, Any]:
    """An event's dataset attributes from their column (JSON text)."""
    return {} if stored is None else orjson.loads(stored)


def attributes_column(given: dict[str, Any]) -> str | None:
    """The column text of an event's attributes: JSON with sorted keys, NULL when none."""
    return orjson.dumps(given, option=orjson.OPT_SORT_KEYS).decode() if given else None


def source_documents(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The documents of these sources, text included, by id."""
    columns = [Source.__table__.c[name] for name in SourceDoc.model_fields]
    return {
        row.id: _json(SourceDoc.model_validate(dict(row._mapping), context=STORED))
        for row in session.execute(select(*columns).where(among(Source.id, ids)))
    }


def location_documents(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The documents of these places, by id."""
    docs = {}
    for loc in session.execute(
        select(
            Location.id,
            Location.name,
            Location.country,
            Location.admin_area,
            Location.feature,
            Location.gazetteer,
            Location.latitude,
            Location.longitude,
            Location.precision,
        ).where(among(Location.id, ids))
    ):
        fields: dict[str, Any] = {
            "id": loc.id,
            "name": loc.name,
            "country": loc.country,
            "admin_area": loc.admin_area,
            "feature": loc.feature,
        }
        if loc.gazetteer in DATASET_GAZETTEERS:
            # A dataset's coordinates are part of the record; a gazetteer's are derived.
            fields |= {
                "latitude": loc.latitude,
                "longitude": loc.longitude,
                "precision": loc.precision,
                "coordinates_from": loc.gazetteer,
            }
        docs[loc.id] = _json(LocationCreate.model_validate(fields, context=STORED))
    return docs


def actor_documents(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The documents of these actors, by id."""
    aliases: dict[str, list[str]] = defaultdict(list)
    for actor_id, alias in session.execute(
        select(ActorAlias.actor_id, ActorAlias.alias)
        .where(among(ActorAlias.actor_id, ids))
        .order_by(ActorAlias.actor_id, ActorAlias.alias)
    ):
        aliases[actor_id].append(alias)
    memberships: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in session.execute(
        select(
            Affiliation.actor_id,
            Affiliation.organization_id,
            Affiliation.role,
            Affiliation.start_date,
            Affiliation.end_date,
            Affiliation.current,
        )
        .where(among(Affiliation.actor_id, ids))
        .order_by(Affiliation.id)
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
    for actor in session.execute(
        select(
            Actor.id,
            Actor.name,
            Actor.kind,
            Actor.country,
            Actor.wikidata_id,
            Actor.description,
        ).where(among(Actor.id, ids))
    ):
        fields = {
            "id": actor.id,
            "name": actor.name,
            "kind": actor.kind,
            "country": actor.country,
            "aliases": aliases[actor.id],
            "wikidata_id": actor.wikidata_id,
            "description": actor.description,
            "affiliations": memberships[actor.id],
        }
        docs[actor.id] = _json(ActorCreate.model_validate(fields, context=STORED))
    return docs


def event_documents(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The documents of these events, by id."""
    links: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for event_id, actor_id, role in session.execute(
        select(EventActor.event_id, EventActor.actor_id, EventActor.role)
        .where(among(EventActor.event_id, ids))
        .order_by(EventActor.event_id, EventActor.position, EventActor.actor_id, EventActor.role)
    ):
        links[event_id]["actors"].append({"actor": actor_id, "role": role})
    for event_id, location_id in session.execute(
        select(EventLocation.event_id, EventLocation.location_id)
        .where(among(EventLocation.event_id, ids))
        .order_by(EventLocation.event_id, EventLocation.position, EventLocation.location_id)
    ):
        links[event_id]["locations"].append(location_id)
    for event_id, tag in session.execute(
        select(EventTag.event_id, EventTag.tag)
        .where(among(EventTag.event_id, ids))
        .order_by(EventTag.event_id, EventTag.tag)
    ):
        links[event_id]["tags"].append(tag)
    for event_id, other, relation in session.execute(
        select(EventRelation.event_id, EventRelation.related_event_id, EventRelation.relation)
        .where(among(EventRelation.event_id, ids))
        .order_by(EventRelation.event_id, EventRelation.related_event_id, EventRelation.relation)
    ):
        links[event_id]["related"].append({"event": other, "relation": relation})
    docs = {}
    columns = [getattr(Event, name) for name in (*EVENT_FIELDS, *EVENT_EXTRA)]
    for row in session.execute(select(*columns).where(among(Event.id, ids))):
        fields = {name: getattr(row, name) for name in EVENT_FIELDS}
        fields["provenance"] = provenance(row.dataset, row.dataset_release, row.dataset_row)
        fields["attributes"] = attributes(row.attributes)
        docs[row.id] = _json(EventDoc.model_validate(fields | dict(links[row.id]), context=STORED))
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
# The event columns of its provenance and attributes, read into documents by hand.
EVENT_EXTRA = (*PROVENANCE_COLUMNS, "attributes")


def claim_documents(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The documents of these claims, by id."""
    numbers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in session.execute(
        select(
            Quantity.claim_id,
            Quantity.label,
            Quantity.value,
            Quantity.unit,
            Quantity.qualifier,
            Quantity.as_reported,
            Quantity.low,
            Quantity.high,
        )
        .where(among(Quantity.claim_id, ids))
        .order_by(Quantity.id)
    ):
        estimate = q.qualifier == Qualifier.estimate.value
        numbers[q.claim_id].append(
            {
                "label": q.label,
                "value": q.value,
                "unit": q.unit,
                "qualifier": q.qualifier,
                "as_reported": q.as_reported,
                # Only an estimate's bounds are given; the others' follow from the qualifier.
                "low": q.low if estimate else None,
                "high": q.high if estimate else None,
            }
        )
    docs = {}
    claims = select(
        Claim.id,
        Claim.statement,
        Claim.quote,
        Claim.speaker_id,
        Claim.hedging,
        Claim.evidence_start,
        Claim.evidence_end,
        Claim.evidence_text,
        Claim.source_id,
        Claim.event_id,
        Claim.dataset,
        Claim.dataset_release,
        Claim.dataset_row,
    ).where(among(Claim.id, ids))
    for c in session.execute(claims):
        doc = ClaimDoc.model_validate(
            {
                "id": c.id,
                "statement": c.statement,
                "quote": c.quote,
                "speaker": c.speaker_id,
                "hedging": c.hedging,
                "evidence": None
                if c.evidence_start is None
                else {
                    "start": c.evidence_start,
                    "end": c.evidence_end,
                    "text": c.evidence_text,
                },
                "quantities": numbers[c.id],
                "provenance": provenance(c.dataset, c.dataset_release, c.dataset_row),
                "source_id": c.source_id,
                "event_id": c.event_id,
            },
            context=STORED,
        )
        docs[c.id] = _json(doc)
    return docs
