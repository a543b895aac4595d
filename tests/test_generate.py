"""The benchmark corpus generator writes through the real schema on either store."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.bench.generate import generate
from app.core.config import Settings
from app.core.db import make_engine
from app.main import create_app
from tests.conftest import scratch_database


def test_generate_a_small_corpus_and_query_it(scratch_url: str) -> None:
    counts = generate(scratch_url, 300, seed=3, echo=lambda _: None)
    assert counts["events"] == 300
    assert counts["actor_events"] == counts["event_actors"]
    assert counts["timeline_days"] > 0
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        listed = client.get("/v1/events", params={"limit": 5}).json()
        assert listed["meta"]["total"] == 300
        first = listed["data"][0]["id"]
        detail = client.get(f"/v1/events/{first}")
        assert detail.status_code == 200
        assert detail.headers["etag"].startswith('"1-')
        rolled = client.get("/v1/stats/timeline", params={"interval": "year"}).json()
        assert rolled["meta"]["total"] == 300
        # The search rows are written in bulk: a word of a title finds its event.
        word = max(listed["data"][0]["title"].split(), key=len)
        found = client.get("/v1/events", params={"q": word, "limit": 1000}).json()
        assert first in {item["id"] for item in found["data"]}
    engine = make_engine(scratch_url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # Its FTS5 index agrees with the rows, and the triggers that keep the two in
            # step for later writes are in place again.
            conn.exec_driver_sql(
                "INSERT INTO event_search_fts (event_search_fts, rank)"
                " VALUES ('integrity-check', 1)"
            )
            triggers = conn.execute(
                text(
                    "SELECT name FROM sqlite_master"
                    " WHERE type = 'trigger' AND tbl_name = 'event_search'"
                )
            ).scalars()
            assert sorted(triggers) == ["event_search_ad", "event_search_ai", "event_search_au"]
    engine.dispose()


# What worker processes build, as the generator stores it: each derived table in one order.
DERIVED = {
    "event_documents": "event_id",
    "event_lines": "event_id",
    "claim_documents": "claim_id",
    "actor_documents": "actor_id",
    "source_documents": "source_id",
    "event_search": "event_id",
}


def _derived(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    found: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        for table, key in DERIVED.items():
            columns = "event_id, body" if table == "event_search" else "*"
            rows = conn.execute(text(f"SELECT {columns} FROM {table} ORDER BY {key}"))
            found[table] = [tuple(row) for row in rows]
        # The feed in its own order; a location keeps no created_at, so its revision is
        # dated at the generation's moment.
        feed = conn.execute(
            text(
                "SELECT seq, kind, record_id, event_id, op, version, author, before, after,"
                " CASE WHEN kind = 'location' THEN NULL ELSE at END FROM revisions ORDER BY seq"
            )
        )
        found["revisions"] = [tuple(row) for row in feed]
    engine.dispose()
    return found


def test_worker_processes_build_the_same_database(
    database_url: str, scratch_url: str, tmp_path: Path
) -> None:
    """Documents, search rows and creation revisions built by two worker processes are
    the ones this process builds alone, row for row and in the same order."""
    generate(scratch_url, 120, seed=5, echo=lambda _: None, workers=2)
    by_workers = _derived(scratch_url)
    for alone in scratch_database(database_url, tmp_path, "alone"):
        generate(alone, 120, seed=5, echo=lambda _: None, workers=0)
        assert _derived(alone) == by_workers
    assert len(by_workers["event_documents"]) == 120
    assert len(by_workers["revisions"]) > 120
