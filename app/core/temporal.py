"""Versions with validity intervals: the past of every table a read consults, kept beside it.

Each versioned table `t` has a twin `t_history` with the same columns plus `valid_from` and
`valid_to` (the SQL:2011 application-time pattern): a version holds from `valid_from` up to,
not including, `valid_to`; the current one has no `valid_to`. The write path opens and
closes versions in the transaction that changes the rows (app.curation.versions).

A read with `as_of` runs its usual statement on a connection where each versioned table's
name resolves to a view of its twin at that moment (`past_session`):

- PostgreSQL: views of the same names in the schema `past` (made by the migration), first on
  the transaction's `search_path`; the moment is the transaction's `geoevents.as_of` setting.
- SQLite: temporary views of the same names (temp is searched before main), made on every
  connection of a separate engine that serves only such reads; the moment is a per-connection
  value read by the SQL function `as_of_moment()`.

Either way the statement is the same, plus the time predicate inside the views: no files, no
rebuild, no lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Index, PrimaryKeyConstraint, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.core.db import Base, UTCDateTime, make_engine

PAST_SCHEMA = "past"
MOMENT_SETTING = "geoevents.as_of"
AS_OF = "geoevents.as_of"  # session.info key: the moment a session reads as of
SEARCH_PATH = "geoevents.search_path"  # session.info key: the search_path before it
SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores datetimes in SQLite


@dataclass(frozen=True)
class Versioned:
    """A table read by the API (`name`) and the twin that keeps its versions."""

    name: str
    history: Table
    columns: tuple[str, ...]  # the live columns, in order, as the twin holds them
    key: tuple[str, ...]  # what identifies a row among the live ones


REGISTRY: dict[str, Versioned] = {}


def versioned(live: Table) -> Table:
    """Declare `live` versioned: its twin `<name>_history`, indexed like it, in the same
    metadata. Called once per table, where the models are gathered (app.models)."""
    if live.name in REGISTRY:
        return REGISTRY[live.name].history
    key = tuple(c.name for c in live.primary_key.columns)
    twin = Table(
        f"{live.name}_history",
        Base.metadata,
        *(Column(c.name, c.type, nullable=c.nullable) for c in live.c),
        Column("valid_from", UTCDateTime(), nullable=False),
        Column("valid_to", UTCDateTime(), nullable=True),
        PrimaryKeyConstraint(*key, "valid_from", name=f"pk_{live.name}_history"),
    )
    # Each of the live table's indexes, with the interval after its columns: a read of the
    # past ranges over the same columns and tests validity without visiting the rows.
    validity = (twin.c.valid_from, twin.c.valid_to)
    for index in live.indexes:
        Index(f"hx_{index.name}", *(twin.c[c.name] for c in index.columns), *validity)
    Index(f"hx_{live.name}_key", *(twin.c[k] for k in key), *validity)
    register(live.name, twin, tuple(c.name for c in live.c), key)
    return twin


def register(name: str, history: Table, columns: tuple[str, ...], key: tuple[str, ...]) -> None:
    """Declare a twin made by hand (the search rows, whose live table is per store)."""
    REGISTRY[name] = Versioned(name, history, columns, key)


def view_select(entry: Versioned, moment: str) -> str:
    """The SELECT of `entry`'s view: its twin's versions valid at `moment` (SQL text)."""
    columns = ", ".join(f'"{c}"' for c in entry.columns)
    return (
        f"SELECT {columns} FROM {entry.history.name} "
        f"WHERE valid_from <= {moment} AND (valid_to IS NULL OR valid_to > {moment})"
    )


def postgresql_views(names: Iterable[str] | None = None) -> list[str]:
    """The DDL of the `past` schema's views of these twins, all by default (run by the
    migration that adds a twin)."""
    moment = f"(NULLIF(current_setting('{MOMENT_SETTING}', true), '')::timestamptz)"
    ddl = [f"CREATE SCHEMA IF NOT EXISTS {PAST_SCHEMA}"]
    for entry in (REGISTRY[n] for n in names) if names is not None else REGISTRY.values():
        ddl.append(f"DROP VIEW IF EXISTS {PAST_SCHEMA}.{entry.name}")
        ddl.append(
            f"CREATE VIEW {PAST_SCHEMA}.{entry.name} AS "
            f"{view_select(entry, moment).replace(' FROM ', ' FROM public.', 1)}"
        )
    return ddl


def _sqlite_past_connection(dbapi_connection: Any, record: Any) -> None:
    moment: dict[str, str | None] = {"at": None}
    record.info[AS_OF] = moment
    dbapi_connection.create_function("as_of_moment", 0, lambda: moment["at"])
    cursor = dbapi_connection.cursor()
    for entry in REGISTRY.values():
        select_sql = view_select(entry, "(SELECT as_of_moment())").replace(
            " FROM ", " FROM main.", 1
        )
        cursor.execute(f"CREATE TEMP VIEW IF NOT EXISTS {entry.name} AS {select_sql}")
    cursor.close()


def past_engine(engine: Engine) -> Engine | None:
    """The engine `as_of` reads run on, when it is not the live one: on SQLite a second
    pool on the same file whose connections see the versioned tables' past (temporary views
    of the same names would hide the live tables from every other read). On PostgreSQL the
    live session itself reads the past (None)."""
    if engine.dialect.name != "sqlite":
        return None
    past = make_engine(engine.url.render_as_string(hide_password=False))
    event.listen(past, "connect", _sqlite_past_connection)
    return past


def warm(past: Engine) -> None:
    """Open the past engine's first connection (its views made) before a read waits for it;
    a database not there yet is left to the first read to report."""
    try:
        with past.connect():
            pass
    except Exception:  # the read that needs it reports why
        return


def enter_past(session: Session, moment: datetime) -> None:
    """Make `session`'s transaction read as of `moment` (a session of `past_engine`)."""
    session.info[AS_OF] = moment
    connection = session.connection()
    at = moment.astimezone(UTC)
    if connection.dialect.name == "postgresql":
        session.info[SEARCH_PATH] = connection.exec_driver_sql(
            f"SELECT current_setting('search_path'), set_config('search_path', "
            f"'{PAST_SCHEMA}, ' || current_setting('search_path'), true), "
            f"set_config('{MOMENT_SETTING}', %(at)s, true)",
            {"at": at.isoformat()},
        ).scalar()
    else:
        connection.connection.info[AS_OF]["at"] = at.strftime(SQLITE_FORMAT)


def leave_past(session: Session) -> None:
    """Make `session` read the present again (on PostgreSQL the rest of its transaction
    would otherwise resolve the versioned names to the past's views)."""
    if session.info.pop(AS_OF, None) is None:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f"SELECT set_config('search_path', %(path)s, true), "
            f"set_config('{MOMENT_SETTING}', '', true)",
            {"path": session.info.pop(SEARCH_PATH, None) or "public"},
        )


def as_of(session: Session) -> datetime | None:
    """The moment a session reads as of, if it reads the past."""
    moment = session.info.get(AS_OF)
    return moment if isinstance(moment, datetime) else None
