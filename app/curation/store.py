"""Writing documents into the tables (`put`) and taking records away (`remove`), every
derived row kept in step: aliases, links, tags, the rollups (the stored documents and the
search rows of what a write marks stale are rebuilt by app.curation.projections).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from app.actors.models import Actor, ActorAlias, Affiliation
from app.actors.schemas import ActorCreate
from app.actors.service import normalise
from app.claims.models import Claim, Quantity
from app.claims.schemas import bounds
from app.core.db import Base, utcnow
from app.core.errors import (
    Conflict,
)
from app.curation import evidence, projections, versions
from app.curation.documents import EVENT_FIELDS, attributes_column, provenance_columns
from app.curation.schemas import ClaimDoc, SourceDoc
from app.events import service as events
from app.events.models import Event, EventActor, EventLocation, EventRelation, EventTag
from app.events.schemas import EventDoc
from app.locations import service as locations
from app.locations.models import Location
from app.locations.schemas import LocationCreate
from app.sources.models import Source


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


def put_sources(session: Session, docs: Sequence[SourceDoc]) -> None:
    """Write these sources; a text is stored once, matching every span that cites it."""
    stored = [evidence.prepare_source(session, d) for d in docs]
    _upsert(session, Source, [source_row(d) for d in stored])
    projections.stale(session, [d.id for d in docs], "source")


def put_locations(session: Session, docs: Sequence[LocationCreate]) -> None:
    """Write these places, with what the gazetteer adds to them."""
    _upsert(session, Location, [location_row(d) for d in docs])
    versions.touched(session, "location", [d.id for d in docs])
    projections.stale(session, projections.events_at_locations(session, [d.id for d in docs]))


def put_actors(session: Session, docs: Sequence[ActorCreate]) -> None:
    """Write these actors with their aliases and affiliations."""
    _upsert(session, Actor, [actor_row(a) for a in docs])
    ids = [a.id for a in docs]
    versions.touched(session, "actor", ids)
    # Before and after the change: the actors it was and is affiliated with show it.
    projections.stale(session, [*ids, *projections.actors_showing(session, ids)], "actor")
    projections.stale(session, projections.events_naming_actors(session, ids))
    projections.stale(session, projections.claims_spoken_by(session, ids), "claim")
    _replace(
        session, ActorAlias, ActorAlias.actor_id, ids, [ActorAlias(**r) for r in alias_rows(docs)]
    )
    _replace(
        session,
        Affiliation,
        Affiliation.actor_id,
        ids,
        [Affiliation(**r) for r in affiliation_rows(docs)],
    )
    projections.stale(session, projections.actors_showing(session, ids), "actor")


def put_events(session: Session, docs: Sequence[EventDoc]) -> None:
    """Write these events with their links, tags, index rows, rollups and search rows."""
    ids = [e.id for e in docs]
    projections.stale(session, [*ids, *projections.linked_events(session, ids)])
    links = event_link_rows(docs)
    with projections.maintaining(session, ids):
        _upsert(session, Event, [event_row(e) for e in docs])
        for model, parent in (
            (EventActor, EventActor.event_id),
            (EventLocation, EventLocation.event_id),
            (EventTag, EventTag.event_id),
            (EventRelation, EventRelation.event_id),
        ):
            _replace(session, model, parent, ids, [model(**r) for r in links[model]])
    projections.stale(session, projections.linked_events(session, ids))


def put_claims(session: Session, docs: Sequence[ClaimDoc]) -> None:
    """Write these claims with their figures, and refresh their events' search rows; 422
    when a span is not its source's text."""
    evidence.check_claims(session, docs)
    found = session.execute(
        select(Claim.id, Claim.event_id, Claim.source_id).where(Claim.id.in_([c.id for c in docs]))
    ).all()
    previous = {row.id: row.event_id for row in found}
    # The sources cited before and after count their claims.
    cited = [*(r.source_id for r in found), *(c.source_id for c in docs)]
    projections.stale(session, cited, "source")
    _upsert(session, Claim, [claim_row(c) for c in docs])
    numbers = [Quantity(**r) for r in quantity_rows(docs)]
    _replace(session, Quantity, Quantity.claim_id, [c.id for c in docs], numbers)
    touched = {c.event_id for c in docs} | set(previous.values())
    projections.stale(session, [c.id for c in docs], "claim")
    projections.stale(session, touched)


def remove_events(session: Session, ids: list[str]) -> None:
    """Delete these events (their claims first, by the caller), and links to them."""
    projections.stale(session, [*ids, *projections.linked_events(session, ids)])
    # Claims still on them go with them (a replay deletes the event first): their documents
    # and the counts of the sources they cite go too.
    left = session.execute(select(Claim.id, Claim.source_id).where(Claim.event_id.in_(ids))).all()
    projections.stale(session, [row.id for row in left], "claim")
    projections.stale(session, [row.source_id for row in left], "source")
    with projections.maintaining(session, ids):
        session.execute(delete(EventRelation).where(EventRelation.related_event_id.in_(ids)))
        session.execute(delete(Event).where(Event.id.in_(ids)))


def remove_claims(session: Session, ids: list[str]) -> None:
    """Delete these claims, and refresh their events' search rows."""
    event_ids = list(session.scalars(select(Claim.event_id).where(Claim.id.in_(ids)).distinct()))
    cited = session.scalars(select(Claim.source_id).where(Claim.id.in_(ids)).distinct())
    projections.stale(session, cited, "source")
    projections.stale(session, event_ids)
    projections.stale(session, ids, "claim")
    session.execute(delete(Claim).where(Claim.id.in_(ids)))


def remove_actors(session: Session, ids: list[str]) -> None:
    """Delete these actors; 409 while events, claims or affiliations name them."""
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
            "the actor is still named by events, claims or affiliations; change those first",
            param="actor_id",
        )
    # The organisations it belonged to list it among their members.
    projections.stale(session, [*ids, *projections.actors_showing(session, ids)], "actor")
    session.execute(delete(Actor).where(Actor.id.in_(ids)))


def remove_sources(session: Session, ids: list[str]) -> None:
    """Delete these sources; 409 while claims cite them."""
    if session.scalar(select(exists().where(Claim.source_id.in_(ids)))):
        raise Conflict("claims still cite the source; delete them first", param="source_id")
    projections.stale(session, ids, "source")
    session.execute(delete(Source).where(Source.id.in_(ids)))


def remove_locations(session: Session, ids: list[str]) -> None:
    """Delete these places; 409 while events name them."""
    if session.scalar(select(exists().where(EventLocation.location_id.in_(ids)))):
        raise Conflict("events still name the location", param="location_id")
    versions.touched(session, "location", ids)
    session.execute(delete(Location).where(Location.id.in_(ids)))


# --- the rows a document becomes (the per-record path above and app.curation.bulk alike) ---


def source_row(doc: SourceDoc) -> dict[str, Any]:
    """The sources row of a source as stored (its text prepared by app.curation.evidence)."""
    return doc.model_dump()


def location_row(doc: LocationCreate) -> dict[str, Any]:
    """The locations row of a place, with what the gazetteer adds to it."""
    row = locations.enrich(doc)
    return {c.key: getattr(row, c.key) for c in Location.__table__.columns}


def actor_row(doc: ActorCreate) -> dict[str, Any]:
    """The actors row of an actor (its aliases and affiliations are rows of their own)."""
    return doc.model_dump(exclude={"aliases", "affiliations"}) | {"name_norm": normalise(doc.name)}


def alias_rows(docs: Sequence[ActorCreate]) -> list[dict[str, Any]]:
    """The actor_aliases rows of these actors."""
    return [
        {"actor_id": a.id, "alias": alias, "alias_norm": normalise(alias)}
        for a in docs
        for alias in dict.fromkeys(a.aliases)
    ]


def affiliation_rows(docs: Sequence[ActorCreate]) -> list[dict[str, Any]]:
    """The affiliations rows of these actors, numbered in their documents' order."""
    return [
        {
            "id": f"{a.id}@{aff.organization}#{n:03d}",
            "actor_id": a.id,
            **aff.model_dump(exclude={"organization"}),
            "organization_id": aff.organization,
        }
        for a in docs
        for n, aff in enumerate(a.affiliations, start=1)
    ]


def event_row(doc: EventDoc) -> dict[str, Any]:
    """The events row of an event (its links are rows of their own)."""
    return (
        doc.model_dump(include=set(EVENT_FIELDS))
        | provenance_columns(doc.provenance)
        | {
            "attributes": attributes_column(doc.attributes),
            "event_type": doc.event_type.value,
            "status": doc.status.value,
            "date_precision": doc.date_precision.value,
            "span_days": events.span_days(doc.start_date, doc.end_date),
            "last_date": events.last_date(doc.start_date, doc.end_date, doc.status.value),
        }
    )


def event_link_rows(docs: Sequence[EventDoc]) -> dict[Any, list[dict[str, Any]]]:
    """The link rows of these events, by table: actors, places, tags, related events."""
    return {
        EventActor: [
            {"event_id": e.id, "actor_id": link.actor, "role": link.role.value, "position": n}
            for e in docs
            for n, link in enumerate({(a.actor, a.role): a for a in e.actors}.values())
        ],
        EventLocation: [
            {"event_id": e.id, "location_id": loc, "position": n}
            for e in docs
            for n, loc in enumerate(dict.fromkeys(e.locations))
        ],
        EventTag: [{"event_id": e.id, "tag": tag} for e in docs for tag in dict.fromkeys(e.tags)],
        EventRelation: [
            {"event_id": e.id, "related_event_id": r.event, "relation": r.relation.value}
            for e in docs
            for r in {(r.event, r.relation): r for r in e.related}.values()
        ],
    }


def claim_row(c: ClaimDoc) -> dict[str, Any]:
    """The claims row of a claim (its figures are rows of their own)."""
    return {
        "id": c.id,
        "event_id": c.event_id,
        "source_id": c.source_id,
        "speaker_id": c.speaker,
        "statement": c.statement,
        "quote": c.quote,
        "hedging": c.hedging.value,
        "evidence_start": c.evidence.start if c.evidence else None,
        "evidence_end": c.evidence.end if c.evidence else None,
        "evidence_text": c.evidence.text if c.evidence else None,
    } | provenance_columns(c.provenance)


def quantity_rows(docs: Sequence[ClaimDoc]) -> list[dict[str, Any]]:
    """The quantities rows of these claims, with the bounds each qualifier implies."""
    rows = []
    for c in docs:
        for n, q in enumerate(c.quantities, start=1):
            low, high, low_inc, high_inc = bounds(q.qualifier, q.value, q.low, q.high)
            rows.append(
                {
                    "id": f"{c.id}-q{n}",
                    "claim_id": c.id,
                    "event_id": c.event_id,
                    "label": q.label,
                    "value": q.value,
                    "unit": q.unit,
                    "qualifier": q.qualifier.value,
                    "low": low,
                    "high": high,
                    "low_inclusive": low_inc,
                    "high_inclusive": high_inc,
                    "as_reported": q.as_reported,
                }
            )
    return rows
