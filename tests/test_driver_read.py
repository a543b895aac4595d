"""Driver reads (app.core.db.DriverRead): the busiest answers' transactions without a
session, on the suite's store. Each reads one snapshot, gives its connection back as it
found it, joins the transaction of a connection it is given, and fails as SQLAlchemy fails
for any statement (so that the app answers 503, never 500)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from app.core.config import Settings
from app.core.db import DriverRead, Prepared, make_engine, prepared_rows
from app.core.migrations import alembic_config
from app.main import create_app
from app.web.state import state_of
from tests.conftest import seeded_scratch

VERSION = Prepared("SELECT version FROM data_version WHERE id = 1")
VERSION_TEXT = text("SELECT version FROM data_version WHERE id = 1")
# A record the seed holds of each kind the driver answers, and a list of a prepared shape.
READS = [
    "/v1/events/putin-xi-video-summit",
    "/v1/events?start=2022-01-01&end=2030-12-31&limit=5",
    "/v1/events?actor=russia&limit=5",
    "/v1/actors/russia",
    "/v1/events?actor=Putin&limit=5",  # a name: handed over to the session answer
]


@pytest.fixture
def migrated(scratch_url: str) -> Iterator[Engine]:
    """An engine on an empty, migrated database of the suite's store."""
    command.upgrade(alembic_config(scratch_url), "head")
    engine = make_engine(scratch_url)
    yield engine
    engine.dispose()


def _version(reader: DriverRead) -> int:
    ((version,),) = prepared_rows(reader, VERSION, {})
    return int(version)


def _bump(engine: Engine) -> None:
    """A write committed by another connection."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))


def test_a_driver_read_reads_one_snapshot(migrated: Engine) -> None:
    reader = DriverRead(migrated)
    try:
        before = _version(reader)
        _bump(migrated)
        assert _version(reader) == before  # the write is after this read's snapshot
    finally:
        reader.close()
    reader = DriverRead(migrated)
    try:
        assert _version(reader) == before + 1
    finally:
        reader.close()


def test_the_connection_goes_back_to_the_pool_as_it_was(migrated: Engine) -> None:
    pool = migrated.pool
    assert isinstance(pool, QueuePool)
    raw = migrated.raw_connection()
    isolation = getattr(raw.driver_connection, "isolation_level", None)
    raw.close()
    for _ in range(3):
        reader = DriverRead(migrated)
        _version(reader)
        reader.close()
    assert pool.checkedout() == 0
    raw = migrated.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        assert getattr(driver, "isolation_level", None) == isolation
        if migrated.dialect.name == "sqlite":
            assert not driver.in_transaction
        else:
            assert driver.info.transaction_status == 0  # idle: no transaction open
    finally:
        raw.close()


def test_on_a_connection_it_reads_in_that_connection_s_transaction(migrated: Engine) -> None:
    with migrated.connect() as conn:
        outer = conn.begin()
        conn.execute(text("UPDATE data_version SET version = 41 WHERE id = 1"))
        reader = DriverRead(conn)
        assert _version(reader) == 41  # the transaction's own uncommitted write
        reader.close()
        assert conn.in_transaction()  # closing the read left the transaction to its owner
        assert conn.execute(VERSION_TEXT).scalar_one() == 41
        outer.rollback()
    reader = DriverRead(migrated)
    try:
        assert _version(reader) != 41
    finally:
        reader.close()


def test_a_store_that_cannot_be_reached_raises_as_sqlalchemy_does(
    scratch_url: str, tmp_path: Path
) -> None:
    if scratch_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/no/such/folder/geoevents.db"
    else:
        url = scratch_url.rsplit("/", 1)[0] + "/geoevents_no_such_database"
    engine = make_engine(url)
    try:
        with pytest.raises(OperationalError):
            DriverRead(engine)
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_the_app_s_driver_reads_see_each_committed_write(database_url: str, tmp_path: Path) -> None:
    """On the app's own pool (not the suite's rolled-back connection): a read after a
    committed write sees it, so no pooled connection keeps an older snapshot open; and
    every read gives its connection back."""
    for url, _engine, key in seeded_scratch(database_url, tmp_path, "driver"):
        with TestClient(create_app(Settings(database_url=url))) as client:
            writer = {"Authorization": f"Bearer {key}"}
            path = "/v1/actors/driver-read-actor"
            lists = "/v1/events?start=2022-01-01&end=2030-12-31&limit=1"
            assert client.get(path).status_code == 404
            total = client.get(lists).json()["meta"]["total"]
            actor = {"id": "driver-read-actor", "name": "Driver Read", "kind": "person"}
            assert client.post("/v1/actors", json=actor, headers=writer).status_code == 201
            for _ in range(3):  # on whichever pooled connection each read takes
                assert client.get(path).json()["name"] == "Driver Read"
            etag = client.get(path).headers["etag"]
            renamed = client.patch(
                path, json={"name": "Driver Read, renamed"}, headers=writer | {"If-Match": etag}
            )
            assert renamed.status_code == 200, renamed.text
            for _ in range(3):
                assert client.get(path).json()["name"] == "Driver Read, renamed"
            for read in READS:
                assert client.get(read).status_code == 200, read
            assert client.get(lists).json()["meta"]["total"] == total
            pool = state_of(client.app).engine.pool
            assert isinstance(pool, QueuePool)
            assert pool.checkedout() == 0
