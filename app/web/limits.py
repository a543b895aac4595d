"""Limits and guards around every request: concurrency, body size and type, request ids,
security headers, access logs."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import logging
import math
import re
import sqlite3
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import (
    RETRY_AFTER_SECONDS,
    AppError,
    app_error_response,
    database_unavailable_response,
)
from app.web.metrics import Metrics
from app.web.state import state_of

# Probes answer whatever the API is doing: no place to wait for, no rate to keep.
PROBES = ("/healthz", "/readyz", "/metrics")


class ConcurrencyLimitMiddleware:
    """At most `limit` requests of this process are worked on at once; the rest wait their
    turn on the event loop, where waiting costs nothing.

    Routes run in worker threads that share one interpreter lock: thirty-two of them at once
    spend their time handing the lock around (at 1 M events on SQLite, Q1 answered 46 req/s
    at 32 connections against 80 with the limit at 2). A request leaves its place when its
    answer starts, so a streamed export, which does its work while it is sent, holds none.
    A request takes its place only once its body is in (BodyDeadlineMiddleware reads it
    first), and the probes take none.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made here, on the loop that serves the requests
            self._slots = asyncio.Semaphore(self.limit)
        slots = self._slots
        await slots.acquire()
        held = True

        async def send_and_release(message: Message) -> None:
            nonlocal held
            if held and message["type"] == "http.response.start":
                held = False
                slots.release()
            await send(message)

        try:
            await self.app(scope, receive, send_and_release)
        finally:
            if held:
                slots.release()


class WriteGateMiddleware:
    """A write's key is checked before its body is read: a client without a valid key with
    scope write gets its 401 (or 403) at once and never holds the server while it sends, or
    does not send, a body. `check` raises the AppError to answer, or returns the caller,
    left in the request's state for the route."""

    def __init__(self, app: ASGIApp, check: Callable[[Any, str | None], Any]) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in BODY_METHODS
            or not scope["path"].startswith("/v1/")
            or not _routed(scope)
        ):
            await self.app(scope, receive, send)
            return
        authorization = Headers(scope=scope).get("authorization")
        try:
            caller = await run_in_threadpool(self.check, state_of(scope["app"]), authorization)
        except AppError as exc:
            await app_error_response(exc, scope["path"])(scope, receive, send)
            return
        except SQLAlchemyError:
            await database_unavailable_response(scope["path"])(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def _routed(scope: Scope) -> bool:
    """Whether a route takes this method at this path (else the app answers 404 or 405)."""
    routes = getattr(scope.get("app"), "routes", [])
    return any(route.matches(scope)[0] is Match.FULL for route in routes)


class BodyDeadlineMiddleware:
    """A request body must arrive whole within `timeout` seconds of the request's head, or
    the request gets a 408 problem+json and its connection is closed.

    The body is read here, before the request takes a place among those worked on
    (ConcurrencyLimitMiddleware), and handed to the app whole: a client that sends headers
    and then trickles, or never sends, its body ties up only its own connection."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []

        async def read_all() -> bool:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return False
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    return True

        whole: bool | None = None
        try:
            # In this task (not wait_for's own): a shutdown's cancellation reaches the
            # request guard at once, which tells the client to retry.
            async with asyncio.timeout(self.timeout):
                whole = await read_all()
        except TimeoutError:
            whole = None
        if whole is None or time.monotonic() > deadline:
            detail = f"the body did not arrive within {self.timeout:g} s"
            await send_problem(send, scope, 408, "request-timeout", detail, "body", CLOSE)
            return
        if not whole:  # the client went away (or was refused, 413) before the body was in
            return
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


CLOSE = [(b"connection", b"close")]
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
JSON_TYPES = ("application/json", "application/problem+json")
BODY_METHODS = {"POST", "PUT", "PATCH"}


class RequestGuardMiddleware:
    """Every response gets security headers and an X-Request-ID (the client's, if it sent a
    sane one); request bodies must be JSON (415) and at most `max_body` bytes (413), checked
    before the app reads them; one JSON log line per request, without credentials."""

    def __init__(self, app: ASGIApp, max_body: int, max_query: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body = max_body
        self.max_query = max_query
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        answered = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
                message = dict(message)
                message["headers"] = [
                    *message.get("headers", []),
                    *SECURITY_HEADERS,
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        refusal = self._refusal(scope, headers)
        route = None
        try:
            if refusal is not None:
                await send_problem(send_with_headers, scope, *refusal)
            elif scope["path"] == LIVENESS and scope["method"] in {"GET", "HEAD"}:
                # The liveness probe says only that the process answers: it is answered
                # here, past the request id and the metrics, and nothing else runs for it.
                route = LIVENESS
                await _send_alive(send_with_headers, scope["method"] == "HEAD")
            else:
                capped_receive, guarded_send = self._capped(receive, scope, send_with_headers)
                await self.app(scope, capped_receive, guarded_send)
        except asyncio.CancelledError:
            # The server is shutting down and the request outlived the grace period. One
            # still waiting (for its body, or its turn) is told to retry rather than left with
            # a bare 500. One already in the database is cut off before it gets here: its
            # connection closes without an answer and its transaction rolls back.
            if not answered:
                detail = (
                    "the server is shutting down before this request finished; retry "
                    "(a POST with the same Idempotency-Key)"
                )
                await send_problem(
                    send_with_headers, scope, 503, "shutting-down", detail, "", RETRY_AFTER
                )
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = route or getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status, elapsed)
            if LOG.isEnabledFor(logging.INFO):
                LOG.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": (scope.get("client") or ("", 0))[0],
                    },
                )

    def _refusal(
        self, scope: Scope, headers: dict[bytes, bytes]
    ) -> tuple[int, str, str, str] | None:
        if len(scope.get("query_string", b"")) > self.max_query:
            return 414, "uri-too-long", f"the query string is over {self.max_query} bytes", "query"
        if scope["method"] not in BODY_METHODS:
            return None
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return 413, "content-too-large", f"the body is over {self.max_body} bytes", "body"
        media = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
        if has_body and media not in JSON_TYPES:
            return (
                415,
                "unsupported-media-type",
                "send the body as application/json",
                "Content-Type",
            )
        return None

    def _capped(self, receive: Receive, scope: Scope, send: Send) -> tuple[Receive, Send]:
        """Count a body sent without Content-Length; past the cap, answer 413 and tell the
        app the client has gone, so that nothing it does with the request is kept."""
        seen = 0
        refused = False
        limit = self.max_body

        async def capped_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    detail = f"the body is over {limit} bytes"
                    await send_problem(send, scope, 413, "content-too-large", detail, "body")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        return capped_receive, guarded_send


LIVENESS = "/healthz"
ALIVE = b'{"status":"ok"}'
ALIVE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(ALIVE)).encode()),
]


async def _send_alive(send: Send, head: bool) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": ALIVE_HEADERS})
    await send({"type": "http.response.body", "body": b"" if head else ALIVE})


REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
RETRY_AFTER = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
TITLES = {
    400: "Bad request",
    406: "Not acceptable",
    408: "Request timeout",
    503: "Service unavailable",
    429: "Too many requests",
    413: "Content too large",
    414: "URI too long",
    415: "Unsupported media type",
}


def problem_body(status: int, slug: str, detail: str, instance: str, param: str = "") -> bytes:
    """The problem+json document of a refusal made outside the app's error handlers."""
    return json.dumps(
        {
            "type": f"/problems/{slug}",
            "title": TITLES[status],
            "status": status,
            "detail": detail,
            "instance": instance,
        }
        | ({"param": param} if param else {})
    ).encode()


async def send_problem(
    send: Send,
    scope: Scope,
    status: int,
    slug: str,
    detail: str,
    param: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with a problem+json document before the app sees the request."""
    body = problem_body(status, slug, detail, scope["path"], param)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the record's extra fields."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        line |= {k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)}
        return json.dumps(line)


LOG = logging.getLogger("geoevents.access")


class Buckets:
    """Token buckets in this process's memory: `rate` tokens a second up to `burst`."""

    MAX_CALLERS = 100_000

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, caller: str) -> tuple[bool, float]:
        """Take a token if there is one: (taken, tokens left)."""
        now = time.monotonic()
        tokens, seen = self._buckets.pop(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - seen) * self.rate)
        taken = tokens >= 1.0
        if taken:
            tokens -= 1.0
        self._buckets[caller] = (tokens, now)
        while len(self._buckets) > self.MAX_CALLERS:
            self._buckets.popitem(last=False)
        return taken, tokens


class SharedBuckets(Buckets):
    """Token buckets every worker of one server shares, in a SQLite file of its serving
    folder (app.core.runtime): with N workers a caller still gets the rate once, not N times.

    One statement takes a token, atomically across processes; it runs on the event loop
    (tens of microseconds, never on disk: the file is not synced)."""

    TAKE = """
        INSERT INTO buckets (caller, tokens, seen, taken) VALUES (:caller, :burst - 1, :now, 1)
        ON CONFLICT (caller) DO UPDATE SET
            tokens = min(:burst, tokens + max(0, :now - seen) * :rate)
                - (min(:burst, tokens + max(0, :now - seen) * :rate) >= 1),
            taken = min(:burst, tokens + max(0, :now - seen) * :rate) >= 1,
            seen = :now
        RETURNING taken, tokens
    """

    def __init__(self, rate: float, burst: int, path: Path) -> None:
        super().__init__(rate, burst)
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._taken = 0

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:  # opened in the worker that uses it
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout=1000")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute(
                "CREATE TABLE IF NOT EXISTS buckets (caller TEXT PRIMARY KEY, tokens REAL, "
                "seen REAL, taken INTEGER)"
            )
            self._connection = db
        return self._connection

    def take(self, caller: str) -> tuple[bool, float]:
        """Take a token if there is one: (taken, tokens left)."""
        now = time.monotonic()  # one clock for every process of the host
        values = {"caller": caller, "burst": self.burst, "now": now, "rate": self.rate}
        try:
            db = self._db()
            taken, tokens = db.execute(self.TAKE, values).fetchone()
            self._taken += 1
            if self._taken % 10_000 == 0:  # forget callers whose bucket is full again
                full = now - self.burst / self.rate
                db.execute("DELETE FROM buckets WHERE seen < ?", (full,))
        except sqlite3.Error:
            # The shared file is unusable (the folder removed under us): keep limiting in
            # this process rather than not at all.
            LOG.warning("shared rate-limit buckets unavailable; limiting per process")
            return super().take(caller)
        return bool(taken), float(tokens)


class ClientAddress:
    """The address a request comes from: the peer's, or, when the peer is a trusted proxy,
    the nearest address in X-Forwarded-For that is not one (TRUSTED_PROXIES)."""

    def __init__(self, trusted: list[str]) -> None:
        self.networks = []
        self.names = set()
        for entry in trusted:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.add(entry)

    def _trusted(self, address: str) -> bool:
        if address in self.names:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, scope: Scope, headers: Headers) -> str:
        """The client's address for this request."""
        peer = (scope.get("client") or ("unknown", 0))[0]
        if not self._trusted(peer):
            return str(peer)
        hops = [h.strip() for h in ",".join(headers.getlist("x-forwarded-for")).split(",")]
        for hop in reversed([h for h in hops if h]):
            if not self._trusted(hop):
                return hop
        return str(peer)


class RateLimitMiddleware:
    """A token bucket per caller: `rate` requests a second on average, `burst` at once;
    beyond that 429 problem+json with Retry-After. Every answer says where the caller stands
    (RateLimit-Limit, -Remaining, -Reset).

    A caller is a verified API key (by its holder, however the header is spelled), else the
    client's address: a key that does not verify counts against the address that sent it.
    `identify` maps a bearer secret to its holder's name (None when unknown or revoked);
    answers are remembered for a minute, and each address may have LOOKUPS_BURST keys
    looked up at once, LOOKUPS_PER_SECOND a second. Under `geoevents serve` the buckets are
    shared by the workers (SharedBuckets); each host keeps its own.
    """

    EXEMPT = PROBES
    KNOWN_FOR = 60.0
    MAX_KNOWN = 10_000
    LOOKUPS_PER_SECOND = 1.0
    LOOKUPS_BURST = 10

    def __init__(
        self,
        app: ASGIApp,
        rate: float,
        burst: int,
        identify: Callable[[Any, str], str | None] | None = None,
        trusted_proxies: list[str] | None = None,
        shared: Path | None = None,
    ) -> None:
        self.app = app
        self.rate = rate
        self.burst = burst
        self.identify = identify
        self.address = ClientAddress(trusted_proxies or [])
        self.buckets = SharedBuckets(rate, burst, shared) if shared else Buckets(rate, burst)
        self._known: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        self.lookups = Buckets(self.LOOKUPS_PER_SECOND, self.LOOKUPS_BURST)

    async def _look_up(self, scope: Scope, secret: str, digest: str) -> str | None:
        """The verified holder of a key, from the database, remembered under its digest."""
        now = time.monotonic()
        holder = None
        if self.identify is not None:
            try:
                holder = await run_in_threadpool(self.identify, state_of(scope["app"]), secret)
            except SQLAlchemyError:
                return None  # unverifiable now: the address's bucket, and ask again later
        self._known[digest] = (holder, now + self.KNOWN_FOR)
        self._known.move_to_end(digest)
        while len(self._known) > self.MAX_KNOWN:
            self._known.popitem(last=False)
        return holder

    async def _take(self, scope: Scope) -> tuple[bool, float]:
        headers = Headers(scope=scope)
        address = "ip:" + self.address(scope, headers)
        secret = bearer_secret(headers.get("authorization"))
        if secret is None:
            return self.buckets.take(address)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        known = self._known.get(digest)
        if known is None or known[1] <= time.monotonic():
            # Not verified lately. Look-ups have a budget per address, so that a flood of
            # made-up keys costs the database little; past it, the key counts as unverified.
            if not self.lookups.take(address)[0]:
                return self.buckets.take(address)
            holder = await self._look_up(scope, secret, digest)
        else:
            holder = known[0]
        return self.buckets.take(address if holder is None else "key:" + holder)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or scope["path"] in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        allowed, left = await self._take(scope)
        wait = max(0.0, (1.0 - left) / self.rate)
        limit_headers = [
            (b"ratelimit-limit", str(self.burst).encode()),
            (b"ratelimit-remaining", str(max(0, int(left))).encode()),
            (b"ratelimit-reset", str(math.ceil(wait)).encode()),
        ]

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *limit_headers]
            await send(message)

        if allowed:
            await self.app(scope, receive, send_with_limits)
            return
        limit_headers.append((b"retry-after", str(max(1, math.ceil(wait))).encode()))
        detail = f"more than {self.burst} requests at once or {self.rate:g} a second; retry later"
        await send_problem(send_with_limits, scope, 429, "too-many-requests", detail, "")


def bearer_secret(authorization: str | None) -> str | None:
    """The secret of an `Authorization: Bearer …` header (any case, any spacing), if any."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None
