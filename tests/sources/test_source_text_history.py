"""A source's text in its history, and the migration that stores the seed article in a
database seeded before the seed stored it. Both run on databases of their own: reads as of a
moment may run on connections of their own, which see only what is committed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.auth import service as auth
from app.auth.schemas import Scope
from app.changes.models import Revision
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker, session_scope
from app.core.migrations import add_dataset_columns, alembic_config
from app.curation.seed import service as seeding
from app.main import create_app
from app.sources.models import Source
from tests.conftest import migrate_and_seed, scratch_database
from tests.curation.conftest import bearer, etag
from tests.test_error_shape import assert_problem

SEED_DIR = Settings().seed_dir
SEED_SOURCE = "putin-roundup-article"
BEFORE_TEXTS = "7a3e5c1d9b24"  # the revision before the seed article was stored


@pytest.fixture
def scratch(database_url: str, tmp_path: Any) -> Iterator[str]:
    """An empty database of its own, on the suite's store."""
    yield from scratch_database(database_url, tmp_path, "texts")


def test_as_of_before_a_text_was_given_there_is_none(scratch: str) -> None:
    engine = make_engine(scratch)
    try:
        migrate_and_seed(engine, Settings(database_url=scratch))
        with make_sessionmaker(engine)() as setup:
            writer = bearer(auth.create(setup, "test-write", Scope.write))
            setup.commit()
        with TestClient(create_app(Settings(database_url=scratch))) as client:
            source = {"id": "later-text", "kind": "report", "published_date_precision": "unknown"}
            assert client.post("/v1/sources", json=source, headers=writer).status_code == 201
            url = "/v1/sources/later-text"
            before = datetime.now(UTC).isoformat()
            text = "Words given later."
            patch = {"text": text}
            changed = client.patch(
                url, json=patch, headers=writer | {"If-Match": etag(client, url)}
            )
            assert changed.status_code == 200, changed.text
            after = datetime.now(UTC).isoformat()
            assert_problem(client.get(f"{url}/text", params={"as_of": before}), 404, "source_id")
            assert client.get(f"{url}/text", params={"as_of": after}).text == text
            past = client.get(url, params={"as_of": before}).json()
            assert past["sha256"] is None
            assert client.get(url, params={"as_of": after}).json() == changed.json()
            feed = client.get("/v1/changes", params={"kind": "source"}).json()["data"]
            assert [c["op"] for c in feed if c["record_id"] == "later-text"] == [
                "created",
                "updated",
            ]
    finally:
        engine.dispose()


def _seed_without_text(engine: Engine, url: str) -> None:
    """A database as the seed left it before it stored the article's text."""
    command.upgrade(alembic_config(url), BEFORE_TEXTS)
    # This code's write path writes the columns a later revision adds (as the revision that
    # stores the text adds them first).
    with engine.begin() as conn:
        add_dataset_columns(conn)
    for session in session_scope(make_sessionmaker(engine)):
        (path,) = seeding.bundle_paths(SEED_DIR)
        seeding.apply(session, seeding.load_bundle(path), text=None)


def _upgrade(url: str, seed_dir: Path) -> None:
    config = alembic_config(url)
    config.attributes["seed_dir"] = seed_dir
    command.upgrade(config, "head")


def _text(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(select(Source.text).where(Source.id == SEED_SOURCE))


def test_the_migration_stores_the_shipped_article(
    scratch: str, capfd: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(scratch)
    try:
        _seed_without_text(engine, scratch)
        assert _text(engine) is None
        _upgrade(scratch, SEED_DIR)
        assert _text(engine) == (SEED_DIR / "article.txt").read_text(encoding="utf-8")
        assert "keeps no text" not in capfd.readouterr().err
        with engine.connect() as conn:
            written = conn.execute(
                select(Revision.op, Revision.author).where(
                    Revision.kind == "source", Revision.record_id == SEED_SOURCE
                )
            ).all()
        assert [tuple(r) for r in written] == [("created", "seed"), ("updated", "migration")]
        # Seeding again finds everything in place.
        for session in session_scope(make_sessionmaker(engine)):
            assert seeding.seed(session, SEED_DIR).changed is False
    finally:
        engine.dispose()


def test_without_the_article_the_migration_leaves_the_text_null(
    scratch: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "seed"
    bare.mkdir()
    shutil.copy(SEED_DIR / "article.yaml", bare / "article.yaml")
    engine = make_engine(scratch)
    try:
        _seed_without_text(engine, scratch)
        _upgrade(scratch, bare)
        assert _text(engine) is None
        said = capfd.readouterr().err
        assert f"source {SEED_SOURCE!r} keeps no text" in said
        assert "article.txt is not there" in said
        # A text that is not the one the source describes is not stored either.
        command.downgrade(alembic_config(scratch), BEFORE_TEXTS)
        (bare / "article.txt").write_text("Not the article.", encoding="utf-8")
        _upgrade(scratch, bare)
        assert _text(engine) is None
        assert "SHA-256" in capfd.readouterr().err
        # Once the file is there, the seed stores it.
        shutil.copy(SEED_DIR / "article.txt", bare / "article.txt")
        for session in session_scope(make_sessionmaker(engine)):
            assert seeding.seed(session, bare).changed is True
        assert _text(engine) == (SEED_DIR / "article.txt").read_text(encoding="utf-8")
    finally:
        engine.dispose()
