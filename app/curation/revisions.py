"""Revisions: every change a write makes, kept as the record's documents before and after
(`Changes`), and the change feed replayed into a database (`replay`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, null, select, update
from sqlalchemy.orm import Session

from app.changes.models import Revision
from app.core import version as data_version
from app.curation.kinds import ORDER, REGISTRY, documents, put, remove
from app.curation.projections import settle
from app.curation.schemas import (
    Kind,
    Op,
)
from app.curation.versions import at_moment


def versions(session: Session, kind: Kind, ids: Iterable[str]) -> dict[str, int]:
    if not REGISTRY[kind].versioned:
        return {}
    model = REGISTRY[kind].model
    rows = session.execute(select(model.id, model.version).where(model.id.in_(list(ids))))
    return {row.id: row.version for row in rows}


STAMP_CHUNK = 500  # records whose version one UPDATE sets


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
        self.versions[kind].update(versions(self.session, kind, new))

    def merged(self, event_id: str, note: str) -> None:
        """Note that an incoming record was merged into this event (a `merged` revision)."""
        self.track(Kind.event, [event_id])
        self.notes.append((event_id, note))

    def record(self, at: datetime | None = None) -> list[Revision]:
        """Append a revision for every touched record that changed; bump versions and the
        data version. Returns the revisions, in the order written. `at` is the write's
        moment when the transaction has one already (a bulk creation earlier in it)."""
        self.session.flush()
        # To the microsecond: as_of tells apart changes a moment apart.
        now = at if at is not None else datetime.now(UTC)
        second = now.replace(microsecond=0)
        written: list[Revision] = []
        for kind in ORDER:
            tracked = self.before.get(kind)
            if not tracked:
                continue
            after = documents(self.session, kind, tracked)
            # Records whose version and times one statement sets: (version, created) -> ids.
            stamped: dict[tuple[int, bool], list[str]] = defaultdict(list)
            for record_id in sorted(tracked):
                old, new = tracked[record_id], after.get(record_id)
                if old == new:
                    continue
                version = self.versions[kind].get(record_id, 0) + 1 if old is not None else 1
                if new is not None and REGISTRY[kind].versioned:
                    stamped[(version, old is None)].append(record_id)
                op = Op.created if old is None else Op.deleted if new is None else Op.updated
                written.append(self._revision(kind, record_id, op, version, old, new, now))
            model = REGISTRY[kind].model
            for (version, created), ids in stamped.items():
                # The record's own times are its revisions' (to the second, as stored), so
                # that it reads the same live, in its history and as of any moment.
                stamps = {"updated_at": second} | ({"created_at": second} if created else {})
                for start in range(0, len(ids), STAMP_CHUNK):
                    self.session.execute(
                        update(model)
                        .where(model.id.in_(ids[start : start + STAMP_CHUNK]))
                        .values(version=version, **stamps)
                    )
        for event_id, note in self.notes:
            current = documents(self.session, Kind.event, [event_id]).get(event_id)
            version = versions(self.session, Kind.event, [event_id]).get(event_id, 1)
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
            at_moment(self.session, now)
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
            before=dump(old),
            after=dump(new),
        )


def dump(doc: dict[str, Any] | None) -> str | None:
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
    """Apply revisions in order to a database: every record as the feed last left it, with
    the versions each write left (app.curation.versions), valid from its revisions' `at`.

    The revisions of one write (one `at`) are applied together, consecutive creations and
    updates of one kind in one batch, as they were first written (events of one bundle may
    link to each other). A record's `created_at` and `updated_at` are those of its first and
    last revision, not the time of the replay."""
    first_seen: dict[tuple[str, str], datetime] = {}
    for moment, group in itertools.groupby(revisions, key=lambda r: r.at):
        _apply(session, list(group), first_seen)
        session.flush()
        at_moment(session, moment)
        settle(session)


def _apply(
    session: Session, revisions: list[Revision], first_seen: dict[tuple[str, str], datetime]
) -> None:
    batch: list[Revision] = []

    def flush() -> None:
        if not batch:
            return
        kind = Kind(batch[0].kind)
        latest = {r.record_id: r for r in batch}
        put(
            session,
            kind,
            [REGISTRY[kind].document.model_validate(load(r.after)) for r in latest.values()],
        )
        if REGISTRY[kind].versioned:
            model = REGISTRY[kind].model
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


FEED = Revision.metadata.tables[Revision.__tablename__]


def creation_row(
    kind: Kind, record_id: str, doc: dict[str, Any], at: datetime, author: str
) -> dict[str, Any]:
    """The feed row of a record's creation: version 1, nothing before, its document after."""
    return {
        "at": at,
        "kind": kind.value,
        "record_id": record_id,
        "event_id": record_id if kind is Kind.event else doc.get("event_id"),
        "op": Op.created.value,
        "version": 1,
        "author": author,
        "before": None,
        "after": dump(doc),
    }


def creation_revisions(session: Session, author: str, chunk: int = 2000) -> int:
    """Give every record that has no revision yet (a bulk load, a database from before
    revisions covered everything) its creation revision: its document now, at its own
    `created_at` (or now, for a kind that keeps none), so that the feed, each history, the
    backups and `as_of` cover it. Returns how many were written."""
    written = 0
    now = datetime.now(UTC)
    for kind in ORDER:
        for part in pending_creations(session, kind, chunk):
            revisions = creation_rows(session, kind, part, now, author)
            if revisions:
                session.connection().execute(insert(FEED), revisions)
                written += len(revisions)
    if written:
        data_version.bump(session)
    return written


Pending = list[tuple[str, datetime | None]]  # records without a revision: id, created_at


def pending_creations(session: Session, kind: Kind, chunk: int) -> list[Pending]:
    """The records of one kind that have no revision yet, with their `created_at` (None for
    a kind that keeps none), in id order, `chunk` at a time."""
    model = REGISTRY[kind].model
    stamped = hasattr(model, "created_at")
    covered = select(Revision.record_id).where(Revision.kind == kind.value)
    pending = select(model.id, model.created_at if stamped else null()).where(
        model.id.not_in(covered)
    )
    rows = [(r[0], r[1]) for r in session.execute(pending.order_by(model.id))]
    return [rows[start : start + chunk] for start in range(0, len(rows), chunk)]


def creation_rows(
    session: Session, kind: Kind, part: Pending, now: datetime, author: str
) -> list[dict[str, Any]]:
    """The creation revisions of these records (those that still exist): each at its own
    `created_at`, or at `now`."""
    docs = documents(session, kind, [record_id for record_id, _ in part])
    return [
        creation_row(kind, record_id, docs[record_id], created or now, author)
        for record_id, created in part
        if record_id in docs
    ]
