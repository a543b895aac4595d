"""The write API: create, change and delete one record, with If-Match, references and
evidence checked, and POSTs answered once per Idempotency-Key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.actors.models import Actor
from app.actors.schemas import ActorCreate
from app.changes.models import IdempotentRequest
from app.claims.models import Claim
from app.core import version as data_version
from app.core.db import utcnow
from app.core.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    invalid_input,
)
from app.curation.kinds import REGISTRY, documents, put, remove
from app.curation.revisions import Changes
from app.curation.schemas import (
    ClaimDoc,
    Kind,
)
from app.events.models import Event, EventRelation
from app.events.schemas import EventDoc
from app.locations.models import Location
from app.sources.models import Source


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
    model = REGISTRY[kind].model
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
    """422 naming the field when a document points at records that do not exist (a claim's
    evidence is checked where claims are written)."""
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
    # A claim's span is checked against its source's text where claims are written
    # (app.curation.store.put_claims), for every path that writes one.


def _grouped(needs: list[tuple[Any, str, str]]) -> dict[Any, list[str]]:
    ids: dict[Any, list[str]] = defaultdict(list)
    for model, record_id, _ in needs:
        ids[model].append(record_id)
    return ids


def create(
    session: Session, author: str, kind: Kind, doc: BaseModel, claims: Sequence[ClaimDoc] = ()
) -> None:
    """Write a new record (an event with its claims); 409 when the id is taken."""
    record_id = str(doc.model_dump(include={"id"})["id"])
    model = REGISTRY[kind].model
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
        doc = REGISTRY[kind].document.model_validate(merged)
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
    """A 422 naming the fields a validation error points at, in the API's words."""
    return invalid_input(exc.errors())


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
