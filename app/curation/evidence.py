"""Evidence against its source's text, on every path that writes (the write API, ingest, the
seed, a replay of the feed): a span is exactly the source's words at its offsets, and a
source's text, once stored, is the one its spans index.

A source's text is set once. A source stored without it may be given it later (a PATCH, an
ingest, the seed, the migration that stores the seed article), provided that it is the text
the source's sha256 and length describe and that every span already citing the source is
that text at its offsets. A stored text is never replaced or removed: evidence offsets and
the sha256 point into it, so a different text is a different source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.models import Claim
from app.core.errors import InvalidParameter
from app.curation.schemas import ClaimDoc, SourceDoc
from app.sources.models import Source

# How much of the source's words a refusal quotes.
SHOWN = 80


def text_digest(text: str) -> str:
    """The SHA-256 (hex) of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _shown(text: str) -> str:
    return repr(text if len(text) <= SHOWN else text[:SHOWN] + "…")


def span_problem(
    claim_id: str, start: int, end: int, words: str, text: str | None, length: int | None
) -> tuple[str, str] | None:
    """What is wrong with a span of a source with this text (or only this length, when the
    text is not stored), as (field, sentence); None when nothing is."""
    if length is not None and end > length:
        return "end", (
            f"evidence of claim {claim_id!r} ends at {end}, past the end of its source's text "
            f"({length} characters)"
        )
    if text is not None and text[start:end] != words:
        return "text", (
            f"evidence.text of claim {claim_id!r} is {_shown(words)}, but the source's text "
            f"at [{start}:{end}] reads {_shown(text[start:end])}"
        )
    return None


def check_claims(session: Session, claims: Sequence[ClaimDoc]) -> None:
    """422 naming the field (`evidence.text`, `evidence.end`) of the first claim whose span
    is not its source's text at its offsets, or runs past its end. A source that does not
    exist is left to the reference checks."""
    if not claims:
        return
    wanted = sorted({c.source_id for c in claims})
    sources = {
        row.id: row
        for row in session.execute(
            select(Source.id, Source.text, Source.text_length).where(Source.id.in_(wanted))
        )
    }
    for claim in claims:
        source = sources.get(claim.source_id)
        span = claim.evidence
        if source is None or span is None:
            continue
        found = span_problem(
            claim.id, span.start, span.end, span.text, source.text, source.text_length
        )
        if found is not None:
            part, detail = found
            raise InvalidParameter(detail, param=f"evidence.{part}")


def prepare_source(session: Session, doc: SourceDoc, field: str = "text") -> SourceDoc:
    """The source as it is stored: with a text, the sha256 and length computed from it. 422
    naming `field` when the text would replace or remove a stored one, is not the one the
    source's sha256 and length describe, or is not the words of a span that already cites
    the source."""
    stored = session.execute(select(Source.text).where(Source.id == doc.id)).first()
    if stored is not None and stored.text is not None:
        if doc.text is None:
            raise InvalidParameter(
                f"source {doc.id!r} has its text stored, and a stored text is never removed: "
                "evidence points into it",
                param=field,
            )
        if doc.text != stored.text:
            raise InvalidParameter(
                f"source {doc.id!r} has its text stored already, and a stored text is never "
                "replaced: evidence offsets and the sha256 point into it. A different text is "
                "a different source: create one",
                param=field,
            )
    prepared = prepare_new_source(doc, field)
    if doc.text is not None and stored is not None and stored.text is None:
        citing = session.execute(
            select(Claim.id, Claim.evidence_start, Claim.evidence_end, Claim.evidence_text)
            .where(Claim.source_id == doc.id)
            .order_by(Claim.evidence_start, Claim.id)
        )
        for claim in citing:
            found = span_problem(
                claim.id,
                claim.evidence_start,
                claim.evidence_end,
                claim.evidence_text,
                doc.text,
                len(doc.text),
            )
            if found is not None:
                raise InvalidParameter(
                    f"{field} is not the text that claims of source {doc.id!r} cite: {found[1]}",
                    param=field,
                )
    return prepared


def prepare_new_source(doc: SourceDoc, field: str = "text") -> SourceDoc:
    """A source that is not stored yet as it is stored (`prepare_source` without the checks
    against a stored text): with a text, the sha256 and length computed from it; 422 naming
    `field` when they are not the ones the document gives."""
    if doc.text is None:
        return doc
    digest = text_digest(doc.text)
    if doc.sha256 is not None and doc.sha256 != digest:
        raise InvalidParameter(
            f"{field} is not the document source {doc.id!r} describes: its SHA-256 is "
            f"{digest}, the source's sha256 is {doc.sha256}",
            param=field,
        )
    if doc.text_length is not None and doc.text_length != len(doc.text):
        raise InvalidParameter(
            f"{field} has {len(doc.text)} characters; source {doc.id!r} has text_length "
            f"{doc.text_length}",
            param=field,
        )
    return doc.model_copy(update={"sha256": digest, "text_length": len(doc.text)})
