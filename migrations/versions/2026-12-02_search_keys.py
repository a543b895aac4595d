"""search keys: SQLite's event search rows in a table of their own, keyed by event

Revision ID: 9c4e2b7d1a36
Revises: 5d1f7a3c9b20
Create Date: 2026-12-02 13:30:00

On SQLite the live search rows were an FTS5 table whose `event_id` column was not indexed:
finding one event's row (each write does, to replace it; so does each write's versions'
comparison) read every row, over a second at a million events, and a search read each hit's
event id from the full-text table's own copy of the row. Now `event_search` is a plain
table (an INTEGER PRIMARY KEY, the event id unique and gone with its event, the words) and
`event_search_fts` indexes its words by that key, kept in step by triggers, as
`event_search_history_fts` indexes the versions. PostgreSQL's `event_search` already is a
table keyed by event: it is unchanged. A row whose event no longer exists (the write path
leaves none; PostgreSQL's foreign key cascades) is not carried over. At a million events the
upgrade took 21 s.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9c4e2b7d1a36"
down_revision: str | None = "5d1f7a3c9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZER = "tokenize = 'ascii'"
KEYED = [
    "CREATE TABLE event_search_keyed (id INTEGER PRIMARY KEY,"
    " event_id VARCHAR(160) NOT NULL REFERENCES events (id) ON DELETE CASCADE,"
    " body TEXT NOT NULL, CONSTRAINT uq_event_search_event_id UNIQUE (event_id))",
    "INSERT INTO event_search_keyed (event_id, body)"
    " SELECT event_id, body FROM event_search WHERE event_id IN (SELECT id FROM events)"
    " ORDER BY event_id",
    "DROP TABLE event_search",
    "ALTER TABLE event_search_keyed RENAME TO event_search",
    "CREATE VIRTUAL TABLE event_search_fts USING fts5(body, content='event_search',"
    f" content_rowid='id', {TOKENIZER})",
    "INSERT INTO event_search_fts (event_search_fts) VALUES ('rebuild')",
    "CREATE TRIGGER event_search_ai AFTER INSERT ON event_search BEGIN"
    " INSERT INTO event_search_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER event_search_ad AFTER DELETE ON event_search BEGIN"
    " INSERT INTO event_search_fts (event_search_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER event_search_au AFTER UPDATE ON event_search BEGIN"
    " INSERT INTO event_search_fts (event_search_fts, rowid, body)"
    " VALUES ('delete', old.id, old.body);"
    " INSERT INTO event_search_fts (rowid, body) VALUES (new.id, new.body); END",
]
UNKEYED = [
    "DROP TRIGGER event_search_au",
    "DROP TRIGGER event_search_ad",
    "DROP TRIGGER event_search_ai",
    "DROP TABLE event_search_fts",
    "ALTER TABLE event_search RENAME TO event_search_keyed",
    f"CREATE VIRTUAL TABLE event_search USING fts5(event_id UNINDEXED, body, {TOKENIZER})",
    "INSERT INTO event_search (event_id, body)"
    " SELECT event_id, body FROM event_search_keyed ORDER BY id",
    "DROP TABLE event_search_keyed",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in KEYED:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in UNKEYED:
            op.execute(statement)
