"""Full-text search over events: SQLite FTS5 or PostgreSQL tsvector, behind one function.

The `event_search` table holds one document per event (its title, summary and every claim's
statement, quote and evidence text). It is derived data: `refresh` rebuilds the documents of
the events a write touched. Its DDL differs per store, so it lives in a migration and outside
the ORM metadata (`is_search_table` keeps schema comparisons from seeing it).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Select,
    String,
    Table,
    Text,
    column,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import table as sql_table
from sqlalchemy.orm import Session

from app.claims.models import Claim
from app.core.db import UTCDateTime
from app.core.temporal import as_of, register
from app.events.models import Event

SEARCH_TABLE = sql_table("event_search", column("event_id"), column("body"))
# The search rows' versions, for reads with as_of. Like the live table its DDL is per store
# (a migration makes it, with its own full-text index), so it stays out of the ORM metadata.
SEARCH_HISTORY = Table(
    "event_search_history",
    MetaData(),
    Column("event_id", String(160), nullable=False),
    Column("body", Text, nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime(), nullable=True),
)
SQLITE_HISTORY_DDL = [
    # An INTEGER PRIMARY KEY: the full-text index refers to rows by it, and VACUUM keeps it.
    "CREATE TABLE event_search_history (id INTEGER PRIMARY KEY, event_id VARCHAR(160) NOT NULL,"
    " body TEXT NOT NULL, valid_from DATETIME NOT NULL, valid_to DATETIME,"
    " UNIQUE (event_id, valid_from))",
    "CREATE INDEX hx_event_search_key ON event_search_history (event_id, valid_from, valid_to)",
    "CREATE VIRTUAL TABLE event_search_history_fts USING fts5(body, content='event_search_history',"
    " content_rowid='id', tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER event_search_history_ai AFTER INSERT ON event_search_history BEGIN"
    " INSERT INTO event_search_history_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER event_search_history_ad AFTER DELETE ON event_search_history BEGIN"
    " INSERT INTO event_search_history_fts (event_search_history_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body); END",
]
POSTGRESQL_HISTORY_DDL = [
    "CREATE TABLE event_search_history (event_id VARCHAR(160) NOT NULL, body TEXT NOT NULL,"
    " valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ,"
    " tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,"
    " PRIMARY KEY (event_id, valid_from))",
    "CREATE INDEX hx_event_search_key ON event_search_history (event_id, valid_from, valid_to)",
    "CREATE INDEX hx_event_search_tsv ON event_search_history USING gin (tsv)",
]
register("event_search", SEARCH_HISTORY, ("event_id", "body"), ("event_id",))
MAX_TERMS = 10
_WORD = re.compile(r"\w+", re.UNICODE)


def is_search_table(name: str) -> bool:
    """Whether a table belongs to the search index (FTS5 adds shadow tables of its own)."""
    return name == "event_search" or name.startswith("event_search_")


def terms(q: str | None) -> list[str]:
    """The words of a query, case-folded: what every match must contain (as a word prefix)."""
    return _WORD.findall((q or "").casefold())[:MAX_TERMS]


def matching_events(session: Session, q: str) -> ColumnElement[bool]:
    """Events whose document contains every word of `q`, each as a word or word prefix.

    A query with no word characters matches nothing. Read as of a moment, the words are
    those the event had then (the search rows' versions), matched by the same rule.
    """
    words = terms(q)
    if not words:
        return false()
    moment = as_of(session)
    if session.get_bind().dialect.name == "postgresql":
        query = " & ".join(f"{word}:*" for word in words)
        if moment is not None:
            return Event.id.in_(
                select(SEARCH_HISTORY.c.event_id).where(
                    literal_column("event_search_history.tsv").op("@@")(
                        func.to_tsquery("simple", query)
                    ),
                    *_valid_at(moment),
                )
            )
        hits = select(SEARCH_TABLE.c.event_id).where(
            literal_column("event_search.tsv").op("@@")(func.to_tsquery("simple", query))
        )
    else:
        query = " ".join(f'"{word}"*' for word in words)
        if moment is not None:
            found: Select[Any] = select(literal_column("rowid")).where(
                literal_column("event_search_history_fts").op("MATCH")(query)
            )
            return Event.id.in_(
                select(SEARCH_HISTORY.c.event_id).where(
                    literal_column("event_search_history.id").in_(
                        found.select_from(text("event_search_history_fts"))
                    ),
                    *_valid_at(moment),
                )
            )
        hits = select(SEARCH_TABLE.c.event_id).where(
            literal_column("event_search").op("MATCH")(query)
        )
    return Event.id.in_(hits)


def _valid_at(moment: datetime) -> list[ColumnElement[bool]]:
    history = SEARCH_HISTORY.c
    return [
        history.valid_from <= moment,
        or_(history.valid_to.is_(None), history.valid_to > moment),
    ]


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
