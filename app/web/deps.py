"""Annotated dependency aliases: the one place routers get settings and sessions from."""

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as ASGIScope

from app.core.config import Settings
from app.core.db import interrupt
from app.core.errors import InvalidParameter
from app.core.schemas import AS_OF_DESCRIPTION
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


T = TypeVar("T")


def on_loop(session: Session) -> bool:
    """Whether this session's statements may run on the event loop: SQLite's are in-process
    and take microseconds (a data version read, a commit of a read), where a thread hop
    costs more than the work; a PostgreSQL round trip is left to a worker thread."""
    return session.get_bind().dialect.name == "sqlite"


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
    past = await run_in_threadpool(state_of(request.app).point_in_time.session, session, moment)
    try:
        yield past
    finally:
        await run_in_threadpool(past.close)


ReadSessionDep = Annotated[Session, Depends(get_read_session)]


class AsOfMiddleware:
    """Builds the database a read with `as_of` needs before the request takes a place among
    those worked on (the concurrency limit is inside this), so that a rebuild never holds
    one. A value it cannot read is left to the route, which refuses it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        moment = _as_of(scope) if scope["type"] == "http" else None
        if moment is not None:
            state = state_of(scope["app"])
            factory = session_factory(state, scope["method"], scope.get("state", {}))
            try:
                await state.point_in_time.prepare(factory, moment)
            except Exception:
                LOG.debug("as_of database not prepared", exc_info=True)
        await self.app(scope, receive, send)


def _as_of(scope: ASGIScope) -> datetime | None:
    if scope["method"] not in {"GET", "HEAD"} or b"as_of=" not in scope.get("query_string", b""):
        return None
    values = parse_qs(scope["query_string"].decode("latin-1")).get("as_of", [])
    try:
        moment = datetime.fromisoformat(values[-1].replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (IndexError, ValueError, OverflowError):
        return None


LOG = logging.getLogger("geoevents.as_of")


# -- writes: committed before the answer is sent ----------------------------------------------


def commit_write(request: Request, session: SessionDep) -> Iterator[None]:
    """Dependency of every write route, scoped to the handler: commits when it returns,
    before the answer is sent (`get_session` ends only after the answer), so that a 2xx
    means the change is stored, then notes the write's Consistency-Token for the answer."""
    yield
    session.commit()
    request.state.consistency_token = write_token(session)  # consistency.WRITE_TOKEN


CommitWrite = Depends(commit_write, scope="function")
