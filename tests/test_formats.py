"""JSON, CSV, NDJSON and GeoJSON: the same rows in every format, field selection, exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core import version as data_version
from app.core.kinds import Kind
from app.core.pagination import EXPORT_BATCH
from app.core.vocab import DatePrecision, EventStatus, EventType
from app.curation import kinds
from app.events.schemas import EventDoc
from tests.factories import make_event


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


def split(cell: str, count: int) -> list[str]:
    """A ';'-joined CSV cell back into its `count` elements (an empty cell holds none, or one
    empty element)."""
    if count == 0:
        assert cell == ""
        return []
    parts = [unquote(part) for part in cell.split(";")]
    assert len(parts) == count, (cell, count)
    return parts


# Each list of records in CSV: its key per record, then its companion columns.
SPREAD = {
    "actors": ("id", ["role"]),
    "locations": ("id", ["latitude", "longitude", "precision"]),
    "quantities": ("label", ["value", "unit", "qualifier", "low", "high"]),
}


@pytest.mark.parametrize("limit", ["1000", "all"])
def test_event_csv_lists_line_up_value_for_value(client: TestClient, limit: str) -> None:
    records = {r["id"]: r for r in json_rows(client, "/v1/events")}
    rows = csv_rows(client, "/v1/events", limit=limit)
    assert len(rows) == len(records)
    for row in rows:
        record = records[row["id"]]
        assert split(row["tags"], len(record["tags"])) == record["tags"]
        for name, (key, companions) in SPREAD.items():
            elements = record[name]
            assert split(row[name], len(elements)) == [e[key] for e in elements]
            for companion in companions:
                got = split(row[f"{name}_{companion}"], len(elements))
                assert got == [as_cell(e[companion]) for e in elements], (name, companion)


def test_event_csv_places_carry_their_own_point_and_precision(client: TestClient) -> None:
    rows = {r["id"]: r for r in csv_rows(client, "/v1/events")}
    strike = rows["russian-strike-five-regions"]
    assert strike["locations"] == "kyiv;ukraine"
    # Kyiv's point stays with Kyiv; the country without coordinates keeps its place empty.
    assert strike["locations_latitude"] == "50.45466;"
    assert strike["locations_longitude"] == "30.5238;"
    assert strike["locations_precision"] == "city;"
    warning = rows["hybrid-warfare-deployment-warning"]
    assert warning["locations"].split(";")[0] == "europe"
    assert warning["locations_precision"].split(";")[0] == "continent_centroid"
    assert rows["putin-xi-video-summit"]["locations_precision"] == ""


def test_csv_figures_keep_unit_qualifier_and_bounds(client: TestClient) -> None:
    rows = {r["id"]: r for r in csv_rows(client, "/v1/events")}
    strike = rows["russian-strike-five-regions"]
    figures = dict(
        zip(
            strike["quantities"].split(";"),
            zip(
                strike["quantities_value"].split(";"),
                strike["quantities_unit"].split(";"),
                strike["quantities_qualifier"].split(";"),
                strike["quantities_low"].split(";"),
                strike["quantities_high"].split(";"),
                strict=True,
            ),
            strict=True,
        )
    )
    assert figures["drones used"] == ("450", "drones", "exact", "450", "450")
    more = next(label for label, f in figures.items() if f[2] == "more_than")
    assert figures[more][4] == ""  # an open upper bound is empty, not zero
    claims = {r["id"]: r for r in json_rows(client, "/v1/claims")}
    for row in csv_rows(client, "/v1/claims"):
        quantities = claims[row["id"]]["quantities"]
        assert split(row["quantities_unit"], len(quantities)) == [q["unit"] for q in quantities]


def test_actor_affiliations_line_up(client: TestClient) -> None:
    records = {r["id"]: r for r in json_rows(client, "/v1/actors")}
    rows = csv_rows(client, "/v1/actors")
    assert any(row["affiliations"] for row in rows)
    for row in rows:
        affiliations = records[row["id"]]["affiliations"]
        ids = [a["organization"]["id"] for a in affiliations]
        assert split(row["affiliations"], len(affiliations)) == ids
        for companion in ("role", "start_date", "end_date", "current"):
            got = split(row[f"affiliations_{companion}"], len(affiliations))
            assert got == [as_cell(a[companion]) for a in affiliations]


def test_a_separator_inside_a_list_value_is_encoded(client: TestClient, session: Session) -> None:
    make_event(
        session,
        "csv-separators",
        date(2041, 3, 1),
        tags=("a;b", "50%"),
        quantities=(
            ("cost; estimated", 5.0, "USD", "exact"),
            ("troops", 2.5, "troops", "approximately"),
        ),
    )
    rows = csv_rows(client, "/v1/events", start="2041-03-01", end="2041-03-01")
    (row,) = [row for row in rows if row["id"] == "csv-separators"]
    assert row["tags"] == "50%25;a%3Bb"
    assert split(row["tags"], 2) == ["50%", "a;b"]
    assert split(row["quantities"], 2) == ["cost; estimated", "troops"]
    assert split(row["quantities_value"], 2) == ["5", "2.5"]


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
    assert header.splitlines()[0] == "id,actors,actors_role"
    bad = client.get("/v1/events", params={"fields": "id,nope"})
    assert bad.status_code == 422
    assert bad.json()["param"] == "fields"
    assert "nope" in bad.json()["detail"]


@pytest.mark.parametrize("path", ["/v1/events", "/v1/actors", "/v1/claims", "/v1/sources"])
def test_fields_takes_every_csv_column(client: TestClient, path: str) -> None:
    every = client.get(path, params={"format": "csv", "limit": 1000}).text.splitlines()[0]
    full = {row["id"]: row for row in csv_rows(client, path)}
    records = json_rows(client, path)
    for column in every.split(","):
        # A field's name brings all its columns (`actors` brings `actors_role`); any other
        # column comes alone.
        spread = any(isinstance(r.get(column), list | dict) for r in records)
        family = [
            c for c in every.split(",") if c == column or (spread and c.startswith(f"{column}_"))
        ]
        for limit in ("1000", "all"):
            picked = csv_rows(client, path, fields=f"id,{column}", limit=limit)
            assert len(picked) == len(full)
            for row in picked:
                assert list(row) == list(dict.fromkeys(["id", *family]))
                assert row[column] == full[row["id"]][column], (column, row["id"])


def test_fields_names_csv_columns_only_in_csv(client: TestClient) -> None:
    params = {"fields": "id,locations_latitude,start_date"}
    header = client.get("/v1/events", params=params | {"format": "csv"}).text.splitlines()[0]
    assert header == "id,locations_latitude,start_date"
    for fmt in ("json", "ndjson", "geojson"):
        refused = client.get("/v1/events", params=params | {"format": fmt})
        assert refused.status_code == 422
        assert refused.json()["param"] == "fields"
        assert "locations" in refused.json()["detail"]
        assert "format=csv" in refused.json()["detail"]
    unknown = client.get("/v1/events", params={"fields": "id,locations_altitude", "format": "csv"})
    assert unknown.status_code == 422
    assert unknown.json()["param"] == "fields"
    assert "'locations_altitude'" in unknown.json()["detail"]
    empty = client.get("/v1/events", params={"fields": ",", "format": "csv"})
    assert empty.status_code == 422
    assert empty.json()["param"] == "fields"


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
