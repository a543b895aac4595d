"""Backups: export, import into an empty database, export again: the same bytes, on either
store and across them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.db import make_engine, make_sessionmaker
from app.core.errors import Conflict
from app.core.migrations import alembic_config
from app.curation import backups
from tests.conftest import scratch_database
from tests.curation.conftest import bearer, etag, new_event
from tests.curation.test_history import snapshot


def export(session: Session) -> bytes:
    return b"".join(backups.export_lines(session))


def load(url: str, data: bytes) -> bytes:
    """Import into the empty database at url, then export it again."""
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            backups.import_lines(session, data.splitlines(keepends=True))
            session.commit()
        with make_sessionmaker(engine)() as session:
            return export(session)
    finally:
        engine.dispose()


@pytest.fixture
def other_store(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the other store: SQLite when the suite runs on PostgreSQL, and
    a second SQLite file otherwise (the PostgreSQL run covers both directions)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/other.db"
    else:
        yield f"sqlite:///{tmp_path}/from-postgresql.db"


def test_export_import_export_is_byte_identical(
    client: TestClient,
    session: Session,
    keys: dict[str, str],
    database_url: str,
    tmp_path: Path,
    other_store: str,
) -> None:
    writer = bearer(keys["write"])
    assert client.post("/v1/events", json=new_event(), headers=writer).status_code == 201
    url = "/v1/events/putin-xi-video-summit"
    client.patch(url, json={"title": "Edited"}, headers=writer | {"If-Match": etag(client, url)})
    claim = "/v1/claims/summit-ties-exemplary"
    client.delete(claim, headers=writer | {"If-Match": etag(client, claim)})
    original = export(session)
    assert original.count(b"\n") > 100

    scratch = contextmanager(scratch_database)
    with scratch(database_url, tmp_path, "same") as same_store:
        assert load(same_store, original) == original
    crossed = load(other_store, original)
    assert crossed == original
    if not database_url.startswith("sqlite"):  # and back: SQLite -> PostgreSQL
        with scratch(database_url, tmp_path, "back") as back:
            assert load(back, crossed) == original

    engine = make_engine(other_store)
    try:
        with make_sessionmaker(engine)() as restored:
            assert snapshot(restored) == snapshot(session)
    finally:
        engine.dispose()


def test_import_refuses_a_database_that_holds_data(session: Session) -> None:
    data = export(session)
    with pytest.raises(Conflict):
        backups.import_lines(session, data.splitlines(keepends=True))
