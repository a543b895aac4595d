"""Databases as they stood at a moment, for reads with `as_of`: the change feed replayed
through the write path into a SQLite file of this process."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.changes.models import Revision
from app.core.db import make_engine, make_sessionmaker
from app.core.migrations import alembic_config
from app.core.runtime import AS_OF_PREFIX, OWNER
from app.curation import revisions


class PointInTime:
    """Databases as they stood at a moment, rebuilt by replaying the change feed up to it.

    A read with `as_of` runs its usual query against such a database, so every endpoint
    answers as of then with the same code. Each is a SQLite file keyed by the last revision
    it holds, so all moments between two changes share one; the few most recent are kept.

    A database is built before its request takes a place among those worked on (`prepare`,
    from AsOfMiddleware): requests for the same moment wait for one build on the event loop,
    holding no thread and no place, and one build runs at a time. The files live in a
    folder of this process, removed when the app stops (`close`) or, if it died, when the
    next server starts (app.core.runtime.remove_stale).
    """

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self._lock = threading.Lock()  # guards `_built` only, never held while building
        self._built: OrderedDict[int, tuple[Engine, sessionmaker[Session], Path]] = OrderedDict()
        self._building: dict[int, asyncio.Future[None]] = {}
        self._one_build: asyncio.Semaphore | None = None
        self._folder: Path | None = None  # made on the first build

    @staticmethod
    def last_revision(live: Session, moment: datetime) -> int:
        """The number of the last revision at or before `moment` (0: none)."""
        return live.scalar(select(func.max(Revision.seq)).where(Revision.at <= moment)) or 0

    async def prepare(self, factory: sessionmaker[Session], moment: datetime) -> None:
        """Build the database of `moment` unless it is built already; on the event loop."""
        last = await run_in_threadpool(_on_session, factory, self.last_revision, moment)
        with self._lock:
            if last in self._built:
                return
        pending = self._building.get(last)
        if pending is not None:
            await asyncio.shield(pending)
            return
        pending = asyncio.get_running_loop().create_future()
        self._building[last] = pending
        try:
            if self._one_build is None:
                self._one_build = asyncio.Semaphore(1)
            async with self._one_build:
                await run_in_threadpool(_on_session, factory, self._keep_built, last)
            pending.set_result(None)
        except asyncio.CancelledError:
            pending.cancel()
            raise
        except Exception as exc:
            pending.set_exception(exc)
            pending.exception()  # marked as seen: the waiters raise it themselves
            raise
        finally:
            del self._building[last]

    def session(self, live: Session, moment: datetime) -> Session:
        """A session on the database as it stood at `moment` (built now if `prepare` was
        not called for it)."""
        last = self.last_revision(live, moment)
        self._keep_built(live, last)
        with self._lock:
            self._built.move_to_end(last)
            return self._built[last][1]()

    def _keep_built(self, live: Session, last: int) -> None:
        with self._lock:
            if last in self._built:
                return
        built = self._build(live, last)
        with self._lock:
            if last in self._built:  # built meanwhile by another request
                built[0].dispose()
                return
            self._built[last] = built
            while len(self._built) > self.keep:
                _, (engine, _, path) = self._built.popitem(last=False)
                engine.dispose()
                path.unlink(missing_ok=True)

    def _build(self, live: Session, last: int) -> tuple[Engine, sessionmaker[Session], Path]:

        with self._lock:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix=AS_OF_PREFIX))
                (self._folder / OWNER).write_text(str(os.getpid()))
            folder = self._folder
        path = folder / f"at-{last}-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        feed = live.scalars(
            select(Revision).where(Revision.seq <= last).order_by(Revision.seq)
        ).yield_per(1000)
        with factory() as session:
            revisions.replay(session, feed)
            session.commit()
        return engine, factory, path

    def close(self) -> None:
        """Dispose of every built database and remove the folder."""
        with self._lock:
            for engine, _, _ in self._built.values():
                engine.dispose()
            self._built.clear()
            folder, self._folder = self._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _on_session(factory: sessionmaker[Session], work: Any, *args: Any) -> Any:
    with factory() as session:
        return work(session, *args)
