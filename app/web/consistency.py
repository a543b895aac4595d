"""Read your own writes across a primary and a lagging streaming replica.

Every successful write under /v1 answers with a `Consistency-Token`: on PostgreSQL the
primary's WAL position read right after the write committed (`pg_current_wal_insert_lsn()`,
which is at or past the end of the commit record, whatever `synchronous_commit` says), written
as PostgreSQL writes an LSN (`0/3000148`). A read that sends the token back is answered from
the replica once the replica has replayed that position (`pg_last_wal_replay_lsn()`), waiting
for it at most `REPLICA_WAIT_MS`, and from the primary otherwise, so it sees the write either
way. A read without a token goes to the replica, however far behind it is.

On SQLite, and wherever there is no replica, reads and writes share one database and the
token is `0/0`, a position every database has reached; a read may send it back, or any other
token, and is answered as without one.
"""

from __future__ import annotations

import re
import time
from typing import Any

import anyio
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.state import state_of

TOKEN_HEADER = "Consistency-Token"
NO_POSITION = "0/0"
# Request state: the token of a committed write, and a read that must go to the primary.
WRITE_TOKEN = "consistency_token"
READ_FROM_PRIMARY = "read_from_primary"

_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")
_SAFE = {"GET", "HEAD"}
FIRST_POLL_S = 0.005
LONGEST_POLL_S = 0.05


def parse_lsn(token: str) -> int | None:
    """A WAL position as a number, or None for anything that is not an LSN."""
    match = _LSN.fullmatch(token.strip())
    if match is None:
        return None
    return (int(match[1], 16) << 32) | int(match[2], 16)


def write_token(session: Session) -> str:
    """The token of a write whose transaction `session` has just committed."""
    if session.get_bind().dialect.name != "postgresql":
        return NO_POSITION
    return str(session.scalar(text("SELECT pg_current_wal_insert_lsn()::text")))


class Replica:
    """A streaming replica of the primary, and how far it has replayed the primary's WAL."""

    def __init__(self, engine: Engine, wait_ms: int) -> None:
        self.engine = engine
        self.wait_s = wait_ms / 1000

    def replayed(self) -> int | None:
        """The last WAL position the replica replayed; None when it is not a standby (then
        nothing proves it holds a given write)."""
        with self.engine.connect() as connection:
            position = connection.scalar(text("SELECT pg_last_wal_replay_lsn()::text"))
        return None if position is None else parse_lsn(position)

    async def has_replayed(self, wanted: int) -> bool:
        """Whether the replica replays position `wanted` within the bounded wait; polled,
        briefly at first, on the event loop (a waiting read holds no thread)."""
        deadline = time.monotonic() + self.wait_s
        pause = FIRST_POLL_S
        while True:
            try:
                replayed = await run_in_threadpool(self.replayed)
            except SQLAlchemyError:  # an unreachable replica: the primary answers
                return False
            if replayed is None:
                return False
            if replayed >= wanted:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            await anyio.sleep(min(pause, left))
            pause = min(pause * 2, LONGEST_POLL_S)


class ConsistencyMiddleware:
    """Puts the token on successful writes under /v1, and sends a read carrying one to the
    database that has its write: the replica when it catches up in time, else the primary.

    Outside the response cache, so that the cache's version read goes to that database too.
    """

    PREFIX = "/v1/"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.PREFIX):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        if scope["method"] in _SAFE:
            token = Headers(scope=scope).get(TOKEN_HEADER)
            replica = state_of(scope["app"]).replica
            if token is not None and replica is not None:
                wanted = parse_lsn(token)
                if wanted is None or not await replica.has_replayed(wanted):
                    state[READ_FROM_PRIMARY] = True
            await self.app(scope, receive, send)
            return

        async def send_with_token(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                token = state.get(WRITE_TOKEN)
                if token is not None:
                    MutableHeaders(raw=message["headers"])[TOKEN_HEADER] = token
            await send(message)

        await self.app(scope, receive, send_with_token)
