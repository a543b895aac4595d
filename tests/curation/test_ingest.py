"""Ingesting new reporting: verified first, all or nothing, corroboration, conflicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.changes.models import Revision
from app.core.kinds import Kind
from app.core.version import DataVersion
from app.curation import ingest as ingesting
from app.curation import kinds
from app.sources.models import Source
from tests.curation.conftest import bearer
from tests.test_error_shape import assert_problem

EXAMPLE = Path(__file__).resolve().parents[2] / "seed_data" / "examples" / "corroboration.yaml"


def example() -> dict[str, Any]:
    """The shipped example bundle, as a JSON body."""
    body: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return body


def state(session: Session) -> tuple[int, int, int]:
    """Revisions, sources and the data version: what a failed ingest must leave as it was."""
    return (
        session.scalar(select(func.count()).select_from(Revision)) or 0,
        session.scalar(select(func.count()).select_from(Source)) or 0,
        session.scalar(select(DataVersion.version)) or 0,
    )


def test_example_bundle_corroborates_and_keeps_conflicting_figures(
    client: TestClient, keys: dict[str, str]
) -> None:
    writer = bearer(keys["write"])
    before = client.get("/v1/events/russian-military-exports-2025").json()
    assert before["source_count"] == 1
    assert before["figure_conflicts"] == []

    report = client.post("/v1/ingest", json=example(), headers=writer)
    assert report.status_code == 200, report.text
    outcomes = {e["incoming_id"]: (e["event_id"], e["outcome"]) for e in report.json()["events"]}
    assert outcomes == {
        "example-putin-xi-video-summit": ("putin-xi-video-summit", "corroborated"),
        "example-russian-military-exports-2025": ("russian-military-exports-2025", "corroborated"),
    }
    assert report.json()["changed"] is True
    assert_problem(client.get("/v1/events/example-putin-xi-video-summit"), 404, "event_id")

    after = client.get("/v1/events/russian-military-exports-2025").json()
    assert after["source_count"] == 2
    assert after["source_ids"] == ["example-corroboration-note", "putin-roundup-article"]
    (conflict,) = after["figure_conflicts"]
    assert conflict["label"] == "countries supplied with military equipment"
    assert sorted((f["value"], f["qualifier"], f["source_id"]) for f in conflict["figures"]) == [
        (28.0, "exact", "example-corroboration-note"),
        (30.0, "more_than", "putin-roundup-article"),
    ]
    two = client.get("/v1/events", params={"min_sources": 2}).json()
    assert {e["id"] for e in two["data"]} == {
        "putin-xi-video-summit",
        "russian-military-exports-2025",
    }
    history = client.get("/v1/events/putin-xi-video-summit/history").json()["data"]
    assert history[-1]["op"] == "merged"
    assert "example-corroboration-note" in history[-1]["note"]

    again = client.post("/v1/ingest", json=example(), headers=writer)
    assert again.json()["changed"] is False
    assert again.json()["revisions"] == 0
    assert client.get("/v1/events/putin-xi-video-summit/history").json()["data"] == history


def test_spans_are_verified_before_anything_is_written(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    body = example()
    claim = body["events"][1]["claims"][0]
    claim["evidence"]["start"] += 1
    claim["evidence"]["end"] += 1
    was = state(session)
    answer = client.post("/v1/ingest", json=body, headers=bearer(keys["write"]))
    problem = assert_problem(answer, 422, "claims.example-exports-28-countries.evidence")
    assert "example-exports-28-countries" in str(problem["detail"])
    assert state(session) == was
    body = example()
    body["source"]["sha256"] = "0" * 64
    assert_problem(
        client.post("/v1/ingest", json=body, headers=bearer(keys["write"])), 422, "source.sha256"
    )
    del body["source"]["text"]
    assert_problem(client.post("/v1/ingest", json=body, headers=bearer(keys["write"])), 422, None)


def test_a_failure_halfway_leaves_nothing_behind(
    client: TestClient, session: Session, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_put = kinds.put

    def failing_put(session: Session, kind: Kind, docs: Any) -> None:
        if kind is Kind.claim:  # the source, actors and events are written by now
            raise RuntimeError("the database went away")
        real_put(session, kind, docs)

    monkeypatch.setattr(ingesting, "put", failing_put)  # as the ingest room calls it
    was = state(session)
    with pytest.raises(RuntimeError):
        client.post("/v1/ingest", json=example(), headers=bearer(keys["write"]))
    assert state(session) == was
    assert session.get(Source, "example-corroboration-note") is None
