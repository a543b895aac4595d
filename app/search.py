"""Full-text search over events: SQLite FTS5 or PostgreSQL tsvector, behind one function.

The `event_search` table holds one document per event (its title, summary and every claim's
statement, quote and evidence text). It is derived data: `refresh` rebuilds the documents of
the events a write touched. Its DDL differs per store, so it lives in a migration and outside
the ORM metadata (`is_search_table` keeps schema comparisons from seeing it).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    and_,
    column,
    delete,
    false,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy import table as sql_table
from sqlalchemy.orm import Session

from app.claims.models import Claim
from app.core.db import Base, UTCDateTime
from app.core.temporal import as_of, register
from app.events.models import Event

SEARCH_TABLE = sql_table("event_search", column("event_id"), column("body"))
# The search rows' versions, for reads with as_of: each event's words, case-folded, one
# space before each and one after the last, so that "a word starting with w" is
# LIKE '% w%' on either store.
SEARCH_HISTORY = Table(
    "event_search_history",
    Base.metadata,
    Column("event_id", String(160), nullable=False),
    Column("body", Text, nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime(), nullable=True),
    PrimaryKeyConstraint("event_id", "valid_from", name="pk_event_search_history"),
    Index("hx_event_search_open", "event_id", "valid_to"),
)
register("event_search", SEARCH_HISTORY, ("event_id", "body"), ("event_id",))
MAX_TERMS = 10
_WORD = re.compile(r"\w+", re.UNICODE)


def is_search_table(name: str) -> bool:
    """Whether a table belongs to the search index (FTS5 adds shadow tables of its own)."""
    if name == "event_search_history":  # the search rows' versions: an ordinary table
        return False
    return name == "event_search" or name.startswith("event_search_")


def terms(q: str | None) -> list[str]:
    """The words of a query, case-folded: what every match must contain (as a word prefix)."""
    return _WORD.findall((q or "").casefold())[:MAX_TERMS]


def words(body: str) -> str:
    """An event's searchable text as its versions keep it (see SEARCH_HISTORY)."""
    return "".join(f" {word}" for word in _WORD.findall(body.casefold())) + " "


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching_events(session: Session, q: str) -> ColumnElement[bool]:
    """Events whose document contains every word of `q`, each as a word or word prefix.

    A query with no word characters matches nothing. Read as of a moment, the words are
    those the event had then (the search rows' versions), matched by the same rule.
    """
    words = terms(q)
    if not words:
        return false()
    if as_of(session) is not None:
        past = select(SEARCH_TABLE.c.event_id).where(
            and_(*(SEARCH_TABLE.c.body.like(f"% {_escaped(w)}%", escape="\\") for w in words))
        )
        return Event.id.in_(past)
    if session.get_bind().dialect.name == "postgresql":
        query = " & ".join(f"{word}:*" for word in words)
        hits = select(SEARCH_TABLE.c.event_id).where(
            literal_column("event_search.tsv").op("@@")(func.to_tsquery("simple", query))
        )
    else:
        query = " ".join(f'"{word}"*' for word in words)
        hits = select(SEARCH_TABLE.c.event_id).where(
            literal_column("event_search").op("MATCH")(query)
        )
    return Event.id.in_(hits)


def document(title: str, summary: str | None, texts: list[str | None]) -> str:
    """The searchable text of one event."""
    return "\n".join(part for part in (title, summary, *texts) if part)


def refresh(session: Session, event_ids: list[str]) -> None:
    """Rebuild the documents of these events from their current rows."""
    if not event_ids:
        return
    texts: dict[str, list[str | None]] = {event_id: [] for event_id in event_ids}
    for event_id, statement, quote, evidence in session.execute(
        select(Claim.event_id, Claim.statement, Claim.quote, Claim.evidence_text)
        .where(Claim.event_id.in_(event_ids))
        .order_by(Claim.event_id, Claim.id)
    ):
        if event_id is not None:
            texts[event_id] += [statement, quote, evidence]
    rows: list[dict[str, Any]] = [
        {"event_id": event_id, "body": document(title, summary, texts[event_id])}
        for event_id, title, summary in session.execute(
            select(Event.id, Event.title, Event.summary).where(Event.id.in_(event_ids))
        )
    ]
    session.execute(delete(SEARCH_TABLE).where(SEARCH_TABLE.c.event_id.in_(event_ids)))
    if rows:
        session.execute(insert(SEARCH_TABLE), rows)
