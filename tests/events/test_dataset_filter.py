"""`dataset=ucdp|gdelt|acled|reporting` on every read that takes the event filters: lists,
exports, statistics, the network and the figures, with reporting and datasets mixed."""

from __future__ import annotations

import csv
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.vocab import Dataset
from app.curation.datasets.service import import_dataset
from tests.fixtures.datasets import data_file


def _subset(name: str, target: Path, count: int) -> Path:
    with data_file(name).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:count]
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def _total(client: TestClient, path: str, **params: object) -> int:
    answer = client.get(path, params={"limit": 1, **params})
    assert answer.status_code == 200, answer.text
    total = answer.json()["meta"]["total"]
    assert isinstance(total, int)
    return total


def test_every_event_read_takes_the_dataset_filter(
    session: Session, client: TestClient, tmp_path: Path
) -> None:
    ucdp = _subset("ucdp-ged-23.1-sample.csv", tmp_path / "ged.csv", 12)
    acled = _subset("acled-format-synthetic.csv", tmp_path / "acled.csv", 9)
    seeded = _total(client, "/v1/events")
    assert import_dataset(session, Dataset.ucdp, [ucdp]).created == 12
    assert import_dataset(session, Dataset.acled, [acled]).created == 9
    assert _total(client, "/v1/events") == seeded + 21
    assert _total(client, "/v1/events", dataset="ucdp") == 12
    assert _total(client, "/v1/events", dataset="acled") == 9
    assert _total(client, "/v1/events", dataset="gdelt") == 0
    assert _total(client, "/v1/events", dataset="reporting") == seeded
    assert _total(client, "/v1/events", dataset=["ucdp", "reporting"]) == seeded + 12
    # Exports, the statistics and the network filter the same way.
    ndjson = client.get("/v1/events", params={"dataset": "acled", "format": "ndjson"})
    assert len(ndjson.text.splitlines()) == 9
    geojson = client.get("/v1/events", params={"dataset": "ucdp", "format": "geojson"}).json()
    assert len(geojson["features"]) == 12
    for dataset, count in (("ucdp", 12), ("acled", 9), ("reporting", seeded)):
        timeline = client.get(
            "/v1/stats/timeline", params={"dataset": dataset, "interval": "year"}
        ).json()
        assert timeline["meta"]["total"] == count
        summary = client.get("/v1/stats/summary", params={"dataset": dataset}).json()
        assert summary["total"] == count
    by_year = client.get("/v1/stats/timeline", params={"dataset": "ucdp", "interval": "year"})
    assert sum(row["count"] for row in by_year.json()["data"]) >= 12
    network = client.get("/v1/network", params={"dataset": "ucdp"}).json()
    ids = {n["id"] for n in network["nodes"]}
    assert ids
    assert all(i.startswith("ucdp-actor-") for i in ids)
    reporting = client.get("/v1/network", params={"dataset": "reporting"}).json()
    assert reporting["nodes"]
    assert not any(n["id"].startswith("ucdp-actor-") for n in reporting["nodes"])
    figures = client.get("/v1/quantities", params={"dataset": "acled", "limit": 1000}).json()
    assert figures["data"]
    assert all(q["event_id"].startswith("acled-") for q in figures["data"])
    assert all(q["qualifier"] == "at_least" for q in figures["data"])
    refused = client.get("/v1/events", params={"dataset": "wikipedia"})
    assert refused.status_code == 422
    assert "dataset" in refused.text
