"""Test fixtures: a migrated, seeded database (SQLite, or PostgreSQL when TEST_DATABASE_URL is
set) and, per test, the real app on a connection whose transaction is rolled back afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.auth import service as auth
from app.auth.schemas import Scope
from app.core.config import Settings
from app.core.db import make_engine, session_scope, sqlalchemy_url
from app.core.migrations import alembic_config
from app.curation.seed import service as seeding
from app.main import create_app
from app.web.state import state_of


def _database_url(tmp_dir: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.db'}"


def reset_database(engine: Engine) -> None:
    """Drop everything, so the suite always starts from an empty database."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the suite's database."""
    return _database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings pointing at the test database."""
    return Settings(database_url=database_url)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on a freshly migrated and seeded database."""
    engine = make_engine(settings.database_url)
    reset_database(engine)
    migrate_and_seed(engine, settings)
    yield engine
    engine.dispose()


def migrate_and_seed(engine: Engine, settings: Settings) -> None:
    """Bring an empty database to the head revision and load the seed into it."""
    command.upgrade(alembic_config(engine.url.render_as_string(hide_password=False)), "head")
    for session in session_scope(sessionmaker(bind=engine)):
        seeding.seed(session, settings.seed_dir)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session whose commits only release savepoints of the test's transaction."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture
def client(settings: Settings, connection: Connection) -> Iterator[TestClient]:
    """The real app, its sessions bound to the test's rolled-back connection."""
    app = create_app(settings)
    state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    with TestClient(app) as c:
        yield c


ARTICLE_CANDIDATES = [
    Path(os.environ["GEOEVENTS_ARTICLE"]) if os.environ.get("GEOEVENTS_ARTICLE") else None,
    Settings().seed_dir / "article.txt",  # the copy that ships with the seed
    Settings().article_path,
]


@pytest.fixture(scope="session")
def article() -> str:
    """The seed article's text, or a skip that says where it was looked for."""
    for path in ARTICLE_CANDIDATES:
        if path is not None and path.is_file():
            return path.read_text(encoding="utf-8")
    where = ", ".join(str(p) for p in ARTICLE_CANDIDATES if p is not None)
    pytest.skip(f"seed article not found (looked in {where}; set GEOEVENTS_ARTICLE)")


@pytest.fixture
def scratch_url(database_url: str, tmp_path: object) -> Iterator[str]:
    """A second, empty database on the same store as the suite's."""
    yield from scratch_database(database_url, tmp_path, "scratch")


def scratch_database(database_url: str, tmp_path: object, label: str) -> Iterator[str]:
    """An empty database beside the suite's (a file, or a PostgreSQL database dropped after)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/{label}.db"
        return
    name = f"geoevents_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sqlalchemy_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seeded_scratch(
    database_url: str, tmp_path: object, label: str
) -> Iterator[tuple[str, Engine, str]]:
    """A migrated, seeded database of its own beside the suite's (for tests whose reads
    must see committed writes), its engine, and the secret of a write key on it."""
    for url in scratch_database(database_url, tmp_path, label):
        engine = make_engine(url)
        try:
            migrate_and_seed(engine, Settings(database_url=url))
            with sessionmaker(bind=engine)() as setup:
                key = auth.create(setup, "test-write", Scope.write)
                setup.commit()
            yield url, engine, key
        finally:
            engine.dispose()


@pytest.fixture
def keys(session: Session) -> dict[str, str]:
    """Secrets of a read, a write, an admin and a revoked write key."""
    made = {scope.value: auth.create(session, f"test-{scope.value}", scope) for scope in Scope}
    made["revoked"] = auth.create(session, "test-revoked", Scope.write)
    auth.revoke(session, "test-revoked")
    session.commit()
    return made
