"""What every dataset importer shares: a row's records, the report, and the loop that writes
batches of rows through the one write path (`Changes` + `kinds.put`), so that documents,
search rows, rollups, versions and the feed stay exact.

A row becomes one event with its claims, and the actors, places and sources they name. An
event or claim whose document is the stored one but for its provenance is unchanged (its
provenance stays that of the release that last changed it); actors gather the spellings and
ids every row gives them as aliases. With `snapshot`, the dataset's events the files no
longer hold are removed (a `deleted` revision each), with their claims; a deletion list
(ACLED's) removes the events it names the same way, unless the stored upload is newer than
the deletion.
"""

from __future__ import annotations

import gc
import hashlib
import re
import time
import unicodedata
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pycountry
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.actors.models import Actor
from app.actors.schemas import ActorCreate, AffiliationCreate
from app.claims.models import Claim
from app.core.db import among
from app.core.schemas import STORED, Provenance, Schema
from app.core.vocab import ActorKind, Dataset, Hedging
from app.curation import bulk
from app.curation.kinds import put, remove, stored_documents
from app.curation.revisions import Changes
from app.curation.schemas import ClaimDoc, Kind, SourceDoc
from app.events.models import Event
from app.events.schemas import EventDoc
from app.locations.schemas import LocationCreate

BATCH = 2000  # rows written per transaction: memory stays flat whatever the file's size


class RowRefused(ValueError):
    """A row the importer cannot map, with the reason in our words."""


@dataclass
class RowRecords:
    """The records one dataset row becomes."""

    file: str
    line: int
    event: EventDoc
    claims: list[ClaimDoc]
    actors: list[ActorCreate] = field(default_factory=list)
    locations: list[LocationCreate] = field(default_factory=list)
    sources: list[SourceDoc] = field(default_factory=list)


@dataclass
class Deletion:
    """One row of a deletion list: the event a dataset withdrew, and when (Unix time)."""

    file: str
    line: int
    event_id: str
    at: int


@dataclass
class Row:
    """A row as read from a file: where it starts, and its cells by column name."""

    file: str
    line: int
    cells: dict[str, Any]


class Refusal(Schema):
    """A row that was not imported, and why."""

    file: str = Field(description="The file's name.")
    line: int = Field(description="The line the row starts on (its position, in JSON pages).")
    reason: str = Field(description="Why the row was refused.")


class ImportReport(Schema):
    """What an import read and wrote."""

    dataset: Dataset = Field(description="The dataset imported.")
    release: str = Field(description="The release recorded in the records' provenance.")
    files: list[str] = Field(description="The files read, in order.")
    rows_read: int = Field(description="Data rows read (header lines not counted).")
    created: int = Field(description="Events created.")
    updated: int = Field(description="Events whose record changed.")
    unchanged: int = Field(description="Events already stored as the row gives them.")
    removed: int = Field(
        default=0, description="Events removed by `snapshot` or by a deletion list."
    )
    not_held: int = Field(
        default=0,
        description="Deletion-list rows naming an event not held (never imported, or "
        "removed already): nothing to do.",
    )
    refused: list[Refusal] = Field(description="Rows refused, with the line and the reason.")
    revisions: int = Field(description="Revisions written (0 when nothing changed).")
    seconds: float = Field(description="Time taken.")

    def lines(self) -> list[str]:
        """The report as plain lines, for a terminal or a log."""
        out = [
            f"{self.dataset.value} {self.release}: {self.rows_read} rows read in "
            f"{self.seconds:.1f} s ({self.rows_read / max(self.seconds, 1e-9):,.0f} rows/s)",
            f"events: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed; "
            f"{self.revisions} revisions written",
            f"rows refused: {len(self.refused)}",
        ]
        if self.not_held:
            out.insert(2, f"deletions of events not held: {self.not_held}")
        out += [f"  {r.file}:{r.line}: {r.reason}" for r in self.refused]
        return out


Progress = Callable[[int, int], None]  # (rows read, rows refused) so far
Mapper = Callable[[Row], RowRecords]


def cell_text(cells: dict[str, Any], name: str) -> str | None:
    """A cell's text with its runs of whitespace (line breaks too) made one space; None
    when it is missing or blank."""
    value = cells.get(name)
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def required_cell(cells: dict[str, Any], name: str) -> str:
    """A cell's text (as `cell_text`), refusing the row when it is missing or blank."""
    value = cell_text(cells, name)
    if value is None:
        raise RowRefused(f"{name} is empty")
    return value


def citing_claim(
    claim_id: str, statement: str, source: SourceDoc, event_id: str, provenance: Provenance
) -> ClaimDoc:
    """The claim of a source a dataset names for an event: reported, with no evidence span
    (there is no text of it to point into)."""
    return ClaimDoc(
        id=claim_id,
        statement=statement,
        hedging=Hedging.reported,
        evidence=None,
        provenance=provenance,
        source_id=source.id,
        event_id=event_id,
    )


def slug(text: str, limit: int = 60) -> str:
    """A lowercase slug of a name (ASCII letters and digits joined by hyphens)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", folded))[:limit].strip("-") or "x"


def digest(*parts: object) -> str:
    """A short, stable hash of these values (ids of places and cited sources)."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:16]


def refusal_reason(exc: Exception) -> str:
    """A refused row's reason: ours, or pydantic's first error with the field it names."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    return str(exc)


def _json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _without_provenance(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if doc is None else {k: v for k, v in doc.items() if k != "provenance"}


def _merged_actor(stored: dict[str, Any] | None, incoming: ActorCreate) -> ActorCreate:
    """An actor as stored, with the aliases and affiliations this row adds to it."""
    if stored is None:
        return incoming
    current = ActorCreate.model_validate(stored, context=STORED)
    aliases = sorted(set(current.aliases) | {a for a in incoming.aliases if a != current.name})
    held = {a.organization for a in current.affiliations}
    extra = [a for a in incoming.affiliations if a.organization not in held]
    return current.model_copy(
        update={"aliases": aliases, "affiliations": [*current.affiliations, *extra]}
    )


@dataclass
class _Tally:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    not_held: int = 0
    revisions: int = 0
    refused: list[Refusal] = field(default_factory=list)


def _write_batch(
    session: Session, author: str, batch: list[RowRecords], tally: _Tally, use_bulk: bool = True
) -> None:
    """Write one batch of rows in one transaction, each record only if it is new or changed.

    What is stored is read once per kind for the whole batch, the documents of the records
    that exist only (on a first import, one statement per kind finds none). Records that
    are not stored go down the bulk path (app.curation.bulk: set-based inserts,
    projections, versions and creation revisions); stored records whose document differs
    go down the per-record path (`Changes` and `kinds.put`), which reads each one before
    and after and writes an update revision; the rest are unchanged and cost nothing
    more. New records go first: a changed record may name one (a revised row that cites a
    new source). Both share the batch's moment, so that the versions see one write.
    Without `use_bulk` every record takes the per-record path (what the tests compare the
    bulk path with)."""
    stored_events = stored_documents(session, Kind.event, [r.event.id for r in batch])
    kept = []
    for r in batch:
        older = _older_upload(stored_events.get(r.event.id), r.event)
        if older is None:
            kept.append(r)
        else:
            tally.refused.append(Refusal(file=r.file, line=r.line, reason=older))
    batch = kept
    events = {r.event.id: r.event for r in batch}
    claims = {c.id: c for r in batch for c in r.claims}
    stored_claims = stored_documents(session, Kind.claim, claims)
    # A record not stored is new without comparing (nor dumping) its document.
    new_events = [
        e
        for e in events.values()
        if e.id not in stored_events
        or _without_provenance(stored_events[e.id]) != _without_provenance(_json(e))
    ]
    new_claims = [
        c
        for c in claims.values()
        if c.id not in stored_claims
        or _without_provenance(stored_claims[c.id]) != _without_provenance(_json(c))
    ]
    # Claims of stored events that the rows no longer give (a revised row cites fewer sources).
    gone = [
        claim_id
        for claim_id in session.scalars(
            select(Claim.id).where(
                among(Claim.event_id, [e.id for e in new_events if e.id in stored_events])
            )
        )
        if claim_id not in claims
    ]
    actors: dict[str, ActorCreate] = {}
    for r in batch:
        for a in r.actors:
            actors[a.id] = _merged_actor(_json(actors[a.id]) if a.id in actors else None, a)
    stored_actors = stored_documents(session, Kind.actor, actors)
    new_actors = []
    for actor in actors.values():
        merged = _merged_actor(stored_actors.get(actor.id), actor)
        if _json(merged) != stored_actors.get(actor.id):
            new_actors.append(merged)
    sources, stored_sources = _changed(session, Kind.source, (s for r in batch for s in r.sources))
    places, stored_places = _changed(
        session, Kind.location, (p for r in batch for p in r.locations)
    )
    writes: list[tuple[Kind, list[Any], Container[str]]] = [
        (Kind.source, sources, stored_sources),
        (Kind.actor, new_actors, stored_actors),
        (Kind.location, places, stored_places),
        (Kind.event, new_events, stored_events),
        (Kind.claim, new_claims, stored_claims),
    ]
    now = datetime.now(UTC)  # the batch's moment: one write, whichever path a record takes
    created = bulk.create(
        session,
        author,
        {kind: [d for d in docs if d.id not in stored] for kind, docs, stored in writes}
        if use_bulk
        else {},
        at=now,
    )
    changes = Changes(session, author)
    updates = [
        (kind, [d for d in docs if d.id in stored or not use_bulk]) for kind, docs, stored in writes
    ]
    for kind, docs in updates:
        changes.track(kind, [d.id for d in docs])
    changes.track(Kind.claim, gone)
    remove(session, Kind.claim, gone)
    for kind, docs in updates:
        put(session, kind, docs)
    written = changes.record(at=now)
    session.commit()
    # An event is updated when it or one of its claims changed.
    changed = {r.event_id for r in written} | {event_id for _, _, event_id in created}
    for event_id in events:
        if stored_events.get(event_id) is None:
            tally.created += 1
        elif event_id in changed:
            tally.updated += 1
        else:
            tally.unchanged += 1
    tally.revisions += len(written) + len(created)


def _older_upload(stored: dict[str, Any] | None, incoming: EventDoc) -> str | None:
    """Why a row is older than the stored record (ACLED's `timestamp`), or None."""
    if stored is None:
        return None
    before = stored.get("attributes", {}).get("timestamp")
    now = incoming.attributes.get("timestamp")
    if isinstance(before, int) and isinstance(now, int) and now < before:
        return (
            f"timestamp {now} is older than the stored upload of {incoming.id!r} ({before}); "
            "the newer record is kept"
        )
    return None


def _changed(
    session: Session, kind: Kind, docs: Iterable[BaseModel]
) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """These documents (one per id, the last given) that differ from the stored ones, and
    the stored documents read."""
    by_id: dict[str, Any] = {getattr(d, "id"): d for d in docs}  # noqa: B009
    stored = stored_documents(session, kind, by_id)
    return [d for i, d in by_id.items() if i not in stored or stored[i] != _json(d)], stored


# Allocations between two passes of the cyclic garbage collector's youngest generation while
# an import runs (CPython's default is 700).
COLLECT_AFTER = 50_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while an import runs.

    Each row allocates thousands of short-lived containers (cells, pydantic documents, row
    dicts), freed by their reference counts; at the default threshold the collector passes
    every 700 of them and each pass walks the young objects and, every few passes, the older
    ones (the session's state, the bounded caches). At 10,000 rows these passes took about a
    sixth of the importer's CPU time; a higher threshold keeps collecting, less often. The
    thresholds are restored after."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], COLLECT_AFTER), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def run_import(
    session: Session,
    dataset: Dataset,
    rows: Iterable[Row],
    mapper: Mapper,
    *,
    release: str,
    files: Sequence[Path],
    snapshot: bool = False,
    author: str = "import",
    progress: Progress | None = None,
    batch_size: int = BATCH,
    event_key: Callable[[Row], str | None] | None = None,
    use_bulk: bool = True,
    deletions: Iterable[Row] = (),
    deletion: Callable[[Row], Deletion] | None = None,
) -> ImportReport:
    """Map and write every row, batch by batch (each its own transaction); refused rows are
    reported and never stop the rest. Then apply the `deletions` rows (read by `deletion`),
    after the data rows whatever the order of the files. With `snapshot`, remove the
    dataset's events that no row held. `use_bulk=False` writes new records one by one too
    (see `_write_batch`)."""
    started = time.monotonic()
    tally = _Tally()
    seen: dict[str, tuple[str, int]] = {}
    batch: list[RowRecords] = []
    batches = 0
    with _fewer_collections():
        for row in rows:
            tally.rows += 1
            try:
                records = mapper(row)
            except (RowRefused, ValidationError, ValueError) as exc:
                tally.refused.append(
                    Refusal(file=row.file, line=row.line, reason=refusal_reason(exc))
                )
                # A refused row still holds its event for a snapshot: a bad row removes nothing.
                key = event_key(row) if event_key is not None else None
                if key is not None:
                    seen.setdefault(key, (row.file, row.line))
            else:
                first = seen.get(records.event.id)
                if first is not None:
                    reason = (
                        f"event {records.event.id!r} is given again "
                        f"(first at {first[0]}:{first[1]})"
                    )
                    tally.refused.append(Refusal(file=row.file, line=row.line, reason=reason))
                else:
                    seen[records.event.id] = (row.file, row.line)
                    batch.append(records)
            if len(batch) >= batch_size:
                _write_batch(session, author, batch, tally, use_bulk)
                batch = []
                batches += 1
                if batches & (batches - 1) == 0:  # the 1st, 2nd, 4th, 8th … batch
                    bulk.refresh_statistics(session)
                    session.commit()
            if progress is not None:
                progress(tally.rows, len(tally.refused))
        if batch:
            _write_batch(session, author, batch, tally, use_bulk)
        if deletion is not None:
            _withdraw(session, author, deletions, deletion, tally, batch_size, progress)
        if snapshot:
            _tombstone(session, author, dataset, set(seen), tally, batch_size)
    return ImportReport(
        dataset=dataset,
        release=release,
        files=[p.name for p in files],
        rows_read=tally.rows,
        created=tally.created,
        updated=tally.updated,
        unchanged=tally.unchanged,
        removed=tally.removed,
        not_held=tally.not_held,
        refused=tally.refused,
        revisions=tally.revisions,
        seconds=round(time.monotonic() - started, 3),
    )


def _tombstone(
    session: Session, author: str, dataset: Dataset, kept: set[str], tally: _Tally, size: int
) -> None:
    """Remove the dataset's events (and their claims) that the files no longer hold."""
    stored = session.scalars(select(Event.id).where(Event.dataset == dataset.value))
    gone = sorted(set(stored) - kept)
    for start in range(0, len(gone), size):
        _remove_events(session, author, gone[start : start + size], tally)


def _remove_events(session: Session, author: str, ids: list[str], tally: _Tally) -> None:
    """Remove these events and their claims in one transaction, a revision each."""
    changes = Changes(session, author)
    claims = list(session.scalars(select(Claim.id).where(Claim.event_id.in_(ids))))
    changes.track(Kind.claim, claims)
    changes.track(Kind.event, ids)
    remove(session, Kind.claim, claims)
    remove(session, Kind.event, ids)
    tally.revisions += len(changes.record())
    session.commit()
    tally.removed += len(ids)


def _withdraw(
    session: Session,
    author: str,
    rows: Iterable[Row],
    deletion: Callable[[Row], Deletion],
    tally: _Tally,
    size: int,
    progress: Progress | None,
) -> None:
    """Apply a deletion list batch by batch: each named event held is removed, unless its
    stored upload (`timestamp`) is later than the deletion, which keeps it and says so."""
    batch: dict[str, Deletion] = {}
    first = len(tally.refused)
    files: dict[str, int] = {}

    def flush() -> None:
        stored = stored_documents(session, Kind.event, batch)
        ids = []
        for d in batch.values():
            doc = stored.get(d.event_id)
            uploaded = None if doc is None else doc.get("attributes", {}).get("timestamp")
            if doc is None:
                tally.not_held += 1
            elif isinstance(uploaded, int) and uploaded > d.at:
                reason = (
                    f"{d.event_id!r} was uploaded at {uploaded}, after its deletion at {d.at}; "
                    "the upload is kept"
                )
                tally.refused.append(Refusal(file=d.file, line=d.line, reason=reason))
            else:
                ids.append(d.event_id)
        if ids:
            _remove_events(session, author, sorted(ids), tally)
        batch.clear()

    for row in rows:
        tally.rows += 1
        files.setdefault(row.file, len(files))
        try:
            d = deletion(row)
        except RowRefused as exc:
            tally.refused.append(Refusal(file=row.file, line=row.line, reason=str(exc)))
        else:
            if d.event_id in batch:  # named twice: the later withdrawal is the one kept
                tally.not_held += 1
            batch[d.event_id] = d
            if len(batch) >= size:
                flush()
        if progress is not None:
            progress(tally.rows, len(tally.refused))
    if batch:
        flush()
    # Refusals in the lists' order, whether a row was refused as read or when applied.
    tally.refused[first:] = sorted(tally.refused[first:], key=lambda r: (files[r.file], r.line))


def actor(
    actor_id: str,
    name: str,
    kind: ActorKind,
    aliases: Iterable[str] = (),
    country: str | None = None,
    states: Iterable[str] = (),
    description: str | None = None,
) -> ActorCreate:
    """A dataset actor with its spelling and id as aliases and its states as affiliations."""
    return ActorCreate(
        id=actor_id,
        name=name,
        kind=kind,
        country=country,
        aliases=sorted({a for a in aliases if a and a != name}),
        description=description,
        affiliations=[AffiliationCreate(organization=s, role="government") for s in states],
    )


class States:
    """The state actor of each country (ISO 3166-1 alpha-3) a dataset links governments
    to: the stored state actor of that country when there is one, else a new one."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[str, str] = {}
        self.made: dict[str, ActorCreate] = {}

    def of(self, iso3: str) -> tuple[str, ActorCreate | None]:
        """The state actor's id, and its record when the import makes it (given with every
        row that names it, so that a refused first row leaves no dangling link)."""
        if iso3 in self.known:
            return self.known[iso3], self.made.get(iso3)
        found = self.session.scalar(
            select(Actor.id)
            .where(Actor.kind == ActorKind.state.value, Actor.country == iso3)
            # A dataset's own actor of a state (GDELT's `RUS`) is linked to it, not it.
            .where(*(Actor.id.not_like(f"{d.value}-actor-%") for d in Dataset))
            .order_by(Actor.id)
            .limit(1)
        )
        if found is not None:
            self.known[iso3] = found
            return found, None
        country = pycountry.countries.get(alpha_3=iso3)
        name = getattr(country, "common_name", None) or getattr(country, "name", iso3)
        state_id = f"state-{iso3.lower()}"
        self.known[iso3] = state_id
        self.made[iso3] = ActorCreate(id=state_id, name=name, kind=ActorKind.state, country=iso3)
        return state_id, self.made[iso3]
