"""Annotated dependency aliases: the one place routers get settings and sessions from."""

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool
from starlette.concurrency import run_in_threadpool

from app.core.config import Settings
from app.core.db import interrupt
from app.core.errors import InvalidParameter
from app.core.schemas import AS_OF_DESCRIPTION
from app.core.temporal import enter_past, leave_past
from app.web.consistency import READ_FROM_PRIMARY, write_token
from app.web.state import AppState, state_of


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return state_of(request.app).settings


def session_factory(
    app_state: AppState, method: str, request_state: Mapping[str, Any]
) -> sessionmaker[Session]:
    """Reads (GET, HEAD) go to the read replica when one is configured; the rest, and a read
    whose Consistency-Token the replica has not replayed in time (see app.web.consistency), to
    the primary."""
    if method not in {"GET", "HEAD"}:
        return app_state.sessionmaker
    if request_state.get(READ_FROM_PRIMARY):
        return app_state.primary_read_sessionmaker
    return app_state.read_sessionmaker


def read_bind(app_state: AppState, request_state: Mapping[str, Any]) -> Engine | Connection:
    """What a read's driver read (app.core.db.DriverRead) runs on: the bind of the sessions
    `session_factory` gives the read (an engine, or a connection the factory was bound to)."""
    bind = session_factory(app_state, "GET", request_state).kw.get("bind")
    if not isinstance(bind, Engine | Connection):
        raise TypeError("the read sessions are bound to no engine nor connection")
    return bind


T = TypeVar("T")


def on_loop(session: Session) -> bool:
    """Whether this session's statements may run on the event loop: SQLite's are in-process
    and take microseconds (a data version read, a commit of a read), where a thread hop
    costs more than the work; a PostgreSQL round trip is left to a worker thread.

    Only while they need not wait for a connection, though: the session holds one, or the
    pool has one to give. With every connection taken (long exports streaming, say), a wait
    on the loop would stop the very answers whose end gives a connection back."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    return session.in_transaction() or _can_connect_at_once(getattr(bind, "pool", None))


def bind_on_loop(bind: Engine | Connection) -> bool:
    """Whether a driver read of this bind may run on the event loop (as `on_loop`: SQLite,
    and a connection held already or one the pool gives at once)."""
    if bind.dialect.name != "sqlite":
        return False
    return isinstance(bind, Connection) or _can_connect_at_once(bind.pool)


def _can_connect_at_once(pool: Any) -> bool:
    """Whether a checkout from this pool gets a connection without waiting for one."""
    if not isinstance(pool, QueuePool):
        return True  # no limit to wait on
    limit = pool._max_overflow  # the pool's own setting; it has no public reader
    return pool.checkedin() > 0 or limit < 0 or pool.checkedout() < pool.size() + limit


async def in_session(session: Session, work: Callable[..., T], *args: Any) -> T:
    """Run a short piece of database work for a dependency: on the loop for SQLite, on a
    worker thread otherwise (see `on_loop`)."""
    if on_loop(session):
        return work(*args)
    return await run_in_threadpool(work, *args)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request: committed after the answer is sent, rolled back if the handler
    raises. Writes commit before they answer (`commit_write`). The session connects on its
    first statement, in the route's thread; its end runs where `in_session` says."""
    factory = session_factory(state_of(request.app), request.method, request.scope.get("state", {}))
    session = factory()
    try:
        yield session
    except BaseException as exc:
        if not isinstance(exc, Exception):  # cancelled: the server is shutting down
            interrupt(session)
            session.rollback()
            session.close()
            raise
        await in_session(session, _end, session, False)
        raise
    await in_session(session, _end, session, True)


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


async def get_read_session(
    request: Request,
    session: SessionDep,
    as_of: Annotated[
        datetime | None,
        Query(description=AS_OF_DESCRIPTION, examples=["2026-02-01T00:00:00Z"]),
    ] = None,
) -> AsyncIterator[Session]:
    """The session a read runs on: the live database, or the database as of `as_of`."""
    if as_of is None:
        yield session
        return
    if as_of.tzinfo is None:
        raise InvalidParameter("as_of needs a UTC offset (…Z or …+00:00)", param="as_of")
    try:
        moment = as_of.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first moment there is
        raise InvalidParameter(
            "as_of must lie between 0001-01-01 and 9999-12-31 once moved to UTC", param="as_of"
        ) from None
    factory = state_of(request.app).past_sessionmaker
    past = factory() if factory is not None else session
    await in_session(past, enter_past, past, moment)
    try:
        yield past
    except BaseException:  # the transaction is rolled back, the past with it
        if past is not session:
            await in_session(past, _end, past, False)
        raise
    if past is session:
        await in_session(past, leave_past, past)
    else:
        await in_session(past, _end, past, True)


ReadSessionDep = Annotated[Session, Depends(get_read_session)]


# -- writes: committed before the answer is sent ----------------------------------------------


def commit_write(request: Request, session: SessionDep) -> Iterator[None]:
    """Dependency of every write route, scoped to the handler: commits when it returns,
    before the answer is sent (`get_session` ends only after the answer), so that a 2xx
    means the change is stored, then notes the write's Consistency-Token for the answer."""
    yield
    session.commit()
    request.state.consistency_token = write_token(session)  # consistency.WRITE_TOKEN


CommitWrite = Depends(commit_write, scope="function")
