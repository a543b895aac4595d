"""Against a real streaming replica: reads go to it, a client reads its own writes, and a
cached answer is stored under the data version of the data it shows.

Replay on the replica is paused (`pg_wal_replay_pause()`) to make it lag as long as a test
needs, and resumed to let it catch up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import sessionmaker

from app.auth import service as auth
from app.auth.schemas import Scope
from app.core import version as data_version
from app.core.config import Settings
from app.core.db import DriverRead, make_engine, session_scope, sqlalchemy_url
from app.core.migrations import alembic_config
from app.curation.seed import service as seeding
from app.main import create_app
from app.web import reads
from app.web.consistency import TOKEN_HEADER, parse_lsn
from app.web.http_cache import HTTPCacheMiddleware, http_date
from app.web.state import state_of
from tests.fixtures import streaming_replica

WAIT_MS = 300
WHERE = (
    "it runs in the PostgreSQL pass of the suite (TEST_DATABASE_URL=postgresql://…) and in "
    "`make replicatest`"
)
RUNS_HERE = (
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
    or os.environ.get("REPLICA_TEST") == "1"
)


class Pair:
    """The running primary and replica, with autocommit connections to steer them."""

    def __init__(self, primary_url: str, replica_url: str) -> None:
        self.primary_url, self.replica_url = primary_url, replica_url
        self.primary = create_engine(sqlalchemy_url(primary_url), isolation_level="AUTOCOMMIT")
        self.replica = create_engine(sqlalchemy_url(replica_url), isolation_level="AUTOCOMMIT")

    def primary_lsn(self) -> str:
        with self.primary.connect() as conn:
            return str(conn.scalar(text("SELECT pg_current_wal_insert_lsn()::text")))

    def replayed(self) -> int:
        with self.replica.connect() as conn:
            position = parse_lsn(str(conn.scalar(text("SELECT pg_last_wal_replay_lsn()::text"))))
        assert position is not None
        return position

    def catch_up(self, token: str | None = None) -> None:
        """Wait until the replica has replayed `token` (default: all the primary wrote)."""
        wanted = parse_lsn(token or self.primary_lsn())
        assert wanted is not None
        deadline = time.monotonic() + 20
        while self.replayed() < wanted:
            assert time.monotonic() < deadline, "the replica did not catch up in 20 s"
            time.sleep(0.02)

    def pause(self) -> None:
        with self.replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
            deadline = time.monotonic() + 10
            while conn.scalar(text("SELECT pg_get_wal_replay_pause_state()")) != "paused":
                assert time.monotonic() < deadline, "replay did not pause"
                time.sleep(0.01)

    def resume(self) -> None:
        with self.replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))

    def version(self, engine: Engine) -> tuple[int, datetime | None]:
        return data_version.read(engine)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """A migrated, seeded primary and its replica, caught up."""
    if not RUNS_HERE:
        pytest.skip(f"streaming replica test skipped in the SQLite pass: {WHERE}")
    why = streaming_replica.missing()
    if why is not None:
        pytest.skip(f"streaming replica test: {why}")
    with streaming_replica.streaming_pair() as urls:
        steer = Pair(urls.primary_url, urls.replica_url)
        settings = Settings(database_url=urls.primary_url)
        command.upgrade(alembic_config(urls.primary_url), "head")
        engine = make_engine(urls.primary_url)
        for session in session_scope(sessionmaker(bind=engine)):
            seeding.seed(session, settings.seed_dir)
        engine.dispose()
        steer.catch_up()
        try:
            yield steer
        finally:
            steer.resume()
            steer.primary.dispose()
            steer.replica.dispose()


@pytest.fixture
def served(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, dict[str, str], dict[str, int]]]:
    """The app on the pair, a write key's header, and reads run per database: statements
    through SQLAlchemy, and the read path's driver reads (which bypass its events)."""
    engine = make_engine(pair.primary_url)
    for session in session_scope(sessionmaker(bind=engine)):
        key = auth.create(session, f"replica-{time.monotonic_ns()}", Scope.write)
    engine.dispose()
    pair.catch_up()
    app = create_app(
        Settings(
            database_url=pair.primary_url,
            database_read_url=pair.replica_url,
            replica_wait_ms=WAIT_MS,
        )
    )
    seen = {"replica": 0, "primary": 0}
    watched = {
        "replica": state_of(app).read_sessionmaker.kw["bind"],
        "primary": state_of(app).primary_read_sessionmaker.kw["bind"],
    }
    for name, bound in watched.items():
        event.listen(
            bound, "before_cursor_execute", lambda *a, n=name, **k: seen.__setitem__(n, seen[n] + 1)
        )

    class CountedRead(DriverRead):
        def __init__(self, bind: Engine | Connection) -> None:
            for name, bound in watched.items():
                if bind is bound:
                    seen[name] += 1
            super().__init__(bind)

    monkeypatch.setattr(reads, "DriverRead", CountedRead)
    with TestClient(app) as client:
        try:
            yield client, {"Authorization": f"Bearer {key}"}, seen
        finally:
            pair.resume()


def _uncached(client: TestClient) -> None:
    # Each read below must reach a database: a cached answer would be served after the
    # version read alone, wherever the answer first came from.
    state_of(client.app).response_cache.max_entries = 0


def _actor(name: str) -> dict[str, str]:
    return {"id": name, "name": name.replace("-", " ").title(), "kind": "person"}


def _counted(seen: dict[str, int], call: Any) -> tuple[Any, dict[str, int]]:
    before = dict(seen)
    answer = call()
    return answer, {name: seen[name] - before[name] for name in seen}


def test_reads_go_to_the_replica_and_a_token_reads_your_write(
    pair: Pair, served: tuple[TestClient, dict[str, str], dict[str, int]]
) -> None:
    client, writer, seen = served
    _uncached(client)
    pair.pause()
    created = client.post("/v1/actors", json=_actor("replica-lag-actor"), headers=writer)
    assert created.status_code == 201
    token = created.headers[TOKEN_HEADER]
    assert parse_lsn(token) is not None
    assert pair.replayed() < (parse_lsn(token) or 0)  # the replica really lags behind it

    # Without the token: the replica answers, as it stands (the actor is not there yet).
    url = "/v1/actors/replica-lag-actor"
    answer, ran = _counted(seen, lambda: client.get(url))
    assert answer.status_code == 404
    assert ran["replica"] > 0
    assert ran["primary"] == 0

    # With it: the replica cannot replay it (paused), so after the bounded wait the primary
    # answers, with the write.
    started = time.monotonic()
    answer, ran = _counted(seen, lambda: client.get(url, headers={TOKEN_HEADER: token}))
    waited = time.monotonic() - started
    assert answer.status_code == 200
    assert answer.json()["name"] == "Replica Lag Actor"
    assert ran["primary"] > 0
    assert ran["replica"] == 0
    assert WAIT_MS / 1000 <= waited < WAIT_MS / 1000 + 5

    # Once replayed, the replica answers the token itself, at once.
    pair.resume()
    pair.catch_up(token)
    started = time.monotonic()
    answer, ran = _counted(seen, lambda: client.get(url, headers={TOKEN_HEADER: token}))
    assert answer.status_code == 200
    assert ran["replica"] > 0
    assert ran["primary"] == 0
    assert time.monotonic() - started < WAIT_MS / 1000
    assert client.get(url).status_code == 200


def test_a_token_the_replica_replays_while_waiting_is_answered_by_it(
    pair: Pair, served: tuple[TestClient, dict[str, str], dict[str, int]]
) -> None:
    client, writer, seen = served
    _uncached(client)
    # No pause: the replica streams the write within milliseconds, inside the wait.
    created = client.post("/v1/actors", json=_actor("replica-quick-actor"), headers=writer)
    token = created.headers[TOKEN_HEADER]
    answer, ran = _counted(
        seen, lambda: client.get("/v1/actors/replica-quick-actor", headers={TOKEN_HEADER: token})
    )
    assert answer.status_code == 200
    assert ran["replica"] > 0
    assert ran["primary"] == 0


def test_a_cached_answer_is_stored_under_the_version_of_its_data(
    pair: Pair,
    served: tuple[TestClient, dict[str, str], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, writer, _ = served
    cache = state_of(client.app).response_cache
    url = "/v1/actors?kind=person&limit=1000"
    key = f"http://testserver{url}|*/*"  # scheme and Host, then the URL and Accept
    pair.pause()
    created = client.post("/v1/actors", json=_actor("replica-cached-actor"), headers=writer)
    token = created.headers[TOKEN_HEADER]
    before, _ = pair.version(pair.replica)
    after, changed_at = pair.version(pair.primary)
    assert after > before

    # The replica replays the write after the middleware read the version (to look the cache
    # up) and before the route reads its data: the answer shows the write, so it must be
    # stored under the write's version, not under the one read first.
    read_version = HTTPCacheMiddleware._version

    async def replay_in_between(self: HTTPCacheMiddleware, scope: Any) -> Any:
        version = await read_version(self, scope)
        pair.resume()
        pair.catch_up(token)
        return version

    monkeypatch.setattr(HTTPCacheMiddleware, "_version", replay_in_between)
    answer = client.get(url)
    monkeypatch.undo()
    assert answer.status_code == 200
    assert "replica-cached-actor" in answer.text
    assert cache.get((before, key)) is None
    stored = cache.get((after, key))
    assert stored is not None
    assert stored.body == answer.content
    assert answer.headers["etag"] == stored.etag
    # No Last-Modified when the write shared its second with another (app.version.bump).
    modified = http_date(changed_at) if changed_at is not None else None
    assert answer.headers.get("last-modified") == modified

    # Served again from the cache, under the same version and validators.
    again = client.get(url)
    assert again.content == answer.content
    assert again.headers["etag"] == answer.headers["etag"]
