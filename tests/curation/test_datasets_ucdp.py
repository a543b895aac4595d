"""Importing UCDP GED: the real sample file read through the write path, checked field by
field against the file, re-imported, updated, taken as a snapshot, and with bad rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.changes.models import Revision
from app.core.vocab import Dataset
from app.curation.datasets.common import ImportReport
from app.curation.datasets.service import import_dataset
from tests.fixtures.datasets import data_file

GW_ISO = {"652": "SYR", "540": "AGO", "700": "AFG", "369": "UKR", "770": "PAK"}
WHERE = {
    "1": "point",
    "2": "city",
    "3": "region",
    "4": "region_centroid",
    "5": "region",
    "6": "country_centroid",
    "7": "region",
}


@pytest.fixture(scope="module")
def ucdp_file() -> Path:
    """The UCDP GED 23.1 sample, or a skip saying where it was looked for."""
    return data_file("ucdp-ged-23.1-sample.csv")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]], header: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _subset(source: Path, target: Path, count: int) -> tuple[Path, list[dict[str, str]]]:
    rows = _rows(source)[:count]
    header = list(rows[0])
    return _write(target, rows, header), rows


def _revisions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Revision)) or 0


def _import(session: Session, path: Path, **options: Any) -> ImportReport:
    return import_dataset(session, Dataset.ucdp, [path], **options)


def _citations(cell: str) -> int:
    parts = next(csv.reader([cell.replace("\n", " ")], delimiter=";")) if cell else []
    return len({" ".join(p.replace('"', " ").split()) for p in parts} - {""})


def test_the_sample_is_imported_and_each_row_reads_as_the_file_says(
    session: Session, client: TestClient, ucdp_file: Path
) -> None:
    rows = _rows(ucdp_file)
    report = _import(session, ucdp_file, release="ged-23.1")
    assert report.rows_read == len(rows) == 600
    assert report.refused == []
    assert report.created == len({r["id"] for r in rows})
    assert report.updated == report.unchanged == 0
    listed = client.get("/v1/events", params={"source": "ucdp-ged", "limit": 1}).json()
    assert listed["meta"]["total"] == report.created

    # A table of rows: the first, a date range, each where_prec, a government on side B,
    # one-sided violence, low above high, best outside its bounds.
    wanted = {rows[0]["id"], rows[1]["id"]}
    for where in WHERE:
        wanted.add(next(r["id"] for r in rows if r["where_prec"] == where))
    wanted.add(next(r["id"] for r in rows if r["gwnob"]))
    wanted.add(next(r["id"] for r in rows if r["type_of_violence"] == "3"))
    wanted.add(next(r["id"] for r in rows if int(r["low"]) > int(r["high"])))
    wanted.add(next(r["id"] for r in rows if int(r["best"]) < int(r["low"]) <= int(r["high"])))
    checked = [r for r in rows if r["id"] in wanted]
    assert len(checked) >= 10
    for row in checked:
        _check_row(client, row)


def _check_row(client: TestClient, row: dict[str, str]) -> None:
    event_id = f"ucdp-{row['id']}"
    answer = client.get(f"/v1/events/{event_id}")
    assert answer.status_code == 200, (event_id, answer.text)
    event = answer.json()
    start, end = row["date_start"][:10], row["date_end"][:10]
    assert event["start_date"] == start
    assert event["end_date"] == (None if end == start else end)
    assert event["date_precision"] == ("day" if row["date_prec"] == "1" else "approximate")
    assert event["attributes"]["date_prec"] == row["date_prec"]
    assert event["attributes"]["type_of_violence"] == row["type_of_violence"]
    assert event["event_type"] == ("ASSAULT" if row["type_of_violence"] == "3" else "FIGHT")
    assert event["provenance"]["dataset"] == "ucdp"
    assert event["provenance"]["release"] == "ged-23.1"
    (place,) = event["locations"]
    assert place["latitude"] == float(row["latitude"])
    assert place["longitude"] == float(row["longitude"])
    assert place["precision"] == WHERE[row["where_prec"]]
    assert place["gazetteer"] == "UCDP GED"
    assert event["attributes"]["where_prec"] == row["where_prec"]
    if row["country_id"] in GW_ISO:
        assert place["country"] == GW_ISO[row["country_id"]]
    # Actors: one per side_*_new_id, the UCDP spelling an alias, governments in their state.
    ids = [a["id"] for a in event["actors"]]
    assert ids == [f"ucdp-actor-{row['side_a_new_id']}", f"ucdp-actor-{row['side_b_new_id']}"]
    for side in ("a", "b"):
        found = client.get(f"/v1/actors/ucdp-actor-{row[f'side_{side}_new_id']}").json()
        assert row[f"side_{side}"] == found["name"] or row[f"side_{side}"] in found["aliases"]
        assert f"UCDP actor {row[f'side_{side}_new_id']}" in found["aliases"]
        gw = row[f"gwno{side}"]
        if row[f"side_{side}"].startswith("Government of") and gw in GW_ISO:
            states = [a["organization"] for a in found["affiliations"]]
            assert any(s["id"] for s in states)
            state = client.get(f"/v1/actors/{states[0]['id']}").json()
            assert state["kind"] == "state"
            assert state["country"] == GW_ISO[gw]
    # Figures: best with its bounds as one figure, and the per-party figures.
    figures = {q["label"]: q for q in event["quantities"]}
    deaths = figures["deaths"]
    assert deaths["value"] == float(row["best"])
    low, high = int(row["low"]), int(row["high"])
    if low <= high:
        assert deaths["qualifier"] == "estimate"
        assert (deaths["low"], deaths["high"]) == (low, high)
    else:
        assert deaths["qualifier"] == "approximately"
        assert (event["attributes"]["low"], event["attributes"]["high"]) == (low, high)
    for column, label in (
        ("deaths_a", "deaths: side A"),
        ("deaths_b", "deaths: side B"),
        ("deaths_civilians", "deaths: civilians"),
        ("deaths_unknown", "deaths: unknown"),
    ):
        assert figures[label]["value"] == float(row[column])
    # Sources: the dataset and each citation; every claim `reported`, without a span.
    assert event["source_count"] == 1 + _citations(row["source_article"])
    assert "ucdp-ged" in event["source_ids"]
    for claim in event["claims"]:
        assert claim["hedging"] == "reported"
        assert claim["evidence"] is None
        assert claim["provenance"]["dataset"] == "ucdp"


def test_a_second_import_writes_nothing_and_an_updated_row_one_revision(
    session: Session, client: TestClient, ucdp_file: Path, tmp_path: Path
) -> None:
    path, rows = _subset(ucdp_file, tmp_path / "ged.csv", 40)
    first = _import(session, path)
    assert first.created == 40
    assert first.revisions > 0
    before = _revisions(session)
    again = _import(session, path)
    assert (again.created, again.updated, again.unchanged, again.revisions) == (0, 0, 40, 0)
    assert _revisions(session) == before
    # A newer release: one row's best estimate changes (within its bounds).
    changed = dict(rows[5])
    changed["best"] = changed["high"] = str(int(changed["high"]) + 3)
    newer = _write(tmp_path / "ged-newer.csv", [*rows[:5], changed, *rows[6:]], list(rows[0]))
    update = _import(session, newer, release="ged-newer")
    assert (update.created, update.updated, update.unchanged) == (0, 1, 39)
    assert update.revisions == 1
    event = client.get(f"/v1/events/ucdp-{changed['id']}").json()
    assert {q["label"]: q["value"] for q in event["quantities"]}["deaths"] == int(changed["best"])
    claim = next(c for c in event["claims"] if c["source_id"] == "ucdp-ged")
    assert claim["provenance"]["release"] == "ged-newer"
    # The others keep the release that last changed them.
    other = client.get(f"/v1/events/ucdp-{rows[0]['id']}").json()
    assert other["provenance"]["release"] == "ged"
    feed = client.get("/v1/changes", params={"limit": 1000}).json()["data"]
    assert [c["kind"] for c in feed if c["event_id"] == f"ucdp-{changed['id']}"][-1] == "claim"


def test_a_snapshot_removes_the_events_the_release_dropped(
    session: Session, client: TestClient, ucdp_file: Path, tmp_path: Path
) -> None:
    path, rows = _subset(ucdp_file, tmp_path / "ged.csv", 20)
    _import(session, path)
    dropped = rows[7]
    smaller = _write(tmp_path / "ged-next.csv", rows[:7] + rows[8:], list(rows[0]))
    plain = _import(session, smaller)
    assert plain.removed == 0
    assert client.get(f"/v1/events/ucdp-{dropped['id']}").status_code == 200
    snap = _import(session, smaller, snapshot=True)
    assert snap.removed == 1
    assert snap.unchanged == 19
    assert client.get(f"/v1/events/ucdp-{dropped['id']}").status_code == 404
    feed = client.get("/v1/changes", params={"kind": "event", "limit": 1000}).json()["data"]
    ops = [c["op"] for c in feed if c["record_id"] == f"ucdp-{dropped['id']}"]
    assert ops[-1] == "deleted" or ops[0] == "deleted"
    listed = client.get("/v1/events", params={"source": "ucdp-ged", "limit": 1}).json()
    assert listed["meta"]["total"] == 19


def test_bad_rows_are_refused_with_their_line_and_never_stop_the_rest(
    session: Session, client: TestClient, ucdp_file: Path, tmp_path: Path
) -> None:
    _, rows = _subset(ucdp_file, tmp_path / "ged.csv", 6)
    header = list(rows[0])
    bad_date = rows[1] | {"date_start": "2013-13-45 00:00:00.000"}
    bad_type = rows[2] | {"type_of_violence": "9"}
    no_id = rows[3] | {"id": ""}
    backwards = rows[4] | {"date_start": "2020-02-02 00:00:00.000", "date_end": "2020-01-01"}
    repeated = dict(rows[0])
    path = _write(
        tmp_path / "bad.csv",
        [rows[0], bad_date, bad_type, no_id, backwards, rows[5], repeated],
        header,
    )
    report = _import(session, path)
    assert report.rows_read == 7
    assert report.created == 2
    refused = {r.line: r.reason for r in report.refused}
    reasons = list(refused.values())
    assert any("date_start" in r and "not a date" in r for r in reasons)
    assert any("type_of_violence '9'" in r for r in reasons)
    assert any(r == "id is empty" for r in reasons)
    assert any("before date_start" in r for r in reasons)
    assert any("given again" in r for r in reasons)
    assert len(refused) == 5
    # Each refusal names the line its row starts on.
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        starts, end = [], reader.line_num
        for _ in reader:
            starts.append(end + 1)
            end = reader.line_num
    assert set(refused) == {starts[1], starts[2], starts[3], starts[4], starts[6]}
    assert client.get(f"/v1/events/ucdp-{rows[5]['id']}").status_code == 200


def test_a_dataset_claim_has_no_evidence_and_its_evidence_is_a_404_saying_why(
    session: Session, client: TestClient, ucdp_file: Path, tmp_path: Path
) -> None:
    path, rows = _subset(ucdp_file, tmp_path / "ged.csv", 3)
    _import(session, path, release="ged-23.1")
    claim_id = f"ucdp-{rows[0]['id']}-ged"
    claim = client.get(f"/v1/claims/{claim_id}").json()
    assert claim["evidence"] is None
    assert claim["provenance"] == {"dataset": "ucdp", "release": "ged-23.1", "row": 2}
    answer = client.get(f"/v1/claims/{claim_id}/evidence")
    assert answer.status_code == 404
    problem = answer.json()
    assert "no evidence span" in problem["detail"]
    assert "ucdp" in problem["detail"]
    # Lists and exports of claims cope with claims without a span.
    listed = client.get("/v1/claims", params={"source": "ucdp-ged", "limit": 2})
    assert listed.status_code == 200
    page = listed.json()
    assert [c["evidence"] for c in page["data"]] == [None, None]
    following = client.get(
        "/v1/claims", params={"source": "ucdp-ged", "cursor": page["meta"]["next_cursor"]}
    ).json()
    assert len(following["data"]) == 1
    exported = client.get("/v1/claims", params={"source": "ucdp-ged", "format": "csv"})
    assert exported.status_code == 200
    assert exported.text.count("\n") >= 4
    ndjson = client.get("/v1/events", params={"source": "ucdp-ged", "format": "ndjson"})
    assert [json.loads(line)["provenance"]["dataset"] for line in ndjson.text.splitlines()] == [
        "ucdp"
    ] * 3


def test_a_claim_of_reporting_still_needs_its_span(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = {
        "id": "claim-without-span",
        "source_id": "putin-roundup-article",
        "event_id": None,
        "statement": "A statement.",
        "hedging": "asserted",
        "evidence": None,
    }
    answer = client.post(
        "/v1/claims", json=body, headers={"Authorization": f"Bearer {keys['write']}"}
    )
    assert answer.status_code == 422
    assert "evidence is required" in answer.text


def test_a_state_finds_its_governments_events_with_expand_members(
    session: Session, client: TestClient, ucdp_file: Path, tmp_path: Path
) -> None:
    rows = [r for r in _rows(ucdp_file) if r["gwnoa"] == "652" and r["side_a"].startswith("Gov")]
    path = _write(tmp_path / "syria.csv", rows[:5], list(rows[0]))
    _import(session, path)
    government = client.get(f"/v1/actors/ucdp-actor-{rows[0]['side_a_new_id']}").json()
    (membership,) = government["affiliations"]
    state = membership["organization"]["id"]
    alone = client.get("/v1/events", params={"actor": state}).json()
    members = client.get("/v1/events", params={"actor": state, "expand": "members"}).json()
    assert alone["meta"]["total"] == 0
    assert members["meta"]["total"] == 5


def _page(rows: list[dict[str, str]], page: int, pages: int) -> dict[str, Any]:
    """A page of UCDP's API holding these rows: numbers as numbers, dates with a T."""
    numeric = {"id", "year", "best", "low", "high", "latitude", "longitude", "where_prec"}
    numeric |= {"date_prec", "type_of_violence", "deaths_a", "deaths_b", "deaths_civilians"}
    numeric |= {"deaths_unknown", "side_a_new_id", "side_b_new_id", "country_id"}

    def value(name: str, cell: str) -> Any:
        if name in ("date_start", "date_end"):
            return cell[:19].replace(" ", "T")
        if cell == "":
            return None
        if name in numeric:
            return float(cell) if "." in cell else int(cell)
        return cell

    base = "https://ucdpapi.pcr.uu.se/api/gedevents/23.1?pagesize=10"
    return {
        "TotalCount": 20,
        "TotalPages": pages,
        "PreviousPageUrl": f"{base}&page={page - 1}" if page else "",
        "NextPageUrl": f"{base}&page={page + 1}" if page + 1 < pages else "",
        "Result": [{k: value(k, v) for k, v in row.items()} for row in rows],
    }


def test_the_api_pages_read_as_the_csv_does(
    session: Session, ucdp_file: Path, tmp_path: Path
) -> None:
    path, rows = _subset(ucdp_file, tmp_path / "ged.csv", 20)
    first = _import(session, path, release="ged-23.1")
    assert first.created == 20
    pages = []
    for n in range(2):
        page = tmp_path / f"page-{n}.json"
        page.write_text(json.dumps(_page(rows[n * 10 : n * 10 + 10], n, 2)), encoding="utf-8")
        pages.append(page)
    again = _import(session, pages[0], release="ged-23.1")
    both = import_dataset(session, Dataset.ucdp, pages, release="ged-23.1")
    assert again.refused == both.refused == []
    assert (again.unchanged, again.revisions) == (10, 0)
    assert (both.rows_read, both.unchanged, both.revisions) == (20, 20, 0)
    broken = tmp_path / "broken.json"
    broken.write_text('{"TotalCount": 1, "Result": "none"}', encoding="utf-8")
    with pytest.raises(ValueError, match="no Result list"):
        _import(session, broken)
