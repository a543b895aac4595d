"""Search: one grammar for every `q`, one folding of text into words, and each store's form.

A query is parsed once (`parse`) into groups joined by OR; a group holds phrases that must
occur and phrases that must not. A phrase is a run of words in a row: a bare word matches
as a word prefix (`barb` finds "barbaric"); words in quotes match as typed.

Text and queries are folded by the same function (`words`): case folded, accents and other
marks taken off, compatibility forms decomposed (ligatures, full-width letters), and a few
letters without a decomposition mapped to their base (dotless i, ø, ł, đ, æ ...). Words
are runs of letters and digits; everything else separates them. Each record's texts are
stored folded (`search_text`): words joined by single spaces, texts by " · ", so a phrase
never runs from one text into the next. Because the words are decided here, each store only
has to split at spaces: SQLite's FTS5 `ascii` tokenizer does, and on PostgreSQL a function
makes the tsvector from the words as they are (no parser, no dictionary).

- events: the `event_search` rows, one per event (on SQLite a table with its FTS5 index
  `event_search_fts`, kept in step by triggers; on PostgreSQL a tsvector with a GIN index);
  their text is the title, the summary, the actors' names and aliases, and
  each claim's statement, quote, evidence text and speaker's name and aliases.
- claims and actors: their stored documents' `words` column, matched with LIKE on the
  word boundaries the spaces give (a claim: statement, quote, evidence text, speaker's name
  and aliases; an actor: its name and aliases).

The `event_search` table is derived data, rebuilt by the write path for the events a write
touched (app.curation.projections). Its DDL differs per store, so it lives in migrations and
outside the ORM metadata (`is_search_table` keeps schema comparisons from seeing it).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    cast,
    column,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from app.actors.models import Actor, ActorAlias
from app.claims.models import Claim
from app.core.db import UTCDateTime, among, dialect_name, insert_rows, key_chunks
from app.core.temporal import as_of, register
from app.events.models import Event, EventActor

SEARCH_TABLE = sql_table("event_search", column("event_id"), column("body"))
# The search rows' versions, for reads with as_of. Like the live table its DDL is per store
# (migrations make it, with its own full-text index), so it stays out of the ORM metadata.
SEARCH_HISTORY = Table(
    "event_search_history",
    MetaData(),
    Column("event_id", String(160), nullable=False),
    Column("body", Text, nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime(), nullable=True),
)
# The twin as the 2026-12-01 migration first made it (that migration runs these); the
# 2026-12-01 search words migration gives both stores' search tables the word-for-word indexes.
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
BATCH = 1000

# --- folding ----------------------------------------------------------------------------------

# Letters Unicode gives no decomposition, folded to the base letter a reader would type.
_LETTERS = str.maketrans(
    {"\u0131": "i", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "ħ": "h", "ŧ": "t", "ŋ": "n"}
    | {"æ": "ae", "œ": "oe", "þ": "th", "ĸ": "k"}
)
_WORD = re.compile(r"[^\W_]+")  # letters and digits (marks are gone by then)
TEXT_BREAK = "·"  # between two texts of a record: never a word, so no phrase spans it
# Longer words are cut: PostgreSQL refuses lexemes over 2047 bytes, and no `q` (at most 200
# characters) can tell a word from its first 255 characters.
MAX_WORD = 255


def fold(value: str) -> str:
    """Case-folded, compatibility-decomposed, without marks (accents, diacritics)."""
    if value.isascii():
        return value.lower()  # ASCII has no marks nor decompositions, and folds as it lowers
    decomposed = unicodedata.normalize("NFKD", value).casefold().translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", decomposed)
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))


def words(value: str | None) -> list[str]:
    """The folded words of a text: what search matches."""
    text = value or ""
    return list(_short_words(text) if len(text) <= SHORT_TEXT else _words(text))


def _words(value: str) -> tuple[str, ...]:
    return tuple(word[:MAX_WORD] for word in _WORD.findall(fold(value)))


SHORT_TEXT = 200  # the texts whose words are remembered: names, titles, set phrases


@lru_cache(maxsize=65_536)
def _short_words(value: str) -> tuple[str, ...]:
    # Names, aliases and a dataset's set phrases recur in row after row of an import: each
    # is folded once (a bounded cache of short texts, so memory stays flat).
    return _words(value)


def search_text(texts: Iterable[str | None]) -> str:
    """A record's searchable texts as stored: folded words joined by spaces, texts by
    " · ", with a space at each end (so LIKE finds words by their spaces)."""
    parts = [" ".join(found) for found in map(words, texts) if found]
    return f" {f' {TEXT_BREAK} '.join(parts)} " if parts else " "


# --- the grammar ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """Words that must occur in a row in one text; the last as a prefix when `prefix`."""

    words: tuple[str, ...]
    prefix: bool


@dataclass(frozen=True)
class Group:
    """Every `include` phrase occurs and no `exclude` phrase does."""

    include: tuple[Phrase, ...]
    exclude: tuple[Phrase, ...]


Query = tuple[Group, ...]  # a record matches when one group does; none: nothing matches

_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')


def parse(q: str) -> Query:
    """Parse `q` in the web search syntax: words (prefixes) AND-ed, "exact phrases", OR
    between alternatives (binding loosest), -word or -"phrase" to exclude.

    A bare term with punctuation inside (`putin-xi`, `U.S.`) is the phrase of its words. A
    quote left open runs to the end; OR at either end, a lone `-` and terms without letters
    or digits are ignored. A group of exclusions alone matches what lacks them all."""
    groups: list[Group] = []
    include: list[Phrase] = []
    exclude: list[Phrase] = []

    def close() -> None:
        if include or exclude:
            groups.append(Group(tuple(include), tuple(exclude)))
        include.clear()
        exclude.clear()

    for match in _TERM.finditer(q):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None and not negated and bare.casefold() == "or":
            close()
            continue
        found = tuple(words(quoted if quoted is not None else bare))
        if not found:
            continue
        phrase = Phrase(found, prefix=quoted is None)
        (exclude if negated else include).append(phrase)
    close()
    return tuple(groups)


# --- the stores' forms ----------------------------------------------------------------------


def _fts5(phrases: Sequence[Phrase], joiner: str) -> str:
    return joiner.join(f'"{" ".join(p.words)}"{"*" if p.prefix else ""}' for p in phrases)


def _tsquery(phrases: Sequence[Phrase], joiner: str) -> str:
    return joiner.join(
        "("
        + " <-> ".join(
            f"'{w}'{':*' if p.prefix and n == len(p.words) - 1 else ''}"
            for n, w in enumerate(p.words)
        )
        + ")"
        for p in phrases
    )


def fts5_query(groups: Sequence[Group]) -> str:
    """An FTS5 MATCH string for groups that each include a phrase."""
    forms = []
    for group in groups:
        form = f"({_fts5(group.include, ' AND ')})"
        if group.exclude:
            form += f" NOT ({_fts5(group.exclude, ' OR ')})"
        forms.append(f"({form})")
    return " OR ".join(forms)


def tsquery(groups: Sequence[Group]) -> str:
    """A PostgreSQL tsquery (its literal form: the words are taken as they are)."""
    forms = []
    for group in groups:
        parts = [_tsquery(group.include, " & ")] if group.include else []
        parts += [f"!{_tsquery([p], '')}" for p in group.exclude]
        forms.append(f"({' & '.join(parts)})")
    return " | ".join(forms)


def _tsv_matches(groups: Sequence[Group]) -> ColumnElement[bool]:
    """PostgreSQL: the row's tsvector matches the groups."""
    return literal_column("tsv").op("@@")(cast(literal(tsquery(groups)), TSQUERY))


def _fts_rows(index: str, groups: Sequence[Group]) -> Select[Any]:
    """SQLite: the rowids (the keys of the rows indexed) an FTS5 index matches."""
    return (
        select(literal_column("rowid"))
        .select_from(text(index))
        .where(literal_column(index).op("MATCH")(fts5_query(groups)))
    )


def _hits(session: Session, groups: Sequence[Group]) -> Select[Any]:
    """The ids of the events whose search row (as of the session's moment) matches."""
    moment = as_of(session)
    if session.get_bind().dialect.name == "postgresql":
        if moment is None:
            return select(SEARCH_TABLE.c.event_id).where(_tsv_matches(groups))
        return select(SEARCH_HISTORY.c.event_id).where(_tsv_matches(groups), *_valid_at(moment))
    if moment is None:
        return select(SEARCH_TABLE.c.event_id).where(
            literal_column("event_search.id").in_(_fts_rows("event_search_fts", groups))
        )
    return select(SEARCH_HISTORY.c.event_id).where(
        literal_column("event_search_history.id").in_(
            _fts_rows("event_search_history_fts", groups)
        ),
        *_valid_at(moment),
    )


def count_matching(session: Session, q: str) -> int | None:
    """How many events match `q`, counted off the search rows alone: each event has one row
    and none outlives its event (a key and a cascading foreign key on both stores). None
    where that count is not the answer: read as of a moment, or with a group of exclusions
    alone (it matches what has no row matching)."""
    groups = parse(q)
    if as_of(session) is not None or any(not group.include for group in groups):
        return None
    if not groups:
        return 0
    rows: Select[Any] = (
        select(SEARCH_TABLE.c.event_id).where(_tsv_matches(groups))
        if dialect_name(session) == "postgresql"
        else _fts_rows("event_search_fts", groups)
    )
    return int(session.connection().scalar(select(func.count()).select_from(rows.subquery())) or 0)


def _valid_at(moment: datetime) -> list[ColumnElement[bool]]:
    history = SEARCH_HISTORY.c
    return [
        history.valid_from <= moment,
        or_(history.valid_to.is_(None), history.valid_to > moment),
    ]


def matching_events(session: Session, q: str) -> ColumnElement[bool]:
    """Events whose search text matches `q` (read as of a moment: the text they had then)."""
    groups = parse(q)
    if not groups:
        return false()
    conds: list[ColumnElement[bool]] = []
    positive = [g for g in groups if g.include]
    if positive:
        conds.append(Event.id.in_(_hits(session, positive)))
    for group in groups:
        if not group.include:
            # Lacking every excluded phrase: not among the events having any of them.
            having_any = [Group((p,), ()) for p in group.exclude]
            conds.append(Event.id.not_in(_hits(session, having_any)))
    return or_(*conds)


def _like(words_column: Any, phrase: Phrase) -> ColumnElement[bool]:
    end = "" if phrase.prefix else " "
    return words_column.like(f"% {' '.join(phrase.words)}{end}%")  # type: ignore[no-any-return]


def matching(words_column: Any, q: str) -> ColumnElement[bool]:
    """Rows whose stored `words` (see `search_text`) match `q`."""
    groups = parse(q)
    if not groups:
        return false()
    return or_(
        *(
            and_(
                *(_like(words_column, p) for p in group.include),
                *(not_(_like(words_column, p)) for p in group.exclude),
            )
            for group in groups
        )
    )


# --- what is searched -------------------------------------------------------------------------

Bind = Session | Connection


def actor_names(bind: Bind, actor_ids: Iterable[str | None]) -> dict[str, list[str]]:
    """Each actor's name, then its aliases in order."""
    ids = sorted({a for a in actor_ids if a is not None})
    names: dict[str, list[str]] = defaultdict(list)
    if not ids:
        return names
    for actor_id, name in bind.execute(select(Actor.id, Actor.name).where(among(Actor.id, ids))):
        names[actor_id].append(name)
    for actor_id, alias in bind.execute(
        select(ActorAlias.actor_id, ActorAlias.alias)
        .where(among(ActorAlias.actor_id, ids))
        .order_by(ActorAlias.actor_id, ActorAlias.alias)
    ):
        names[actor_id].append(alias)
    return names


def event_rows(bind: Bind, event_ids: Sequence[str]) -> list[dict[str, str]]:
    """The search rows of these events (those that exist): title, summary, the actors'
    names and aliases, then each claim's statement, quote, evidence and speaker's names."""
    listed: dict[str, list[str]] = defaultdict(list)
    for event_id, actor_id in bind.execute(
        select(EventActor.event_id, EventActor.actor_id)
        .where(among(EventActor.event_id, event_ids))
        .order_by(EventActor.event_id, EventActor.position, EventActor.actor_id)
    ):
        if actor_id not in listed[event_id]:
            listed[event_id].append(actor_id)
    claims: dict[str, list[Any]] = defaultdict(list)
    for row in bind.execute(
        select(Claim.event_id, Claim.statement, Claim.quote, Claim.evidence_text, Claim.speaker_id)
        .where(among(Claim.event_id, event_ids))
        .order_by(Claim.event_id, Claim.id)
    ):
        claims[row.event_id].append(row)
    names = actor_names(
        bind,
        [*(a for ids in listed.values() for a in ids)]
        + [c.speaker_id for rows in claims.values() for c in rows],
    )
    rows = []
    for event_id, title, summary in bind.execute(
        select(Event.id, Event.title, Event.summary)
        .where(among(Event.id, event_ids))
        .order_by(Event.id)
    ):
        texts: list[str | None] = [title, summary]
        for actor_id in listed.get(event_id, []):
            texts += names.get(actor_id, [])
        for c in claims.get(event_id, []):
            texts += [c.statement, c.quote, c.evidence_text, *names.get(c.speaker_id, [])]
        rows.append({"event_id": event_id, "body": search_text(texts)})
    return rows


def refresh(bind: Bind, event_ids: Iterable[str]) -> None:
    """Rebuild the search rows of these events from their current rows."""
    ids = sorted(set(event_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = event_rows(bind, chunk)
        bind.execute(delete(SEARCH_TABLE).where(among(SEARCH_TABLE.c.event_id, chunk)))
        insert_rows(bind, SEARCH_TABLE, rows)


def refresh_all(bind: Bind) -> int:
    """Rebuild every event's search row (after a bulk load or a migration); how many."""
    done = 0
    with rebuilding(bind):
        for chunk in key_chunks(bind, Event.id, BATCH):
            bind.execute(insert(SEARCH_TABLE), event_rows(bind, chunk))
            done += len(chunk)
    return done


@contextmanager
def rebuilding(bind: Bind) -> Iterator[None]:
    """Empty the search rows for the body to write them all anew (`event_rows`, inserted).

    On SQLite the triggers that keep `event_search_fts` in step are set aside meanwhile and
    the index rebuilt from the rows in one pass: row by row, the index of 100,000 events took
    79 s where the rebuild takes a few. The triggers are made again from their own stored
    definitions, so the migrations stay their only author."""
    triggers: list[Any] = []
    if dialect_name(bind) == "sqlite":
        triggers = list(
            bind.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"
                ),
                {"t": SEARCH_TABLE.name},
            )
        )
    for name, _ in triggers:
        bind.execute(text(f'DROP TRIGGER "{name}"'))
    bind.execute(delete(SEARCH_TABLE))
    yield
    if triggers:
        bind.execute(text("INSERT INTO event_search_fts (event_search_fts) VALUES ('rebuild')"))
        for _, definition in triggers:
            bind.execute(text(definition))


def is_search_table(name: str) -> bool:
    """Whether a table belongs to the search index (FTS5 adds shadow tables of its own)."""
    return name == "event_search" or name.startswith("event_search_")
