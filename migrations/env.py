"""Alembic environment: the app's metadata, its URL mapping, batch mode on SQLite."""

from typing import Any

from alembic import context
from sqlalchemy import Connection

from app.core.config import get_settings
from app.core.db import UTCDateTime, make_engine, sqlalchemy_url
from app.models import Base
from app.search import is_search_table

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url") or get_settings().database_url
    return str(url)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render app column types as the plain SQLAlchemy types they store, so migrations never
    import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave the search index (store-specific DDL, outside the metadata) to its migration."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return not (table is not None and is_search_table(str(table.name)))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_object=include_object,
    )


def run_offline() -> None:
    """Emit SQL to stdout instead of running it."""
    context.configure(
        url=sqlalchemy_url(_url()),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run migrations on a connection (the caller's, when one is passed in)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
