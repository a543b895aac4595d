"""Limits that keep a process fast under load."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ConcurrencyLimitMiddleware:
    """At most `limit` requests of this process are worked on at once; the rest wait their
    turn on the event loop, where waiting costs nothing.

    Routes run in worker threads that share one interpreter lock: thirty-two of them at once
    spend their time handing the lock around (at 1 M events on SQLite, Q1 answered 46 req/s
    at 32 connections against 80 with the limit at 2). A request leaves its place when its
    answer starts, so a streamed export, which does its work while it is sent, holds none.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
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
