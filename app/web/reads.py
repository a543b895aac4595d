"""The lean read path: the busiest GETs answered in one pure-ASGI step.

FastAPI's route machinery (matching every route, solving each dependency per request, an
exit stack, the session dependency's own thread hops) costs several times the work of a read
that splices stored documents: at one worker it bounded how many lists and details a second
a process could answer. A `Read` names a route's template, its query model and the function
that answers it; `ReadPath`, the innermost middleware, answers a request that matches one
with that function directly: the query validated once, one session, the data version read
in the answer's own transaction. An answer made of prepared statements only (a primary-key
read, a list of the shapes prepared statements answer: `Read.driver`) runs on a driver read
(app.core.db.DriverRead) instead of a session, whose begin and end cost more than its
statements, and on SQLite on the event loop (a thread hop costs more than the statements);
the rest take a session on a worker thread.

It answers only what it can answer exactly as the route would; everything else goes on to
the routes unchanged, which stay the documented contract: a query that does not validate
(so that the 422 is FastAPI's own), `as_of`, a deployment that needs a key to read, exports
(`limit=all`, whose session lives as long as the stream), and any path or id out of the
ordinary. A failure while answering is rendered by the app's own exception handlers, as the
route's would be. tests/test_read_path.py pins every answer of both paths to each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, get_args, get_origin
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core import version as data_version
from app.core.db import DriverRead
from app.web.deps import bind_on_loop, read_bind, session_factory
from app.web.http_cache import record_version
from app.web.state import state_of

Answer = Callable[[Session, Request, Any], Response]
DriverAnswer = Callable[[DriverRead, Request, Any], Response]

# A path parameter the read path takes: an id of the kind the data holds (a slug, or a
# dataset's `ucdp-123`). Anything else (percent-escapes, spaces, over-long ids) goes to the
# route, whose validation and messages stay the only ones.
ID = r"[A-Za-z0-9][A-Za-z0-9._~:-]{0,119}"


@dataclass(frozen=True)
class Read:
    """One route the read path answers: its template (as the route declares it), the model
    its query string validates into (None: the route takes no query), the functions that
    answer it, and whether the answer reads the data version in its own statement
    (`http_cache.record_version`) rather than in one before it.

    `driver` answers on a driver read, with prepared statements only: every query, or those
    `quick` holds (a few index reads). `answer` answers the rest on a session, and those the
    driver answer hands over by raising `ToSession`."""

    template: str
    answer: Answer | None = None
    query: type[BaseModel] | None = None
    reads_version: bool = False
    quick: Callable[[Any], bool] | None = None
    driver: DriverAnswer | None = None

    def __post_init__(self) -> None:
        if self.answer is None and (self.driver is None or self.quick is not None):
            raise ValueError(f"{self.template}: what the driver does not answer needs an answer")

    def on_driver(self, query: Any) -> bool:
        """Whether the driver answer takes this query."""
        return self.driver is not None and (self.quick is None or self.quick(query))


class ToSession(Exception):
    """Raised by a driver answer for a query it turns out not to answer (an actor given by
    name rather than id, say): the session answer answers it instead."""


@dataclass(frozen=True)
class RouteName:
    """What `scope["route"]` holds for a request the read path answers: the template, which
    the metrics label requests by (as they read it off the route FastAPI would have run)."""

    path: str


@dataclass(frozen=True)
class _Compiled:
    read: Read
    pattern: re.Pattern[str]
    route: RouteName
    lists: frozenset[str]  # the query fields that repeat (list-typed), by alias
    fields: frozenset[str]  # every query field, by alias


class ReadPath:
    """Innermost middleware: answers the registered reads, passes everything else on."""

    def __init__(self, app: ASGIApp, reads: Sequence[Read]) -> None:
        self.app = app
        self._reads = [_compile(read) for read in reads]
        self.answered = 0  # requests answered here, not by the routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        matched = self._match(scope)
        if matched is None:
            await self.app(scope, receive, send)
            return
        compiled, path_params, query = matched
        app_state = state_of(scope["app"])
        if app_state.settings.require_read_key:
            await self.app(scope, receive, send)
            return
        self.answered += 1
        scope["route"] = compiled.route
        scope["path_params"] = path_params
        request = Request(scope, receive)
        read = compiled.read
        request_state = scope.get("state", {})
        try:
            response = None
            if read.on_driver(query):
                bind = read_bind(app_state, request_state)
                response = await _on_driver(read, bind, request, query)
            if response is None:
                session = session_factory(app_state, "GET", request_state)()
                response = await run_in_threadpool(_session_answer, read, session, request, query)
        except Exception as exc:
            response = await self._render(request, exc)
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> tuple[_Compiled, dict[str, str], Any] | None:
        path = scope["path"]
        for compiled in self._reads:
            found = compiled.pattern.fullmatch(path)
            if found is None:
                continue
            query = _query(compiled, scope.get("query_string", b""))
            if query is _PASS:
                return None
            return compiled, found.groupdict(), query
        return None

    async def _render(self, request: Request, exc: Exception) -> Response:
        """The app's own answer to this failure (its exception handlers, by the exception's
        class as Starlette looks them up)."""
        handlers = request.app.exception_handlers
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                response = handler(request, exc)
                if not isinstance(response, Response):
                    response = await response
                assert isinstance(response, Response)
                return response
        raise exc


_PASS = object()


async def _on_driver(
    read: Read, bind: Engine | Connection, request: Request, query: Any
) -> Response | None:
    """The driver answer (on the loop on SQLite), or None when it hands the query over."""
    try:
        if bind_on_loop(bind):
            return _driver_answer(read, bind, request, query)
        return await run_in_threadpool(_driver_answer, read, bind, request, query)
    except ToSession:
        return None


def _session_answer(read: Read, session: Session, request: Request, query: Any) -> Response:
    assert read.answer is not None
    return _answer(read.answer, session, read.reads_version, request, query)


def _driver_answer(read: Read, bind: Engine | Connection, request: Request, query: Any) -> Response:
    assert read.driver is not None
    return _answer(read.driver, DriverRead(bind), read.reads_version, request, query)


R = TypeVar("R", Session, DriverRead)


def _answer(
    answer: Callable[[R, Request, Any], Response],
    reader: R,
    reads_version: bool,
    request: Request,
    query: Any,
) -> Response:
    """The read on this session or driver read, with the data version read in its
    transaction (as `record_data_version` does for the routes) unless the answer reads it
    itself, and the reader closed before the answer is sent."""
    try:
        if not reads_version:
            record_version(request, data_version.current(reader))
        response = answer(reader, request, query)
        if isinstance(response, StreamingResponse):  # never registered: its reader ends here
            raise TypeError("the read path answers buffered responses only")
        return response
    finally:
        reader.close()


def _compile(read: Read) -> _Compiled:
    pattern = re.compile(re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>{ID})", read.template))
    lists: set[str] = set()
    fields: set[str] = set()
    if read.query is not None:
        for name, field in read.query.model_fields.items():
            alias = field.alias or name
            fields.add(alias)
            if _repeats(field.annotation):
                lists.add(alias)
    return _Compiled(read, pattern, RouteName(read.template), frozenset(lists), frozenset(fields))


def _repeats(annotation: Any) -> bool:
    """Whether a query field takes repeated values (a list, possibly optional)."""
    if get_origin(annotation) is list:
        return True
    return any(get_origin(arg) is list for arg in get_args(annotation))


def _query(compiled: _Compiled, raw: bytes) -> Any:
    """The query model of this query string, or _PASS when the route must answer: a key the
    model does not know, a single-valued key repeated, `as_of`, an export, or a value that
    does not validate."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if raw else []
    model = compiled.read.query
    if model is None:
        return _PASS if pairs else None
    values: dict[str, Any] = {}
    for key, value in pairs:
        if key not in compiled.fields or key == "as_of":
            return _PASS
        if key in compiled.lists:
            values.setdefault(key, []).append(value)
        elif key in values:
            return _PASS
        else:
            values[key] = value
    if values.get("limit") == "all":
        return _PASS
    try:
        return model.model_validate(values)
    except ValidationError:
        return _PASS
