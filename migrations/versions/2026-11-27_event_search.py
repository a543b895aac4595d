"""event search

A full-text index of events, in each store's own form: an FTS5 virtual table on SQLite, a
table with a generated tsvector and a GIN index on PostgreSQL (see app/search.py).

Revision ID: 169de7ff7fa6
Revises: 08b17f308869
Create Date: 2026-11-27 14:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "169de7ff7fa6"
down_revision: str | None = "08b17f308869"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One document per event: title, summary, then each claim's statement, quote and evidence.
DOCUMENTS = """
SELECT e.id, {concat}
FROM events e LEFT JOIN claims c ON c.event_id = e.id
GROUP BY e.id, e.title, e.summary
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE event_search ("
            " event_id VARCHAR(160) PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,"
            " body TEXT NOT NULL,"
            " tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)"
        )
        op.execute("CREATE INDEX ix_event_search_tsv ON event_search USING gin (tsv)")
        concat = (
            "concat_ws(E'\\n', e.title, e.summary, string_agg(concat_ws(E'\\n', c.statement,"
            " c.quote, c.evidence_text), E'\\n' ORDER BY c.id))"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE event_search USING fts5("
            "event_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')"
        )
        concat = (
            "e.title || char(10) || coalesce(e.summary, '') || char(10) || coalesce(group_concat("
            "c.statement || char(10) || coalesce(c.quote, '') || char(10) || c.evidence_text,"
            " char(10)), '')"
        )
    op.execute(
        "INSERT INTO event_search (event_id, body) " + DOCUMENTS.format(concat=concat)
    )


def downgrade() -> None:
    op.execute("DROP TABLE event_search")
