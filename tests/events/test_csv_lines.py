"""A CSV export of every column concatenates each event's stored CSV line: byte for byte the
CSV the documented layout makes of the events' JSON, kept by every write, filled by the
migration, and read as of a past moment like any stored document."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core import version as data_version
from app.core.config import Settings
from app.core.kinds import Kind
from app.core.migrations import alembic_config
from app.core.temporal import REGISTRY
from app.curation import kinds
from app.events.models import EventDocument, EventLine
from app.events.schemas import EventDoc, EventRead
from app.main import create_app
from app.web.formats import csv_layout, csv_lines
from tests.conftest import seeded_scratch
from tests.curation.conftest import bearer, etag, new_event
from tests.test_formats import as_cell

IMPORTED = "csv-imported"
EXPORTS = [{}, {"actor": "russia"}, {"start": "2026-01-01", "sort": "date"}, {"q": "summit"}]


def add_imported_event(session: Session) -> None:
    """An event with provenance, attributes, and text that CSV must quote or encode."""
    doc = EventDoc.model_validate(
        {
            "id": IMPORTED,
            "title": 'A "quoted", comma\nand a new line',
            "summary": "50% of it; the rest",
            "event_type": "ASSAULT",
            "status": "occurred",
            "start_date": "2026-02-10",
            "end_date": "2026-02-12",
            "date_precision": "day",
            "tags": ["a;b", "c%d"],
            "actors": [
                {"actor": "russia", "role": "initiator"},
                {"actor": "ukraine", "role": "target"},
            ],
            "locations": ["kyiv"],
            "provenance": {"dataset": "ucdp", "release": "ucdp-ged-23.1", "row": 42},
            "attributes": {"best": 3.0, "where_prec": 2, "source_office": "x, y"},
        }
    )
    kinds.put(session, Kind.event, [doc])
    data_version.bump(session)
    session.commit()


def export(client: TestClient, **params: Any) -> bytes:
    response = client.get("/v1/events", params={"format": "csv", "limit": "all", **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    body: bytes = response.content
    return body


@pytest.mark.parametrize("params", EXPORTS)
def test_an_export_is_the_reshaped_csv_byte_for_byte(
    client: TestClient, session: Session, params: dict[str, str]
) -> None:
    """The stored lines give what reshaping each event's JSON gives: the page's CSV, and an
    export naming every field (which reshapes as it streams)."""
    add_imported_event(session)
    stored = export(client, **params)
    page = client.get("/v1/events", params={"format": "csv", "limit": 1000, **params})
    assert stored == page.content
    every = ",".join(EventRead.model_fields)
    assert stored == export(client, fields=every, **params)
    total = client.get("/v1/events", params={"limit": 1, **params}).json()["meta"]["total"]
    rows = list(csv.reader(io.StringIO(stored.decode(), newline="")))
    assert rows[0] == list(csv_layout(EventRead, None).columns)
    assert len(rows) == total + 1


def _joined(values: list[Any]) -> str:
    return ";".join(as_cell(v).replace("%", "%25").replace(";", "%3B") for v in values)


def test_every_column_is_the_documented_layout(client: TestClient, session: Session) -> None:
    """Each column of an exported row, worked out from the event's JSON as the README and
    the docs say: scalars as they are, lists joined by ';' (each element percent-encoded),
    records by key with their companions, objects spread into `field_sub` columns, a
    dict as compact JSON."""
    add_imported_event(session)
    record = client.get(f"/v1/events/{IMPORTED}").json()
    rows = list(csv.DictReader(io.StringIO(export(client).decode(), newline="")))
    (row,) = [r for r in rows if r["id"] == IMPORTED]
    actors, places, figures = record["actors"], record["locations"], record["quantities"]
    scalar = {name: as_cell(value) for name, value in record.items()}
    expected = {
        **{name: scalar[name] for name in list(scalar)[:9]},  # id … date_note
        "tags": _joined(record["tags"]),
        "actors": _joined([a["id"] for a in actors]),
        "actors_role": _joined([a["role"] for a in actors]),
        "locations": _joined([p["id"] for p in places]),
        **{
            f"locations_{k}": _joined([p[k] for p in places])
            for k in ("latitude", "longitude", "precision")
        },
        "quantities": _joined([q["label"] for q in figures]),
        **{
            f"quantities_{k}": _joined([q[k] for q in figures])
            for k in ("value", "unit", "qualifier", "low", "high")
        },
        "source_count": scalar["source_count"],
        "provenance_dataset": "ucdp",
        "provenance_release": "ucdp-ged-23.1",
        "provenance_row": "42",
        "attributes": json.dumps(record["attributes"], separators=(",", ":")),
        "created_at": scalar["created_at"],
        "updated_at": scalar["updated_at"],
    }
    assert list(row) == list(expected)
    assert row == expected
    assert row["title"] == 'A "quoted", comma\nand a new line'
    assert row["tags"] == "a%3Bb;c%25d"


def _lines_of_items(session: Session) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each event's stored line, and the line its stored item makes."""
    stored = {row[0]: row[1] for row in session.execute(select(EventLine.event_id, EventLine.csv))}
    made = {
        event_id: csv_lines(EventRead, [orjson.loads(item)])[0]
        for event_id, item in session.execute(select(EventDocument.event_id, EventDocument.item))
    }
    return stored, made


def test_writes_keep_every_stored_line(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    """Every event's stored line is the line its stored item makes, through a new event, an
    edit of it, and an edit of an actor its items name."""
    stored, made = _lines_of_items(session)
    assert stored == made
    add_imported_event(session)
    writer = bearer(keys["write"])
    url = f"/v1/events/{IMPORTED}"
    answer = client.patch(
        url, json={"title": "Edited, again"}, headers=writer | {"If-Match": etag(client, url)}
    )
    assert answer.status_code == 200, answer.text
    actor = "/v1/actors/russia"
    answer = client.patch(
        actor, json={"name": "Russia; renamed"}, headers=writer | {"If-Match": etag(client, actor)}
    )
    assert answer.status_code == 200, answer.text
    session.expire_all()
    stored, made = _lines_of_items(session)
    assert stored == made
    assert "Russia; renamed" not in stored[IMPORTED]  # actors' names are not columns
    assert stored[IMPORTED].startswith(f'{IMPORTED},"Edited, again",')


def _stored(engine: Engine) -> tuple[dict[str, Any], set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Each live line; every version of the lines (event, from, to, line); and every
    version of the documents with the line its item makes."""
    lines, documents = (REGISTRY[name].history for name in ("event_lines", "event_documents"))
    with engine.connect() as conn:
        live = {row[0]: row[1] for row in conn.execute(select(EventLine.event_id, EventLine.csv))}
        kept = {
            tuple(row)
            for row in conn.execute(
                select(lines.c.event_id, lines.c.valid_from, lines.c.valid_to, lines.c.csv)
            )
        }
        made = {
            (event_id, since, until, csv_lines(EventRead, [orjson.loads(item)])[0])
            for event_id, since, until, item in conn.execute(
                select(
                    documents.c.event_id,
                    documents.c.valid_from,
                    documents.c.valid_to,
                    documents.c.item,
                )
            )
        }
    return live, kept, made


def test_the_migration_fills_the_lines_and_past_exports_read_them(
    database_url: str, tmp_path: Path
) -> None:
    """A CSV export as of a moment before a committed write is the export of then; the
    revision that adds the lines fills them, and their versions, as the writes kept them:
    each version of an event's documents has the line its item makes, over its interval."""
    for url, engine, key in seeded_scratch(database_url, tmp_path, "csv"):
        with TestClient(create_app(Settings(database_url=url))) as client:
            before = export(client)
            moment = datetime.now(UTC).isoformat()
            body = new_event("test-csv-as-of", title="Written, after")
            created = client.post("/v1/events", json=body, headers=bearer(key))
            assert created.status_code == 201, created.text
            after = export(client)
            assert after != before
            assert export(client, as_of=moment) == before
            seed = "/v1/events/putin-xi-video-summit"
            edited = client.patch(
                seed,
                json={"summary": "Edited; once"},
                headers=bearer(key) | {"If-Match": etag(client, seed)},
            )
            assert edited.status_code == 200, edited.text
        live, kept, made = _stored(engine)
        assert kept == made
        assert len(kept) > len(live)
        config = alembic_config(url)
        command.downgrade(config, "9ce378ae7e85")
        command.upgrade(config, "head")
        assert _stored(engine) == (live, kept, made)
