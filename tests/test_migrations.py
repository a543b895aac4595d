"""Migrations: upgrade → downgrade → upgrade on an empty database, and no drift from models."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.core.db import Base, make_engine
from app.core.migrations import alembic_config, head_revision
from app.search import is_search_table


def _not_search(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return not (table is not None and is_search_table(str(table.name)))


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_without_drift(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    model_tables = {t.name for t in Base.metadata.sorted_tables}
    tables = {t for t in _tables(scratch_url) if not is_search_table(t)}
    assert tables == model_tables | {"alembic_version"}
    assert "event_search" in _tables(scratch_url)
    command.downgrade(config, "base")
    assert _tables(scratch_url) <= {"alembic_version"}
    command.upgrade(config, "head")
    engine = make_engine(scratch_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": _not_search}
            )
            assert compare_metadata(context, Base.metadata) == []
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert version == head_revision()
    finally:
        engine.dispose()
