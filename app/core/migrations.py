"""Alembic, pointed at this project's migrations."""

from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from app.core.config import PROJECT_ROOT
from app.core.db import Base


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's configuration for this project, pointed at a database when given one."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


@cache
def head_revision() -> str:
    """The newest migration revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


# The columns the dataset_provenance revision adds (table -> name, SQL type): an earlier
# revision that writes through the write path (seed_source_text) needs them first, since the
# write path of this code reads and writes them.
DATASET_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    table: (
        ("dataset", "VARCHAR(20)"),
        ("dataset_release", "VARCHAR(100)"),
        ("dataset_row", "INTEGER"),
        *((("attributes", "TEXT"),) if table.startswith("events") else ()),
    )
    for table in ("events", "events_history", "claims", "claims_history")
}
# The tables later revisions add and fill which this code's write path keeps (the network's
# pair periods, the events' CSV lines, and their twins): an earlier revision that writes
# through it needs them first, as it needs the dataset columns. Made where absent from the
# models' metadata, empty: their revisions fill them whole.
LATER_TABLES = (
    "network_pair_periods",
    "network_pair_periods_history",
    "event_lines",
    "event_lines_history",
)
DATASET_INDEXES = (
    ("ix_events_dataset", "events", "dataset"),
    ("hx_ix_events_dataset", "events_history", "dataset, valid_from, valid_to"),
)


def add_dataset_columns(bind: Connection) -> None:
    """Add what this code's write path writes and later revisions add, where it is absent:
    the dataset provenance columns and their indexes (ALTER TABLE … ADD COLUMN on both
    stores: no table is rebuilt), and the tables of LATER_TABLES."""
    inspector = inspect(bind)
    for name in LATER_TABLES:
        if name in Base.metadata.tables:
            Base.metadata.tables[name].create(bind, checkfirst=True)
    for table, columns in DATASET_COLUMNS.items():
        present = {c["name"] for c in inspector.get_columns(table)}
        for name, type_ in columns:
            if name not in present:
                bind.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {type_}"))
    for index, table, keys in DATASET_INDEXES:
        if index not in {i["name"] for i in inspect(bind).get_indexes(table)}:
            bind.execute(text(f"CREATE INDEX {index} ON {table} ({keys})"))
