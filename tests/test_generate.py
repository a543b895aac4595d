"""The benchmark corpus generator writes through the real schema on either store."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.bench.generate import generate
from app.core.config import Settings
from app.core.db import make_engine
from app.main import create_app


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
