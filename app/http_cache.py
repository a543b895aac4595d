"""HTTP caching for dashboards: ETag, Last-Modified, 304 Not Modified, Cache-Control, HEAD.

The ETag of a buffered answer is a hash of its body, so it changes exactly when the answer
does. Last-Modified is when the data version last moved (any write). A streamed export cannot
be hashed before it is sent; its route sets a weak ETag from the data version and the request
instead (see `stream_etag`), and the middleware leaves it alone.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.changes import service as changes
from app.deps import SessionDep

CACHED_PREFIX = "/v1/"


def record_data_version(request: Request, session: SessionDep) -> None:
    """Dependency of every data route: remember the data version the answer is built from."""
    version, changed_at = changes.current(session)
    request.state.data_version = version
    request.state.data_changed_at = changed_at


def http_date(moment: datetime) -> str:
    """An RFC 9110 HTTP-date."""
    return format_datetime(moment, usegmt=True)


def _etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def not_modified(headers: Headers, etag: str | None, changed_at: datetime | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
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


class HTTPCacheMiddleware:
    """Adds validators and answers conditional GETs for /v1/; makes HEAD work for every GET."""

    def __init__(self, app: ASGIApp, cache_control: str) -> None:
        self.app = app
        self.cache_control = cache_control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"GET", "HEAD"}:
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = dict(scope, method="GET")
        request_headers = Headers(scope=scope)
        cacheable = scope["path"].startswith(CACHED_PREFIX)
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
                    headers["vary"] = ", ".join(dict.fromkeys([*vary, "Accept"]))
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
            await self._finish(scope, start, b"".join(body), request_headers, head, send)

        await self.app(scope, receive, send_wrapper)

    async def _finish(
        self,
        scope: Scope,
        start: Message | None,
        payload: bytes,
        request_headers: Headers,
        head: bool,
        send: Send,
    ) -> None:
        assert start is not None
        headers = MutableHeaders(raw=start["headers"])
        etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
        headers["etag"] = etag
        state: dict[str, Any] = scope.get("state", {})
        changed_at = state.get("data_changed_at")
        if changed_at is not None:
            headers["last-modified"] = http_date(changed_at)
        if not_modified(request_headers, etag, changed_at):
            for name in ("content-length", "content-type"):
                if name in headers:
                    del headers[name]
            await send({"type": "http.response.start", "status": 304, "headers": headers.raw})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(start)
        await send({"type": "http.response.body", "body": b"" if head else payload})
