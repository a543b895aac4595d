"""Load bundles and write them so that seeding twice leaves the database unchanged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.curation import ingest as ingesting
from app.curation.revisions import Changes
from app.curation.schemas import SourceDoc
from app.curation.seed.schemas import Bundle
from app.events.models import Event


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


@dataclass
class SeedReport:
    """What the bundles hold, and whether writing them changed the database."""

    counts: dict[str, int] = field(default_factory=dict)
    changed: bool = False


def apply(session: Session, bundle: Bundle, author: str = "seed") -> SeedReport:
    """Write a bundle: upsert its records by id, replace their link rows; flush, no commit.

    Every record that changed gets a revision; the data version is bumped only when
    something actually changed.
    """
    changes = Changes(session, author)
    ingesting.write_bundle(changes, bundle, SourceDoc.model_validate(bundle.source.model_dump()))
    written = changes.record()
    counts = {
        "actors": len(bundle.actors),
        "locations": len(bundle.locations),
        "events": len(bundle.events),
        "claims": len(bundle.all_claims()),
        "quantities": sum(len(c.quantities) for _, c in bundle.all_claims()),
    }
    return SeedReport(counts, bool(written))


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
