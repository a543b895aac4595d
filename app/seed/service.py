"""Load bundles and write them so that seeding twice leaves the database unchanged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import search
from app.actors.models import Actor, ActorAlias, Affiliation
from app.actors.service import normalise
from app.changes import service as changes
from app.claims.models import Claim, Quantity
from app.claims.schemas import bounds
from app.db import Base, utcnow
from app.events import service as events
from app.events.models import Event, EventActor, EventLocation, EventRelation, EventTag
from app.locations import service as locations
from app.locations.models import Location
from app.seed.schemas import Bundle
from app.sources.models import Source


def load_bundle(path: Path) -> Bundle:
    """Parse and validate one YAML or JSON bundle file."""
    with path.open(encoding="utf-8") as fh:
        return Bundle.model_validate(yaml.safe_load(fh))


def bundle_paths(seed_dir: Path) -> list[Path]:
    """The bundle files directly in the seed directory (examples live in subfolders)."""
    return sorted(p for p in seed_dir.iterdir() if p.suffix in {".yaml", ".yml", ".json"})


def span_errors(bundle: Bundle, text: str) -> list[str]:
    """Every way the bundle's evidence disagrees with the source text it claims to quote."""
    errors: list[str] = []
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if bundle.source.sha256 and bundle.source.sha256 != digest:
        errors.append(f"source sha256 {bundle.source.sha256} != text sha256 {digest}")
    for _, claim in bundle.all_claims():
        ev = claim.evidence
        if text[ev.start : ev.end] != ev.text:
            errors.append(f"claim {claim.id}: text[{ev.start}:{ev.end}] differs from evidence")
    return errors


def _upsert(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> bool:
    """Insert new rows and update changed ones by primary key `id`, in one read.

    Timestamps move only when something changed, so a repeated seed is a no-op. Returns
    whether anything changed.
    """
    if not rows:
        return False
    dirty = False
    id_col = model.__table__.c.id
    wanted = [row["id"] for row in rows]
    found: list[Any] = list(session.scalars(select(model).where(id_col.in_(wanted))))
    existing = {obj.id: obj for obj in found}
    stamped = hasattr(model, "updated_at")
    for row in rows:
        obj = existing.get(row["id"])
        if obj is None:
            session.add(model(**row))
            dirty = True
            continue
        changed = {k: v for k, v in row.items() if getattr(obj, k) != v}
        for key, value in changed.items():
            setattr(obj, key, value)
        if changed and stamped:
            obj.updated_at = utcnow()
        dirty = dirty or bool(changed)
    session.flush()
    return dirty


def _replace(
    session: Session, model: type[Base], parent: Any, ids: list[str], rows: list[Base]
) -> bool:
    """Make the link rows of these parents exactly `rows`; returns whether that changed them."""
    columns = list(model.__table__.columns)
    existing = {tuple(r) for r in session.execute(select(*columns).where(parent.in_(ids)))}
    wanted = {tuple(getattr(row, c.key) for c in columns) for row in rows}
    if existing == wanted:
        return False
    session.execute(delete(model).where(parent.in_(ids)))
    session.add_all(rows)
    session.flush()
    return True


@dataclass
class SeedReport:
    """What the bundles hold, and whether writing them changed the database."""

    counts: dict[str, int] = field(default_factory=dict)
    changed: bool = False


def apply(session: Session, bundle: Bundle) -> SeedReport:
    """Write a bundle: upsert its records by id, replace their link rows; flush, no commit.

    The data version is bumped only when something actually changed.
    """
    src = bundle.source
    changed = False
    changed |= _upsert(session, Source, [src.model_dump()])
    changed |= _upsert(
        session,
        Actor,
        [
            a.model_dump(exclude={"aliases", "affiliations"}) | {"name_norm": normalise(a.name)}
            for a in bundle.actors
        ],
    )
    actor_ids = [a.id for a in bundle.actors]
    changed |= _replace(
        session,
        ActorAlias,
        ActorAlias.actor_id,
        actor_ids,
        [
            ActorAlias(actor_id=a.id, alias=alias, alias_norm=normalise(alias))
            for a in bundle.actors
            for alias in dict.fromkeys(a.aliases)
        ],
    )
    changed |= _replace(
        session,
        Affiliation,
        Affiliation.actor_id,
        actor_ids,
        [
            Affiliation(
                id=f"{a.id}@{aff.organization}#{n}",
                actor_id=a.id,
                **aff.model_dump(exclude={"organization"}),
                organization_id=aff.organization,
            )
            for a in bundle.actors
            for n, aff in enumerate(a.affiliations, start=1)
        ],
    )
    location_rows = []
    for place in bundle.locations:
        row = locations.enrich(place)
        location_rows.append({c.key: getattr(row, c.key) for c in Location.__table__.columns})
    changed |= _upsert(session, Location, location_rows)
    event_ids = [e.id for e in bundle.events]
    with events.maintaining(session, event_ids):
        changed |= _upsert(
            session,
            Event,
            [
                e.model_dump(exclude={"tags", "actors", "locations", "related", "claims"})
                | {
                    "event_type": e.event_type.value,
                    "status": e.status.value,
                    "date_precision": e.date_precision.value,
                    "span_days": events.span_days(e.start_date, e.end_date),
                    "last_date": events.last_date(e.start_date, e.end_date, e.status.value),
                }
                for e in bundle.events
            ],
        )
        changed |= _replace(
            session,
            EventActor,
            EventActor.event_id,
            event_ids,
            [
                EventActor(event_id=e.id, actor_id=link.actor, role=link.role.value, position=n)
                for e in bundle.events
                for n, link in enumerate(e.actors)
            ],
        )
        changed |= _replace(
            session,
            EventLocation,
            EventLocation.event_id,
            event_ids,
            [
                EventLocation(event_id=e.id, location_id=loc, position=n)
                for e in bundle.events
                for n, loc in enumerate(dict.fromkeys(e.locations))
            ],
        )
        changed |= _replace(
            session,
            EventTag,
            EventTag.event_id,
            event_ids,
            [
                EventTag(event_id=e.id, tag=tag)
                for e in bundle.events
                for tag in dict.fromkeys(e.tags)
            ],
        )
        changed |= _replace(
            session,
            EventRelation,
            EventRelation.event_id,
            event_ids,
            [
                EventRelation(event_id=e.id, related_event_id=r.event, relation=r.relation.value)
                for e in bundle.events
                for r in e.related
            ],
        )
    claims = bundle.all_claims()
    changed |= _upsert(
        session,
        Claim,
        [
            {
                "id": c.id,
                "event_id": event_id,
                "source_id": src.id,
                "speaker_id": c.speaker,
                "statement": c.statement,
                "quote": c.quote,
                "hedging": c.hedging.value,
                "evidence_start": c.evidence.start,
                "evidence_end": c.evidence.end,
                "evidence_text": c.evidence.text,
            }
            for event_id, c in claims
        ],
    )
    quantity_rows = []
    for event_id, c in claims:
        for n, q in enumerate(c.quantities, start=1):
            low, high, low_inc, high_inc = bounds(q.qualifier, q.value)
            quantity_rows.append(
                {
                    "id": f"{c.id}-q{n}",
                    "claim_id": c.id,
                    "event_id": event_id,
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
    changed |= _upsert(session, Quantity, quantity_rows)
    if changed:
        search.refresh(session, event_ids)
        changes.bump(session)
    counts = {
        "actors": len(bundle.actors),
        "locations": len(bundle.locations),
        "events": len(bundle.events),
        "claims": len(claims),
        "quantities": len(quantity_rows),
    }
    return SeedReport(counts, changed)


def seed(session: Session, seed_dir: Path) -> SeedReport:
    """Apply every bundle in the seed directory; report what they hold and if anything changed."""
    total = SeedReport()
    for path in bundle_paths(seed_dir):
        report = apply(session, load_bundle(path))
        for key, value in report.counts.items():
            total.counts[key] = total.counts.get(key, 0) + value
        total.changed = total.changed or report.changed
    return total


def is_empty(session: Session) -> bool:
    """Whether the database holds no events yet."""
    return (session.scalar(select(func.count()).select_from(Event)) or 0) == 0
