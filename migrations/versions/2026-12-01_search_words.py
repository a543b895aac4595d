"""search words: one grammar and one folding for every `q`

Revision ID: 7a3e5c1d9b24
Revises: 7e3a9c51d2b4
Create Date: 2026-12-01 18:00:00

Search text is stored folded (app.search.search_text): the words, case-folded and without
accents, joined by spaces. Each store indexes those words as they are:

- event search rows: on SQLite the FTS5 tables use the `ascii` tokenizer (it splits at the
  spaces and changes nothing else); on PostgreSQL the tsvector is made by
  `geoevents_search_vector`, which takes each word with its position, without a parser.
  The rows are rebuilt with the actors' names and aliases.
- claims' and actors' stored documents get a `words` column (and their versions too).

Versions closed before the upgrade keep their texts, folded: an event's version keeps the
words it had (its actors' names are not reconstructed), a claim's version gets its
speaker's present aliases, an actor's version its aliases of then. Open versions get the
rebuilt text.
"""

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

from app import search
from app.core.migrations import add_dataset_columns
from app.core.temporal import (
    MOMENT_SETTING,
    PAST_SCHEMA,
    REGISTRY,
    Versioned,
    postgresql_views,
    view_select,
)
from app.curation import projections
from app.models import HISTORY  # noqa: F401  (declares the twins)

revision: str = "7a3e5c1d9b24"
down_revision: str | None = "7e3a9c51d2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENTS = {"claim_documents": "claim_id", "actor_documents": "actor_id"}
SQLITE_TOKENIZER = "tokenize = 'ascii'"
OLD_SQLITE_TOKENIZER = "tokenize = 'unicode61 remove_diacritics 2'"
VECTOR_FUNCTION = (
    "CREATE OR REPLACE FUNCTION geoevents_search_vector(body text) RETURNS tsvector"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$"
    " SELECT coalesce(string_agg('''' || word || ''':' || least(n, 16383), ' ')::tsvector,"
    " ''::tsvector)"
    " FROM unnest(string_to_array(body, ' ')) WITH ORDINALITY AS t(word, n)"
    " WHERE word <> '' $$"
)
# The live rows as the first search migration made them, for a downgrade.
OLD_DOCUMENTS = {
    "postgresql": (
        "INSERT INTO event_search (event_id, body) SELECT e.id, concat_ws(E'\\n', e.title,"
        " e.summary, string_agg(concat_ws(E'\\n', c.statement, c.quote, c.evidence_text),"
        " E'\\n' ORDER BY c.id)) FROM events e LEFT JOIN claims c ON c.event_id = e.id"
        " GROUP BY e.id, e.title, e.summary"
    ),
    "sqlite": (
        "INSERT INTO event_search (event_id, body) SELECT e.id, e.title || char(10) ||"
        " coalesce(e.summary, '') || char(10) || coalesce(group_concat(c.statement || char(10)"
        " || coalesce(c.quote, '') || char(10) || c.evidence_text, char(10)), '')"
        " FROM events e LEFT JOIN claims c ON c.event_id = e.id"
        " GROUP BY e.id, e.title, e.summary"
    ),
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _vector(table: str, index: str, expression: str) -> None:
    op.execute(f"ALTER TABLE {table} DROP COLUMN tsv")
    op.execute(
        f"ALTER TABLE {table} ADD COLUMN tsv TSVECTOR GENERATED ALWAYS AS ({expression}) STORED"
    )
    op.execute(f"CREATE INDEX {index} ON {table} USING gin (tsv)")


def _sqlite_tables(tokenizer: str) -> None:
    op.execute("DROP TABLE event_search")
    op.execute(
        f"CREATE VIRTUAL TABLE event_search USING fts5(event_id UNINDEXED, body, {tokenizer})"
    )
    op.execute("DROP TABLE event_search_history_fts")
    op.execute(
        "CREATE VIRTUAL TABLE event_search_history_fts USING fts5(body,"
        f" content='event_search_history', content_rowid='id', {tokenizer})"
    )


def _claim_words(item: dict[str, Any], aliases: dict[str, list[str]]) -> str:
    speaker = item.get("speaker") or {}
    names = [speaker.get("name"), *aliases.get(speaker.get("id", ""), [])[1:]]
    evidence = item.get("evidence") or {}
    return search.search_text(
        [item.get("statement"), item.get("quote"), evidence.get("text"), *names]
    )


def _actor_words(item: dict[str, Any], aliases: dict[str, list[str]]) -> str:
    return search.search_text([item.get("name"), *(item.get("aliases") or [])])


def _fill_documents(bind: sa.Connection) -> None:
    """The live documents rebuilt; closed versions' words from their own items."""
    for kind in ("claim", "actor"):
        projections.project_all(bind, kind)
    names = search.actor_names(bind, bind.execute(sa.text("SELECT id FROM actors")).scalars())
    for table, key in DOCUMENTS.items():
        history = f"{table}_history"
        words = _claim_words if table == "claim_documents" else _actor_words
        rows = bind.execute(
            sa.text(f"SELECT {key}, valid_from, item FROM {history} WHERE valid_to IS NOT NULL")
        ).all()
        update = sa.text(
            f"UPDATE {history} SET words = :words WHERE {key} = :key AND valid_from = :at"
        )
        for start in range(0, len(rows), search.BATCH):
            bind.execute(
                update,
                [
                    {"words": words(orjson.loads(item), names), "key": k, "at": at}
                    for k, at, item in rows[start : start + search.BATCH]
                ],
            )
        bind.execute(
            sa.text(
                f"UPDATE {history} SET words = (SELECT d.words FROM {table} AS d"
                f" WHERE d.{key} = {history}.{key}) WHERE valid_to IS NULL"
            )
        )
        bind.execute(sa.text(f"UPDATE {history} SET words = ' ' WHERE words IS NULL"))


def _fill_search(bind: sa.Connection) -> None:
    """The live search rows rebuilt; closed versions' texts folded as they are."""
    search.refresh_all(bind)
    rows = bind.execute(
        sa.text(
            "SELECT event_id, valid_from, body FROM event_search_history WHERE valid_to IS NOT NULL"
        )
    ).all()
    update = sa.text(
        "UPDATE event_search_history SET body = :body WHERE event_id = :key AND valid_from = :at"
    )
    for start in range(0, len(rows), search.BATCH):
        bind.execute(
            update,
            [
                {"body": search.search_text(body.split("\n")), "key": k, "at": at}
                for k, at, body in rows[start : start + search.BATCH]
            ],
        )
    bind.execute(
        sa.text(
            "UPDATE event_search_history SET body = coalesce((SELECT s.body FROM event_search AS s"
            " WHERE s.event_id = event_search_history.event_id), ' ') WHERE valid_to IS NULL"
        )
    )


def upgrade() -> None:
    bind = op.get_bind()
    # The projections of this code (which fill the words) read the columns a later
    # revision adds (dataset_provenance); they are added first where absent, as it would.
    add_dataset_columns(bind)
    inspector = sa.inspect(bind)
    for table in DOCUMENTS:
        for name in (table, f"{table}_history"):
            if "words" not in {c["name"] for c in inspector.get_columns(name)}:
                with op.batch_alter_table(name) as batch:
                    batch.add_column(sa.Column("words", sa.Text(), nullable=True))
    _fill_documents(bind)
    for table in DOCUMENTS:
        for name in (table, f"{table}_history"):
            with op.batch_alter_table(name) as batch:
                batch.alter_column("words", existing_type=sa.Text(), nullable=False)
    if _postgres():
        op.execute(VECTOR_FUNCTION)
        _vector("event_search", "ix_event_search_tsv", "geoevents_search_vector(body)")
        _vector("event_search_history", "hx_event_search_tsv", "geoevents_search_vector(body)")
        _fill_search(bind)
        for statement in postgresql_views(DOCUMENTS):
            op.execute(statement)
    else:
        _sqlite_tables(SQLITE_TOKENIZER)
        _fill_search(bind)
        op.execute(
            "INSERT INTO event_search_history_fts (event_search_history_fts) VALUES ('rebuild')"
        )


def downgrade() -> None:
    bind = op.get_bind()
    postgres = _postgres()
    if postgres:
        for table in DOCUMENTS:
            op.execute(f"DROP VIEW IF EXISTS {PAST_SCHEMA}.{table}")
    for table in DOCUMENTS:
        for name in (table, f"{table}_history"):
            with op.batch_alter_table(name) as batch:
                batch.drop_column("words")
    if postgres:
        moment = f"(NULLIF(current_setting('{MOMENT_SETTING}', true), '')::timestamptz)"
        for table in DOCUMENTS:
            entry = REGISTRY[table]
            before = Versioned(
                entry.name,
                entry.history,
                tuple(c for c in entry.columns if c != "words"),
                entry.key,
            )
            select_sql = view_select(before, moment).replace(" FROM ", " FROM public.", 1)
            op.execute(f"CREATE VIEW {PAST_SCHEMA}.{table} AS {select_sql}")
        _vector("event_search", "ix_event_search_tsv", "to_tsvector('simple', body)")
        _vector("event_search_history", "hx_event_search_tsv", "to_tsvector('simple', body)")
        op.execute("DROP FUNCTION geoevents_search_vector(text)")
        op.execute("DELETE FROM event_search")
        op.execute(OLD_DOCUMENTS["postgresql"])
    else:
        _sqlite_tables(OLD_SQLITE_TOKENIZER)
        op.execute(OLD_DOCUMENTS["sqlite"])
        op.execute(
            "INSERT INTO event_search_history_fts (event_search_history_fts) VALUES ('rebuild')"
        )
