"""HTTP caching for dashboards: ETag, Last-Modified, 304 Not Modified, Cache-Control, HEAD.

The ETag of a buffered answer is a hash of its body, so it changes exactly when the answer
does. Last-Modified is when the data version last moved (any write). Buffered answers are kept
in a per-process cache keyed by the data version (see `ResponseCache`), so a dashboard polling
an unchanged URL costs one version read. A streamed export cannot be hashed before it is
sent; its route sets a weak ETag from the data version and the request instead (see
`stream_etag`), and the middleware leaves it alone.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import orjson
from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import version as data_version
from app.web.deps import SessionDep, in_session, session_factory
from app.web.state import state_of

CACHED_PREFIX = "/v1/"
RECORD_VERSION = "X-Record-Version"  # set by a record's route; its ETag then leads with it


async def record_data_version(request: Request, session: SessionDep) -> None:
    """Dependency of every data route: the data version the answer is built from, read in the
    route's own transaction, so of the very snapshot its data comes from (reads on PostgreSQL
    run at REPEATABLE READ; a SQLite transaction reads one snapshot). The middleware's earlier
    read only looks the cache up: a write committed, or a replica replaying, in between
    would make it older than the data."""
    version, changed_at = await in_session(session, data_version.current, session)
    request.state.data_version = version
    request.state.data_changed_at = changed_at


def record_version(request: Request, version: tuple[int, datetime | None]) -> None:
    """What `record_data_version` leaves for the answer, for a read that took the data
    version in its own statement."""
    request.state.data_version, request.state.data_changed_at = version


def http_date(moment: datetime) -> str:
    """An RFC 9110 HTTP-date."""
    return format_datetime(moment, usegmt=True)


def _etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def not_modified(headers: Headers, etag: str | None, changed_at: datetime | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since, which
    only a Last-Modified that identifies its version can satisfy (`changed_at` is None
    otherwise: see app.changes.service.bump)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return etag is not None and _etag_matches(if_none_match, etag)
    since = headers.get("if-modified-since")
    if since is None or changed_at is None:
        return False
    try:
        return changed_at.replace(microsecond=0) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def stream_etag(request: Request, media_type: str) -> str:
    """A weak ETag for a streamed answer: the data version and the exact request."""
    key = f"{request.state.data_version}|{request.url.path}?{request.url.query}|{media_type}"
    return 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class CachedAnswer:
    """A buffered 200 answer and the validators computed for it."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str


class ResponseCache:
    """Answers by (data version, method-free request key), least recently used out first.

    The data version lives in the database and every write bumps it in the same transaction,
    so an answer is only ever reused while the data it was built from is unchanged: a cached
    answer is never stale, whatever the number of workers or hosts.
    """

    def __init__(self, max_entries: int, max_body: int) -> None:
        self.max_entries = max_entries
        self.max_body = max_body
        self._entries: OrderedDict[tuple[int, str], CachedAnswer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[int, str]) -> CachedAnswer | None:
        """The answer stored under key, if any."""
        answer = self._entries.get(key)
        if answer is not None:
            self._entries.move_to_end(key)
        return answer

    def put(self, key: tuple[int, str], answer: CachedAnswer) -> None:
        """Store an answer, evicting the least recently used beyond the limit."""
        if len(answer.body) > self.max_body or self.max_entries == 0:
            return
        self._entries[key] = answer
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class HTTPCacheMiddleware:
    """Adds validators and answers conditional GETs for /v1/; serves repeated requests from a
    response cache keyed by the data version; makes HEAD work for every GET."""

    def __init__(self, app: ASGIApp, cache_control: str, cache: ResponseCache) -> None:
        self.app = app
        self.cache_control = cache_control
        self.cache = cache
        self._readers: dict[str, data_version.LocalReader] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"GET", "HEAD"}:
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = dict(scope, method="GET")
        request_headers = Headers(scope=scope)
        cacheable = scope["path"].startswith(CACHED_PREFIX)
        query = scope.get("query_string", b"").decode("latin-1")
        # What an answer varies with: the URL, Accept, and Prefer (`count=` of event lists);
        # the scheme and Host too, which its Link header's absolute URLs are made of.
        origin = f"{scope.get('scheme', 'http')}://{request_headers.get('host', '')}"
        request_key = f"{origin}{scope['path']}?{query}|{request_headers.get('accept', '')}"
        if "prefer" in request_headers:
            request_key += f"|{request_headers['prefer']}"
        # With the cache off there is nothing to look up: the route reads the version itself.
        if cacheable and self.cache.max_entries > 0:
            version = await self._version(scope)
            if version is not None:
                cached = self.cache.get((version[0], request_key))
                if cached is not None:
                    await self._send(cached, request_headers, head, send, version[1])
                    return
        start: Message | None = None
        body: list[bytes] = []
        passthrough = False

        async def send_wrapper(message: Message) -> None:
            nonlocal start, passthrough
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                if cacheable:
                    headers.setdefault("cache-control", self.cache_control)
                    vary = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
                    headers["vary"] = ", ".join(dict.fromkeys([*vary, "Accept", "Prefer"]))
                passthrough = not cacheable or message["status"] != 200 or "etag" in headers
                if passthrough:
                    await send(message)
                else:
                    start = message
                return
            if passthrough:
                if head:
                    message = dict(message, body=b"")
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            payload = b"".join(body)
            headers = MutableHeaders(raw=start["headers"])
            version = headers.get(RECORD_VERSION)
            etag = record_etag(int(version), payload) if version else _etag(payload)
            answer = CachedAnswer(list(headers.raw), payload, etag)
            state: dict[str, Any] = scope.get("state", {})
            # Stored under the version the route read with its data, never the earlier one.
            if state.get("data_version") is not None:
                self.cache.put((state["data_version"], request_key), answer)
            await self._send(answer, request_headers, head, send, state.get("data_changed_at"))

        await self.app(scope, receive, send_wrapper)

    async def _version(self, scope: Scope) -> tuple[int, datetime | None] | None:
        """Read the data version for this request and leave it for the route's dependency."""
        # The version comes from the database the answer will be read from (the replica,
        # when there is one and the request may read it), to look the cache up with.
        factory = session_factory(state_of(scope["app"]), "GET", scope.get("state", {}))
        bind = factory.kw.get("bind")
        try:
            if not isinstance(bind, Engine):  # a session bound to one connection (tests)
                version = await run_in_threadpool(_read_version, factory)
            elif bind.dialect.name == "sqlite" and bind.url.database not in (None, "", ":memory:"):
                version = self._local_reader(bind.url.database)()
            else:
                version = await run_in_threadpool(data_version.read, bind)
        except Exception:  # SQLAlchemy's or the driver's: the route will report it as a problem
            return None
        state = scope.setdefault("state", {})
        state["data_version"], state["data_changed_at"] = version
        return version

    def _local_reader(self, path: str) -> data_version.LocalReader:
        reader = self._readers.get(path)
        if reader is None:
            reader = self._readers[path] = data_version.LocalReader(path)
        return reader

    async def _send(
        self,
        answer: CachedAnswer,
        request_headers: Headers,
        head: bool,
        send: Send,
        changed_at: datetime | None,
    ) -> None:
        headers = MutableHeaders(raw=list(answer.headers))
        headers["etag"] = answer.etag
        if changed_at is not None:
            headers["last-modified"] = http_date(changed_at)
        elif "last-modified" in headers:
            del headers["last-modified"]
        if not_modified(request_headers, answer.etag, changed_at):
            for name in ("content-length", "content-type"):
                if name in headers:
                    del headers[name]
            await send({"type": "http.response.start", "status": 304, "headers": headers.raw})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers.raw})
        await send({"type": "http.response.body", "body": b"" if head else answer.body})


def _etag(payload: bytes) -> str:
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def record_body(record: BaseModel | bytes) -> bytes:
    """A record's JSON, byte for byte as its GET, its writes and If-Match see it (a stored
    document is that JSON already)."""
    if isinstance(record, bytes):
        return record
    return orjson.dumps(record.model_dump(mode="json"))


def record_response(record: BaseModel | bytes, version: int) -> Response:
    """A record's detail: its JSON, with its version for the middleware's ETag."""
    return Response(
        record_body(record),
        media_type="application/json",
        headers={RECORD_VERSION: str(version)},
    )


def record_etag(version: int, payload: bytes) -> str:
    """A record's ETag: its version (what If-Match compares) and a digest of the body (so
    that a cache revalidates when anything shown changes, a linked actor's name say)."""
    return f'"{version}-{hashlib.sha256(payload).hexdigest()[:16]}"'


def _read_version(factory: Any) -> tuple[int, datetime | None]:
    with factory() as session:
        return data_version.current(session)
