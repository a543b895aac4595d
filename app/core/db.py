"""Declarative base, engine and session factory, and the column types both stores share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import orjson
from psycopg import IsolationLevel
from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    FromClause,
    MetaData,
    String,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every ORM model; constraint names follow one convention on both stores."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; SQLite has no time zones, so we normalise."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; geoevents stores aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime with microseconds dropped (both stores keep them alike)."""
    return datetime.now(UTC).replace(microsecond=0)


def sqlalchemy_url(url: str) -> str:
    """Map the plain `postgresql://` form to the psycopg 3 driver; SQLite stays as it is."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Write-ahead logging: readers never wait on a writer, nor a writer on readers. The mode
    # is stored in the file; an in-memory database keeps its own.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(
    url: str, pool_size: int = 20, max_overflow: int = 5, statement_timeout_ms: int = 0
) -> Engine:
    """An engine for either store, with SQLite's foreign keys switched on per connection and,
    on PostgreSQL, statements cancelled after `statement_timeout_ms` (0: never)."""
    url = sqlalchemy_url(url)
    if url.startswith("sqlite"):
        pool: dict[str, Any] = {}
        if make_url(url).database not in (None, "", ":memory:"):
            pool = {"pool_size": pool_size, "max_overflow": max_overflow}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    options = {"options": f"-c statement_timeout={statement_timeout_ms}"}
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args=options if statement_timeout_ms else {},
    )


def snapshot(engine: Engine) -> Engine:
    """The engine's view whose transactions each read one snapshot: REPEATABLE READ on
    PostgreSQL (allowed on a hot standby); SQLite's transactions do so already."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="REPEATABLE READ")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that do not expire on commit, so responses can be built after it."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the body succeeds, roll back when it raises."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException as exc:
            if not isinstance(exc, Exception):  # cancelled: the server is shutting down
                interrupt(session)
            session.rollback()
            raise


def interrupt(session: Session) -> None:
    """Cancel the statement a session's connection may be running in another thread (a
    write waiting for the write lock, say), so that rolling it back does not wait for it.
    PostgreSQL only; a SQLite statement cannot be waited on that long (busy_timeout)."""
    if not session.in_transaction():
        return
    try:
        dbapi = session.connection().connection.dbapi_connection
    except Exception:  # a connection already gone: nothing to interrupt
        return
    cancel = getattr(dbapi, "cancel_safe", None) or getattr(dbapi, "cancel", None)
    if cancel is not None and session.get_bind().dialect.name == "postgresql":
        cancel()


def insert_rows(bind: Session | Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert these rows (all with the same keys) into a table, inside the transaction:
    COPY on PostgreSQL (a fraction of an INSERT's cost per row), executemany on SQLite."""
    if not rows:
        return
    names = list(rows[0])
    connection = bind.connection() if isinstance(bind, Session) else bind
    if connection.dialect.name != "postgresql":
        # The statement as the driver takes it and each value through its column's bind
        # processor, as `insert(table)` does it, without compiling the statement and building
        # an execution context for each batch; `insert(table)` where a column left out has a
        # Python-side default for it to fill.
        processors = _bind_processors(table, tuple(names), connection.dialect)
        if processors is None:
            connection.execute(insert(table), rows)
            return
        columns = ", ".join(f'"{table.c[n].name}"' for n in names)
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(
            f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})',
            [
                tuple(
                    value if process is None else process(value)
                    for process, value in zip(processors, map(row.__getitem__, names), strict=True)
                )
                for row in rows
            ],
        )
        return
    columns = ", ".join(f'"{table.c[n].name}"' for n in names)
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_plain(row[n]) for n in names])
    finally:
        cursor.close()


_PROCESSORS: dict[tuple[str, tuple[str, ...], str], list[Any] | None] = {}


def _bind_processors(table: Any, names: tuple[str, ...], dialect: Dialect) -> list[Any] | None:
    """Each named column's bind processor for this dialect (None in the list: the value goes
    as it is; the driver takes a str enum member as its value), or None where a column left
    out has a Python-side default."""
    key = (table.name, names, dialect.name)
    if key not in _PROCESSORS:
        defaulted = any(
            getattr(c, "default", None) is not None and c.name not in names for c in table.columns
        )
        _PROCESSORS[key] = (
            None
            if defaulted
            else [
                table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
            ]
        )
    return _PROCESSORS[key]


def _plain(value: Any) -> Any:
    # COPY takes values as they are: an enum member goes in as its value, as a bound
    # parameter of String would.
    return value.value if isinstance(value, Enum) else value


def key_chunks(bind: Session | Connection, key: Any, size: int) -> Iterator[list[Any]]:
    """Every value of a key column, in order, `size` at a time (a keyset scan: each chunk one
    index range, however large the table). For rebuilds that go over a whole table."""
    last = ""
    while True:
        chunk = list(
            bind.execute(select(key).where(key > last).order_by(key).limit(size)).scalars()
        )
        if not chunk:
            return
        yield chunk
        last = chunk[-1]


# --- many values bound as one parameter -------------------------------------------------------
# `column IN (:v1, :v2, …)` with thousands of values costs SQLAlchemy a new rendering of the
# statement at each execution (the list expands into one parameter per value) and the driver
# a parameter each; the write path asks such lists all the time (a batch's ids). Here the
# values are one parameter, a JSON array (one string for the driver: psycopg dumps a Python
# list to an array value by value, in Python), so the statement is compiled once and
# cached. SQLite reads the array with `json_each`, PostgreSQL with
# `jsonb_array_elements_text`, and both still look each value up in the column's index
# (SQLite: `SEARCH … USING INDEX (id=?)` over a `LIST SUBQUERY`; PostgreSQL: an index
# condition `= ANY ($0)`).


def _json_array(values: Iterable[Any]) -> BindParameter[str]:
    return bindparam(
        None, orjson.dumps(list(values), default=_json_value).decode(), String(), unique=True
    )


def _json_value(value: Any) -> str:
    # Dates as SQLite stores them (ISO text); a key holds nothing else that JSON lacks.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a key value")


class _Among(ColumnElement[bool]):
    """`column IN values`, the values bound as one parameter (see `among`)."""

    __visit_name__ = "geoevents_among"
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is (no `= 1` added on SQLite)
    _traverse_internals = [  # noqa: RUF012  (SQLAlchemy declares it a list)
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], values: Iterable[Any]) -> None:
        self.column = column
        self.values = _json_array(values)


@compiles(_Among)
def _among_sqlite(element: _Among, compiler: SQLCompiler, **kw: Any) -> str:
    column_sql = compiler.process(element.column, **kw)
    return (
        f"{column_sql} IN (SELECT value FROM json_each({compiler.process(element.values, **kw)}))"
    )


@compiles(_Among, "postgresql")
def _among_postgresql(element: _Among, compiler: SQLCompiler, **kw: Any) -> str:
    column_sql = compiler.process(element.column, **kw)
    values = compiler.process(element.values, **kw)
    return f"{column_sql} = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST({values} AS JSONB))))"


def among(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column IN values` for a long list of values of a text column (ids, say), bound as
    one parameter so that the statement is compiled once whatever the number of values."""
    element: ColumnElement[Any] = (
        column.__clause_element__() if hasattr(column, "__clause_element__") else column
    )
    return _Among(element, values)


def as_day(value: Any) -> date:
    """A date as a driver returns it: a `date`, or SQLite's ISO text of one (an aggregate's
    result, a raw row)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def dialect_name(bind: Session | Connection) -> str:
    """The name of the dialect a session or connection speaks (`sqlite`, `postgresql`)."""
    return bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name


def key_rows(
    bind: Session | Connection, columns: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> FromClause:
    """These rows of key values as a table to join on, its columns named and typed as
    `columns` (text, dates, numbers), bound as one parameter: a JSON array of arrays.
    Joined on a table's key, each row is one lookup in the key's index, where SQLite
    answers a row-value `IN` list by reading the whole table."""
    values = _json_array(list(r) for r in rows)
    value: ColumnElement[Any] = literal_column("value")
    if dialect_name(bind) == "postgresql":
        cells: list[ColumnElement[Any]] = []
        for i, c in enumerate(columns):
            cell = value.op("->>", return_type=String())(literal_column(str(i)))
            # Text as it is: a cast to VARCHAR(n) would cut a longer value short.
            cells.append(cell if isinstance(c.type, String) else cast(cell, c.type))
        source = func.jsonb_array_elements(cast(values, JSONB))
    else:
        cells = [
            func.json_extract(value, literal_column(f"'$[{i}]'"), type_=c.type)
            for i, c in enumerate(columns)
        ]
        source = func.json_each(values)
    return (
        select(*(cell.label(c.name) for cell, c in zip(cells, columns, strict=True)))
        .select_from(source)
        .subquery("keys")
    )


class Prepared:
    """One statement's text, written once with `:name` parameters, in each store's
    parameter style: run with `prepared_rows` on the session's own connection, it skips
    the building, cache-key and result machinery of an SQLAlchemy statement (tens of
    microseconds each, where the hot reads' statements take a few). The text names tables
    unqualified, so that `as_of` (which resolves them to views of the past on that
    connection: app.core.temporal) applies as it does to any statement; no `%` in it."""

    def __init__(self, sql: str) -> None:
        if "%" in sql:
            raise ValueError("a prepared statement holds no % (PostgreSQL's parameter mark)")
        self.sqlite = " ".join(sql.split())
        self.postgresql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", self.sqlite)


class DriverRead:
    """One read transaction on a pooled driver connection, with no Session nor SQLAlchemy
    Connection around it: what an answer made of prepared statements only runs on
    (`prepared_rows` takes either). For the busiest reads a Session's begin and end (its
    transaction objects and events, the BEGIN through the statement machinery, the
    rollback, the checkin) cost several times the statements themselves.

    On an engine, the transaction reads one snapshot, as a read session's does
    (`snapshot`): SQLite's from its BEGIN, PostgreSQL's at REPEATABLE READ; `close` rolls
    it back and gives the connection back to the pool. The pool's checkout (and its
    pre-ping on PostgreSQL), its gauges and its limits are the sessions' own. On a
    connection (one a session factory is bound to, as `Session(bind=connection)` is), the
    statements run in that connection's transaction, which stays its owner's. Driver errors
    are raised as SQLAlchemy raises them for any statement, so that a store that is down or
    locked gets the same answers (503, 504)."""

    def __init__(self, bind: Engine | Connection) -> None:
        self.dialect: Dialect = bind.dialect
        errors = self.dialect.loaded_dbapi.Error
        self._pooled: Any = None
        self._isolation: Any = None
        if isinstance(bind, Connection):
            self.driver: Any = bind.connection.dbapi_connection
            return
        try:
            self._pooled = bind.raw_connection()
        except errors as exc:
            raise DBAPIError.instance(None, None, exc, errors) from exc
        self.driver = self._pooled.driver_connection
        try:
            if self.dialect.name == "postgresql":
                self._isolation = self.driver.isolation_level
                self.driver.isolation_level = IsolationLevel.REPEATABLE_READ
            else:
                self.driver.execute("BEGIN")
        except errors as exc:
            self._pooled.invalidate()
            self._pooled.close()
            raise DBAPIError.instance("BEGIN", None, exc, errors) from exc

    def close(self) -> None:
        """End the read: roll its transaction back and give the connection back to the
        pool, or drop the connection when that fails (the read has nothing to lose). On a
        connection it was given, nothing: the transaction is the connection's owner's."""
        if self._pooled is None:
            return
        try:
            self.driver.rollback()
            if self.dialect.name == "postgresql":
                self.driver.isolation_level = self._isolation
        except self.dialect.loaded_dbapi.Error:
            self._pooled.invalidate()
        finally:
            self._pooled.close()


# What prepared statements run on: a session's transaction, or a driver read.
Reader = Session | DriverRead


def prepared_rows(bind: Reader, statement: Prepared, params: dict[str, Any]) -> list[Any]:
    """The rows (tuples) of a prepared statement in the session's transaction, or the
    driver read's. Dates go to SQLite as their ISO text, as SQLAlchemy stores them there;
    rows come back as the driver gives them (a date is a `date` from PostgreSQL, its ISO
    text from SQLite)."""
    if isinstance(bind, DriverRead):
        dbapi, dialect = bind.driver, bind.dialect
    else:
        connection = bind.connection()
        dbapi, dialect = connection.connection.dbapi_connection, connection.dialect
    assert dbapi is not None
    if dialect.name == "postgresql":
        sql = statement.postgresql
    else:
        sql = statement.sqlite
        params = {k: v.isoformat() if type(v) is date else v for k, v in params.items()}
    errors = dialect.loaded_dbapi.Error
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    except errors as exc:
        # As SQLAlchemy raises it for any statement, so the app's answers to a store that
        # is down, locked or too slow are the same here (503, 504), not a 500.
        raise DBAPIError.instance(sql, params, exc, errors) from exc
    finally:
        cursor.close()


def plain_rows(session: Session, statement: Executable) -> list[Any]:
    """Every row of a statement as the driver gives them: tuples, with no SQLAlchemy row
    objects nor result conversions (a date is a `date` from PostgreSQL, its ISO text from
    SQLite). The statement is compiled, cached and bound as any other; for reads of many
    rows that are consumed once (a network's pairs), where building each row object costs
    more than reading it."""
    result = session.connection().execute(statement)
    try:
        return list(result.cursor.fetchall()) if result.cursor is not None else []
    finally:
        result.close()
