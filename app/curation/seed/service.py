"""Load bundles and write them so that seeding twice leaves the database unchanged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import InvalidParameter
from app.curation import ingest as ingesting
from app.curation.kinds import documents, put
from app.curation.revisions import Changes
from app.curation.schemas import Kind, SourceDoc
from app.curation.seed.schemas import Bundle
from app.events.models import Event
from app.sources.models import Source


def load_bundle(path: Path) -> Bundle:
    """Parse and validate one YAML or JSON bundle file."""
    with path.open(encoding="utf-8") as fh:
        return Bundle.model_validate(yaml.safe_load(fh))


def bundle_paths(seed_dir: Path) -> list[Path]:
    """The bundle files directly in the seed directory (examples live in subfolders)."""
    return sorted(p for p in seed_dir.iterdir() if p.suffix in {".yaml", ".yml", ".json"})


def source_text(path: Path) -> str | None:
    """The text of a bundle's source: the UTF-8 file named as the bundle, with `.txt`, beside
    it (`seed_data/article.txt` for `article.yaml`), byte for byte (no newline translation:
    offsets count its characters as they are); None when there is none."""
    text_path = path.with_suffix(".txt")
    if not text_path.is_file():
        return None
    return text_path.read_bytes().decode("utf-8")


def span_errors(bundle: Bundle, text: str) -> list[str]:
    """Every way the bundle's evidence disagrees with the source text it claims to quote."""
    errors: list[str] = []
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if bundle.source.sha256 and bundle.source.sha256 != digest:
        errors.append(f"source sha256 {bundle.source.sha256} != text sha256 {digest}")
    for _, claim in bundle.all_claims():
        ev = claim.evidence
        if ev is None:
            errors.append(f"claim {claim.id}: no evidence span")
        elif text[ev.start : ev.end] != ev.text:
            errors.append(f"claim {claim.id}: text[{ev.start}:{ev.end}] differs from evidence")
    return errors


@dataclass
class SeedReport:
    """What the bundles hold, and whether writing them changed the database."""

    counts: dict[str, int] = field(default_factory=dict)
    changed: bool = False


def apply(
    session: Session, bundle: Bundle, author: str = "seed", text: str | None = None
) -> SeedReport:
    """Write a bundle (its source with `text`, when given): upsert its records by id,
    replace their link rows; flush, no commit.

    Every record that changed gets a revision; the data version is bumped only when
    something actually changed. The text is checked as every write checks it: it must be
    the one the source's sha256 describes, and every span must be its words (422). Without
    a text, the source keeps the one it has stored, if any: no text shipped is not a text
    removed.
    """
    if text is None:
        text = session.scalar(select(Source.text).where(Source.id == bundle.source.id))
    changes = Changes(session, author)
    source = SourceDoc.model_validate(bundle.source.model_dump() | {"text": text})
    ingesting.write_bundle(changes, bundle, source)
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
        report = apply(session, load_bundle(path), text=source_text(path))
        for key, value in report.counts.items():
            total.counts[key] = total.counts.get(key, 0) + value
        total.changed = total.changed or report.changed
    return total


def is_empty(session: Session) -> bool:
    """Whether the database holds no events yet."""
    return (session.scalar(select(func.count()).select_from(Event)) or 0) == 0


def store_texts(session: Session, seed_dir: Path, author: str = "migration") -> list[str]:
    """Give each seed source stored without its text the text shipped beside its bundle,
    through the write path (a revision, versions, documents), when that text is the one the
    stored source describes (its sha256) and every span citing the source is its words.
    Returns one sentence per source it could not fill, saying why."""
    left: list[str] = []
    for path in bundle_paths(seed_dir) if seed_dir.is_dir() else []:
        source_id = load_bundle(path).source.id
        stored = session.execute(
            select(Source.text, Source.sha256).where(Source.id == source_id)
        ).first()
        if stored is None or stored.text is not None:
            continue
        text = source_text(path)
        if text is None:
            left.append(
                f"source {source_id!r} keeps no text: {path.with_suffix('.txt')} is not there "
                "(`geoevents seed` stores it once the file is)"
            )
            continue
        changes = Changes(session, author)
        changes.track(Kind.source, [source_id])
        current = documents(session, Kind.source, [source_id])[source_id]
        try:
            put(session, Kind.source, [SourceDoc.model_validate(current | {"text": text})])
        except InvalidParameter as exc:
            left.append(f"source {source_id!r} keeps no text: {exc.detail}")
            continue
        changes.record()
    return left
