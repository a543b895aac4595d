"""event lines: each event's list item stored as its line of the CSV export

Revision ID: cb1c85269059
Revises: 9ce378ae7e85
Create Date: 2026-12-02 02:00:00

`event_lines` holds each event's item as one CSV line with every column, so a CSV export of
every column concatenates stored lines as the JSON and NDJSON exports concatenate stored
items, instead of parsing and reshaping each item. A table of its own rather than a column
of `event_documents`: its rows are small, so an export reads few pages, and filling it
appends rows instead of growing every stored document. Versioned like the documents: the
upgrade gives each version of an event's documents a version of its line over the same
interval, made from that version's item, so a CSV export as of a past moment reads the
lines of then. The lines are made by this code's CSV layout in batches (the collector off
meanwhile: a batch is thousands of parsed documents).
"""

import gc
from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from alembic import op

from app.core.temporal import PAST_SCHEMA, REGISTRY, postgresql_views
from app.events.schemas import EventRead
from app.models import HISTORY  # noqa: F401  (declares the twins)
from app.web.formats import csv_lines

revision: str = "cb1c85269059"
down_revision: str | None = "9ce378ae7e85"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "event_lines"
BATCH = 5000
# Where each table's lines come from: the documents' table, its key, and what else of a
# version is carried over.
SOURCES = {
    TABLE: ("event_documents", ("event_id",), ()),
    f"{TABLE}_history": ("event_documents_history", ("event_id", "valid_from"), ("valid_to",)),
}


def _fill(bind: sa.Connection, target: str) -> None:
    source, key, carried = SOURCES[target]
    columns = [*key, *carried]
    names = ", ".join(columns)
    insert = sa.text(
        f"INSERT INTO {target} ({names}, csv) VALUES "
        f"({', '.join(f':{c}' for c in columns)}, :csv)"
    )
    last: tuple[object, ...] | None = None
    while True:
        params: dict[str, object] = {"n": BATCH}
        after = ""
        if last is not None:
            after = f"WHERE ({', '.join(key)}) > ({', '.join(f':l_{k}' for k in key)})"
            params |= {f"l_{k}": v for k, v in zip(key, last, strict=True)}
        rows = bind.execute(
            sa.text(f"SELECT {names}, item FROM {source} {after} ORDER BY {', '.join(key)} LIMIT :n"),
            params,
        ).all()
        if not rows:
            return
        lines = csv_lines(EventRead, [orjson.loads(row[-1]) for row in rows])
        bind.execute(
            insert,
            [
                dict(zip(columns, row[:-1], strict=True)) | {"csv": line}
                for row, line in zip(rows, lines, strict=True)
            ],
        )
        last = tuple(row for row in rows[-1][: len(key)])


def upgrade() -> None:
    bind = op.get_bind()
    # Where absent, and filled whole: a database written by this code's write path at an
    # older revision already has the tables (app.core.migrations.add_dataset_columns) and
    # some lines in them.
    if not sa.inspect(bind).has_table(TABLE):
        op.create_table(
            TABLE,
            sa.Column("event_id", sa.String(length=160), nullable=False),
            sa.Column("csv", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["event_id"],
                ["events.id"],
                name=op.f(f"fk_{TABLE}_event_id_events"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("event_id", name=op.f(f"pk_{TABLE}")),
        )
    REGISTRY[TABLE].history.create(bind, checkfirst=True)
    op.execute(f"DELETE FROM {TABLE}_history")
    op.execute(f"DELETE FROM {TABLE}")
    if bind.dialect.name == "postgresql":
        for statement in postgresql_views([TABLE]):
            op.execute(statement)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for target in SOURCES:
            _fill(bind, target)
    finally:
        if collecting:
            gc.enable()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP VIEW IF EXISTS {PAST_SCHEMA}.{TABLE}")
    REGISTRY[TABLE].history.drop(bind)
    op.drop_table(TABLE)
