"""JSON, CSV, NDJSON and GeoJSON: the same rows in every format, field selection, exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core import version as data_version
from app.core.kinds import Kind
from app.core.pagination import EXPORT_BATCH
from app.core.vocab import DatePrecision, EventStatus, EventType
from app.curation import kinds
from app.events.schemas import EventDoc


def json_rows(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """The records of a JSON list answer."""
    data: list[dict[str, Any]] = client.get(path, params={"limit": 1000, **params}).json()["data"]
    return data


def csv_rows(client: TestClient, path: str, **params: Any) -> list[dict[str, str]]:
    """The rows of a CSV answer, parsed by the csv module."""
    response = client.get(path, params={"limit": 1000, "format": "csv", **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def as_cell(value: Any) -> str:
    """How a JSON scalar appears in our CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@pytest.mark.parametrize("path", ["/v1/events", "/v1/actors", "/v1/claims", "/v1/sources"])
def test_csv_has_the_same_rows_as_json(client: TestClient, path: str) -> None:
    records = json_rows(client, path)
    rows = csv_rows(client, path)
    assert len(rows) == len(records)
    for record, row in zip(records, rows, strict=True):
        for key, value in record.items():
            if value is None and key not in row:  # an absent object: its columns are empty
                assert all(v == "" for k, v in row.items() if k.startswith(f"{key}_"))
            elif not isinstance(value, dict | list):
                assert row[key] == as_cell(value), (key, record["id"])


def test_event_csv_flattens_lists(client: TestClient) -> None:
    records = {r["id"]: r for r in json_rows(client, "/v1/events")}
    for row in csv_rows(client, "/v1/events"):
        record = records[row["id"]]
        assert row["actors"] == ";".join(a["id"] for a in record["actors"])
        assert row["actors_roles"] == ";".join(f"{a['id']}={a['role']}" for a in record["actors"])
        assert row["tags"] == ";".join(record["tags"])
        assert row["quantities"] == ";".join(
            f"{q['label']}={as_cell(q['value'])}" for q in record["quantities"]
        )
    strike = next(
        r for r in csv_rows(client, "/v1/events") if r["id"] == "russian-strike-five-regions"
    )
    assert "drones used=450" in strike["quantities"].split(";")
    assert strike["locations"] == "kyiv;ukraine"
    assert strike["locations_latitude"] == "50.45466"


def test_csv_quotes_per_rfc_4180(client: TestClient) -> None:
    text = client.get("/v1/claims", params={"format": "csv", "q": "stabilising"}).text
    assert '"' in text  # statements with commas and quotation marks are quoted and doubled
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len({len(r) for r in rows}) == 1


def test_ndjson_line_count_equals_total(client: TestClient) -> None:
    for params in ({}, {"actor": "russia"}, {"limit": "all"}, {"limit": "all", "q": "talks"}):
        response = client.get("/v1/events", params={"format": "ndjson", **params})
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = response.text.splitlines()
        total = client.get(
            "/v1/events", params={**params, "limit": 1000} if params.get("limit") else params
        ).json()["meta"]["total"]
        assert len(lines) == total == int(response.headers["x-total-count"])
        assert all(json.loads(line)["id"] for line in lines)


def test_geojson_is_a_feature_collection(client: TestClient) -> None:
    response = client.get("/v1/events", params={"format": "geojson", "limit": 1000})
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert isinstance(body["features"], list)
    assert body["features"]
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        assert geometry["type"] in {"Point", "MultiPoint"}
        points = (
            [geometry["coordinates"]] if geometry["type"] == "Point" else geometry["coordinates"]
        )
        for lon, lat in points:
            assert -180 <= lon <= 180
            assert -90 <= lat <= 90
    excluded = int(response.headers["x-excluded-without-coordinates"])
    assert excluded + len(body["features"]) == 22
    assert body["meta"]["excluded_without_coordinates"] == excluded


def test_geojson_export_counts_what_it_leaves_out(client: TestClient) -> None:
    streamed = client.get("/v1/events", params={"format": "geojson", "limit": "all"})
    body = streamed.json()
    excluded = int(streamed.headers["x-excluded-without-coordinates"])
    assert excluded == body["meta"]["excluded_without_coordinates"]
    assert excluded + len(body["features"]) == 22
    no_centroids = client.get(
        "/v1/events", params={"format": "geojson", "limit": "all", "exclude_centroids": "true"}
    ).json()
    assert len(no_centroids["features"]) <= len(body["features"])


def test_accept_header_negotiates(client: TestClient) -> None:
    cases = {
        "text/csv": "text/csv",
        "application/x-ndjson": "application/x-ndjson",
        "application/geo+json": "application/geo+json",
        "application/json": "application/json",
        "text/html,application/xhtml+xml,*/*;q=0.8": "application/json",
        "application/x-ndjson;q=0.5, text/csv;q=0.9": "text/csv",
    }
    for accept, media in cases.items():
        response = client.get("/v1/events", headers={"Accept": accept})
        assert response.headers["content-type"].startswith(media), accept
    assert client.get("/v1/events", headers={"Accept": "application/xml"}).status_code == 406
    # format= wins over Accept, for links pasted into a browser.
    pasted = client.get("/v1/events", params={"format": "csv"}, headers={"Accept": "text/html"})
    assert pasted.headers["content-type"].startswith("text/csv")
    assert client.get("/v1/actors", params={"format": "geojson"}).status_code == 422


def test_fields_select_in_every_format(client: TestClient) -> None:
    params = {"fields": "id,title,start_date", "limit": 3}
    data = client.get("/v1/events", params=params).json()["data"]
    assert all(list(item) == ["id", "title", "start_date"] for item in data)
    line = client.get("/v1/events", params=params | {"format": "ndjson"}).text.splitlines()[0]
    assert list(json.loads(line)) == ["id", "title", "start_date"]
    header = client.get("/v1/events", params=params | {"format": "csv"}).text.splitlines()[0]
    assert header == "id,title,start_date"
    header = client.get("/v1/events", params={"fields": "id,actors", "format": "csv"}).text
    assert header.splitlines()[0] == "id,actors,actors_roles"
    bad = client.get("/v1/events", params={"fields": "id,nope"})
    assert bad.status_code == 422
    assert bad.json()["param"] == "fields"
    assert "nope" in bad.json()["detail"]


@pytest.mark.parametrize("fmt", ["json", "csv", "ndjson", "geojson"])
def test_export_streams_every_match(client: TestClient, fmt: str) -> None:
    response = client.get("/v1/events", params={"limit": "all", "format": fmt, "actor": "russia"})
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "14"
    assert response.headers["etag"].startswith('W/"')
    if fmt == "json":
        assert len(response.json()["data"]) == 14
    again = client.get(
        "/v1/events",
        params={"limit": "all", "format": fmt, "actor": "russia"},
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304
    assert client.get("/v1/events", params={"limit": "all", "cursor": "x"}).status_code == 422


@pytest.mark.parametrize("path", ["/v1/actors", "/v1/claims", "/v1/sources"])
def test_other_lists_export(client: TestClient, path: str) -> None:
    everything = json_rows(client, path)
    exported = client.get(path, params={"limit": "all"}).json()
    assert [r["id"] for r in exported["data"]] == [r["id"] for r in everything]
    assert exported["meta"]["total"] == len(everything)


def test_export_of_more_than_one_batch(client: TestClient, session: Session) -> None:
    """An export spans several database batches and still yields every row once."""

    n = EXPORT_BATCH + 150
    kinds.put(
        session,
        Kind.event,
        [
            EventDoc(id=f"bulk-{i:05d}", title=f"Bulk {i}", event_type=EventType.CONSULT,
                     status=EventStatus.occurred, start_date=date(2040, 1, 1 + i % 28),
                     date_precision=DatePrecision.day)
            for i in range(n)
        ],
    )  # fmt: skip
    data_version.bump(session)
    session.commit()
    lines = client.get(
        "/v1/events", params={"limit": "all", "format": "ndjson", "start": "2040-01-01"}
    ).text.splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    total = client.get("/v1/events", params={"start": "2040-01-01"}).json()["meta"]["total"]
    assert len(ids) == len(set(ids)) == total  # open-ended ongoing seed events run on too
    assert sum(1 for i in ids if i.startswith("bulk-")) == n


@pytest.mark.parametrize(
    "params", [{}, {"actor": "russia"}, {"start": "2026-01-01", "sort": "date"}]
)
def test_event_export_records_equal_page_records(
    client: TestClient, params: dict[str, str]
) -> None:
    """The export builds records without the ORM; they must be the page's records exactly."""
    paged = json_rows(client, "/v1/events", **params)
    exported = client.get("/v1/events", params={"limit": "all", **params}).json()["data"]
    assert exported == paged


def test_list_records_equal_the_detail_records(client: TestClient) -> None:
    """Lists build records from Core rows; each must equal the ORM-built detail record."""
    for record in json_rows(client, "/v1/events"):
        detail = client.get(f"/v1/events/{record['id']}").json()
        assert {key: detail[key] for key in record} == record
