"""dataset provenance: claims without an evidence span, the provenance of imported records,
and the attributes of imported events

Revision ID: 6f2a9d4c8e15
Revises: 5b2e8d4f7a19
Create Date: 2026-12-01 21:00:00

Records imported from an event dataset (UCDP GED, GDELT, ACLED) have no text to point
into: a claim's `evidence_start`, `evidence_end` and `evidence_text` become nullable (all
three NULL, or a span as before). Events and claims get their provenance (`dataset`,
`dataset_release`, `dataset_row`; NULL for reporting) and events the dataset's own codes and
coverage figures (`attributes`, JSON text). The history twins get the same columns, and on
PostgreSQL the `past` views of `events` and `claims` are made again with them. Existing rows
keep their values: every stored document reads as before, with null provenance and no
attributes, so no document needs rebuilding.

On SQLite the claims table is rebuilt (its columns' nullability and CHECK change), which
drops the old table: with foreign keys on, that deletes the rows referring to it (figures,
stored documents), so they are kept aside and put back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.migrations import add_dataset_columns

revision: str = "6f2a9d4c8e15"
down_revision: str | None = "5b2e8d4f7a19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROVENANCE = ("dataset", "dataset_release", "dataset_row")
SPAN = ("evidence_start", "evidence_end", "evidence_text")
SPAN_TYPES = {"evidence_start": sa.Integer(), "evidence_end": sa.Integer(), "evidence_text": sa.Text()}
OLD_CHECK = "evidence_start >= 0 AND evidence_end > evidence_start"
NEW_CHECK = (
    "(evidence_start IS NULL AND evidence_end IS NULL AND evidence_text IS NULL) OR "
    "(evidence_start >= 0 AND evidence_end > evidence_start)"
)
# Tables whose rows name a claim with ON DELETE CASCADE (kept aside on SQLite).
CLAIM_CHILDREN = ("quantities", "claim_documents")


def _views(names: Sequence[str]) -> None:
    """PostgreSQL: the `past` view of each of these tables, over its twin's live columns as
    they are now (read from the database, not from the models)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    inspector = sa.inspect(op.get_bind())
    moment = "(NULLIF(current_setting('geoevents.as_of', true), '')::timestamptz)"
    for name in names:
        columns = ", ".join(f'"{c["name"]}"' for c in inspector.get_columns(name))
        op.execute(f"DROP VIEW IF EXISTS past.{name}")
        op.execute(
            f"CREATE VIEW past.{name} AS SELECT {columns} FROM public.{name}_history "
            f"WHERE valid_from <= {moment} AND (valid_to IS NULL OR valid_to > {moment})"
        )


def _claims_rebuilt(change: str) -> None:
    """Change the claims' span columns and their CHECK (`change` 'null' or 'not null')."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    kept: dict[str, list[dict[str, object]]] = {}
    if sqlite:
        for table in CLAIM_CHILDREN:
            rows = bind.execute(sa.text(f"SELECT * FROM {table}"))
            kept[table] = [dict(r._mapping) for r in rows]
    nullable = change == "null"
    with op.batch_alter_table("claims", recreate="always" if sqlite else "auto") as batch:
        batch.drop_constraint("span", type_="check")
        for name in SPAN:
            batch.alter_column(name, existing_type=SPAN_TYPES[name], nullable=nullable)
        batch.create_check_constraint("span", NEW_CHECK if nullable else OLD_CHECK)
    with op.batch_alter_table("claims_history") as batch:
        for name in SPAN:
            batch.alter_column(name, existing_type=SPAN_TYPES[name], nullable=nullable)
    for table, rows in kept.items():
        if rows:
            columns = list(rows[0])
            target = sa.table(table, *(sa.column(c) for c in columns))
            bind.execute(sa.text(f"DELETE FROM {table}"))
            bind.execute(target.insert(), rows)


def upgrade() -> None:
    # Where absent: an earlier revision may have added them (see add_dataset_columns), and a
    # database that took the versions revision has twins made from these models.
    add_dataset_columns(op.get_bind())
    _claims_rebuilt("null")
    _views(("events", "claims"))


def downgrade() -> None:
    bind = op.get_bind()
    imported = bind.execute(sa.text("SELECT count(*) FROM claims WHERE evidence_start IS NULL"))
    if imported.scalar():
        raise RuntimeError(
            "claims imported from datasets have no evidence span; delete them (and their "
            "events) before downgrading below this revision"
        )
    if bind.dialect.name == "postgresql":
        op.execute("DROP VIEW IF EXISTS past.events")
        op.execute("DROP VIEW IF EXISTS past.claims")
    op.drop_index("hx_ix_events_dataset", table_name="events_history")
    op.drop_index("ix_events_dataset", table_name="events")
    _claims_rebuilt("not null")
    # ALTER TABLE … DROP COLUMN on both stores (SQLite 3.35+): no table is rebuilt, so
    # nothing that refers to events or claims is touched.
    for table in ("events", "events_history", "claims", "claims_history"):
        if table.startswith("events"):
            op.drop_column(table, "attributes")
        for name in reversed(PROVENANCE):
            op.drop_column(table, name)
    _views(("events", "claims"))
