"""Read and bump the data version."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import threading
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.changes.models import DataVersion, Revision
from app.changes.schemas import RevisionRead
from app.core.db import utcnow


def current(session: Session) -> tuple[int, datetime | None]:
    """The data version and its Last-Modified: when it moved, or None when that second
    does not identify it (see `bump`)."""
    row = session.execute(
        select(DataVersion.version, DataVersion.changed_at, DataVersion.changed_alone)
    ).one()
    return _version(row)


def bump(session: Session) -> None:
    """Record that data changed.

    Last-Modified counts whole seconds, so a second in which two versions were committed
    cannot tell a client's copy of the first from the second: such a version is marked
    not alone, and answers built from it carry no Last-Modified and never validate one.
    Writers hold the data version's row lock (lock_writes), so the previous moment read here
    is the latest one, and `changed_at` never goes backwards, even across hosts whose clocks
    differ (a write that reads a moment later than its own clock is not alone either).
    """
    lock_writes(session)
    before = session.scalar(select(DataVersion.changed_at).where(DataVersion.id == 1))
    now = utcnow()
    alone = before is None or now.replace(microsecond=0) > before.replace(microsecond=0)
    session.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(
            version=DataVersion.version + 1,
            changed_at=now if before is None else max(now, before),
            changed_alone=alone,
        )
    )


CURRENT_SQL = "SELECT version, changed_at, changed_alone FROM data_version WHERE id = 1"


def read(engine: Engine) -> tuple[int, datetime | None]:
    """The data version and when it last moved, on a pooled DBAPI connection without a
    session: the read every cached answer costs, so it is kept to one plain statement."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(CURRENT_SQL)
        row = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()
    return _version(row)


class LocalReader:
    """Reads the data version of a SQLite file on a connection of its own, outside the pool.

    Cheap enough to run on the event loop (a few microseconds; in WAL mode a reader never
    waits on a writer), and never waits for a pooled connection, which only the event loop
    can give back. Opened on first use, so in the process that uses it.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def __call__(self) -> tuple[int, datetime | None]:
        """The data version and when it last moved."""
        if self._connection is None:
            self._connection = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=1.0
            )
        try:
            return _version(self._connection.execute(CURRENT_SQL).fetchone())
        except sqlite3.Error:
            self._connection.close()
            self._connection = None
            raise


def _version(row: Any) -> tuple[int, datetime | None]:
    if row is None:
        raise LookupError("data_version has no row; run the migrations")
    version, changed_at, alone = row
    if not alone:
        return int(version), None
    if isinstance(changed_at, str):  # SQLite stores datetimes as ISO text
        changed_at = datetime.fromisoformat(changed_at)
    if changed_at.tzinfo is None:
        changed_at = changed_at.replace(tzinfo=UTC)
    return int(version), changed_at.astimezone(UTC)


def revision_read(revision: Revision) -> RevisionRead:
    """A revision as the API shows it."""
    before, after = _document(revision.before), _document(revision.after)
    old, new = before or {}, after or {}
    return RevisionRead(
        seq=revision.seq,
        at=revision.at,
        kind=revision.kind,
        record_id=revision.record_id,
        event_id=revision.event_id,
        op=revision.op,
        version=revision.version,
        author=revision.author,
        note=revision.note,
        changes={
            name: {"before": old.get(name), "after": new.get(name)}
            for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)
        },
        before=before,
        after=after,
    )


def _document(text: str | None) -> dict[str, Any] | None:
    return None if text is None else orjson.loads(text)


def feed(session: Session, since: int, limit: int, kinds: list[str]) -> tuple[list[Revision], bool]:
    """Revisions after sequence number `since`, oldest first, and whether more follow."""
    stmt = select(Revision).where(Revision.seq > since)
    if kinds:
        stmt = stmt.where(Revision.kind.in_(kinds))
    rows = list(session.scalars(stmt.order_by(Revision.seq).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def history(session: Session, event_id: str) -> list[Revision]:
    """Every revision of an event and of the claims that were ever about it."""
    return list(
        session.scalars(
            select(Revision).where(Revision.event_id == event_id).order_by(Revision.seq)
        )
    )


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
        from app.core.db import make_engine, make_sessionmaker
        from app.curation import service as curation  # the write path replays revisions
        from app.health.router import alembic_config

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
        revisions = live.scalars(
            select(Revision).where(Revision.seq <= last).order_by(Revision.seq)
        ).yield_per(1000)
        with factory() as session:
            curation.replay(session, revisions)
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


AS_OF_PREFIX = "geoevents-as-of-"
OWNER = "pid"


def lock_writes(session: Session) -> None:
    """Queue this transaction behind any other write: the data version's row lock, taken
    first. SQLite's write transactions already begin IMMEDIATE; on PostgreSQL this keeps two
    writers from maintaining the same derived rows (search, rollups) at once, and makes
    revisions commit in the order of their numbers. Taken once per transaction: the write
    path's steps each ask for it, and only the first asks the database."""
    if session.in_transaction() and session.info.get(LOCKED) is session.get_transaction():
        return
    session.execute(select(DataVersion.id).where(DataVersion.id == 1).with_for_update())
    session.info[LOCKED] = session.get_transaction()


# The session's key for the transaction that holds the write lock.
LOCKED = "geoevents.write_lock"
