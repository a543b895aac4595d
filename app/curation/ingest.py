"""Ingesting new reporting: a bundle's text, spans and figures verified, its events matched
against those already stored (corroboration), everything written in one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from app.core import version as data_version
from app.core.errors import (
    InvalidParameter,
)
from app.curation import evidence
from app.curation.kinds import documents, put
from app.curation.revisions import Changes
from app.curation.schemas import (
    ClaimDoc,
    EventOutcome,
    IngestBundle,
    IngestReport,
    Kind,
    SourceDoc,
)
from app.curation.seed.schemas import Bundle
from app.events import service as events
from app.events.models import Event, EventActor
from app.events.schemas import EventDoc

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


def verify_bundle(bundle: IngestBundle) -> str:
    """Check every span, quote and number against the source text before anything is
    written; return the text's sha256. 422 naming the first field that disagrees."""
    text = bundle.source.text or ""
    digest = evidence.text_digest(text)
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
    span = claim.evidence
    if span is None:
        raise InvalidParameter(
            "evidence is required: reporting's claims point into the source's text",
            param=f"claims.{claim.id}.evidence",
        )
    found = evidence.span_problem(claim.id, span.start, span.end, span.text, text, len(text))
    if found is not None:
        raise InvalidParameter(found[1], param=f"claims.{claim.id}.evidence")


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
    # A source stored before keeps its text: the bundle's must be the same (or fill its gap).
    source = evidence.prepare_source(session, bundle.source, field="source.text")
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
