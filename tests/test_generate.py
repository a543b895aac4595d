"""The benchmark corpus generator writes through the real schema on either store."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.bench.generate import generate
from app.core.config import Settings
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
