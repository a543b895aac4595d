"""Importing ACLED: the export-format file checked field by field, its dates and actor types
in either form, fatalities as a conservative figure, uploads newer and older, a snapshot."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.vocab import Dataset
from app.curation.datasets.common import ImportReport
from app.curation.datasets.service import import_dataset
from tests.fixtures.datasets import data_file

INTER = {
    "1": "State forces",
    "2": "Rebel group",
    "3": "Political militia",
    "4": "Identity militia",
    "5": "Rioters",
    "6": "Protesters",
    "7": "Civilians",
    "8": "External/Other forces",
}
GEO = {"1": "point", "2": "city", "3": "region_centroid"}
TIME = {"1": "day", "2": "approximate", "3": "month"}


@pytest.fixture(scope="module")
def acled_file() -> Path:
    """The ACLED-format file (invented rows), or a skip saying where it was looked for."""
    return data_file("acled-format-synthetic.csv")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _import(session: Session, path: Path, **options: Any) -> ImportReport:
    return import_dataset(session, Dataset.acled, [path], **options)


def _as_labels(row: dict[str, str]) -> dict[str, str]:
    """The row as exports with text labels write it: `11 March 2023`, actor type labels."""
    day = date.fromisoformat(row["event_date"])
    out = row | {"event_date": f"{day.day} {day:%B %Y}"}
    for column in ("inter1", "inter2"):
        out[column] = INTER.get(row[column], "")
    codes = row["interaction"]
    out["interaction"] = (
        f"{INTER[codes[0]]}-{INTER[codes[1]]}" if codes[1] != "0" else f"{INTER[codes[0]]} only"
    )
    return out


def test_the_export_is_imported_and_each_row_reads_as_the_file_says(
    session: Session, client: TestClient, acled_file: Path
) -> None:
    rows = _rows(acled_file)
    report = _import(session, acled_file, release="synthetic")
    assert report.rows_read == len(rows) == 80
    assert report.refused == []
    assert report.created == 80
    for row in rows:
        _check_row(client, row)


def _check_row(client: TestClient, row: dict[str, str]) -> None:
    event = client.get(f"/v1/events/acled-{row['event_id_cnty'].lower()}").json()
    day = date.fromisoformat(row["event_date"])
    assert event["date_precision"] == TIME[row["time_precision"]]
    if row["time_precision"] == "3":
        assert event["start_date"] == day.replace(day=1).isoformat()
        assert event["end_date"][:7] == event["start_date"][:7]
    else:
        assert event["start_date"] == row["event_date"]
        assert event["end_date"] is None
    assert event["attributes"]["event_type"] == row["event_type"]
    assert event["attributes"]["sub_event_type"] == row["sub_event_type"]
    assert event["attributes"]["inter1"] == row["inter1"]
    assert event["attributes"]["interaction"] == row["interaction"]
    assert event["attributes"]["timestamp"] == int(row["timestamp"])
    (place,) = event["locations"]
    assert (place["latitude"], place["longitude"]) == (
        float(row["latitude"]),
        float(row["longitude"]),
    )
    assert place["precision"] == GEO[row["geo_precision"]]
    assert place["gazetteer"] == "ACLED"
    assert place["name"] == row["location"]
    # fatalities: "at least" when above 0; a 0 states no figure.
    deaths = [q for q in event["quantities"] if q["label"] == "deaths"]
    if int(row["fatalities"]) > 0:
        (figure,) = deaths
        assert figure["qualifier"] == "at_least"
        assert figure["value"] == int(row["fatalities"])
        assert (figure["low"], figure["high"]) == (int(row["fatalities"]), None)
    else:
        assert deaths == []
        assert "no figure" in event["attributes"]["fatalities_note"]
    names = {a["name"] for a in event["actors"]}
    assert row["actor1"] in names
    if row["actor2"]:
        assert row["actor2"] in names
    for assoc in (row["assoc_actor_1"] + ";" + row["assoc_actor_2"]).split(";"):
        if assoc.strip():
            assert assoc.strip() in names
    if row["inter1"] == "1":
        first = next(a for a in event["actors"] if a["name"] == row["actor1"])
        found = client.get(f"/v1/actors/{first['id']}").json()
        (membership,) = found["affiliations"]
        state = client.get(f"/v1/actors/{membership['organization']['id']}").json()
        assert state["kind"] == "state"
    cited = {s.strip() for s in row["source"].split(";") if s.strip()}
    assert event["source_count"] == 1 + len(cited)
    assert all(c["evidence"] is None for c in event["claims"])
    assert all(c["hedging"] == "reported" for c in event["claims"])


def test_labels_and_written_dates_read_as_the_codes_do(
    session: Session, acled_file: Path, tmp_path: Path
) -> None:
    rows = _rows(acled_file)[:25]
    coded = _write(tmp_path / "coded.csv", rows)
    labelled = _write(tmp_path / "labelled.csv", [_as_labels(r) for r in rows])
    assert _import(session, coded).created == 25
    again = _import(session, labelled)
    assert again.refused == []
    assert (again.created, again.updated, again.unchanged, again.revisions) == (0, 0, 25, 0)


def test_a_later_upload_updates_and_an_earlier_one_is_refused(
    session: Session, client: TestClient, acled_file: Path, tmp_path: Path
) -> None:
    rows = _rows(acled_file)[:10]
    _import(session, _write(tmp_path / "first.csv", rows))
    revised = rows[3] | {"fatalities": "7", "timestamp": str(int(rows[3]["timestamp"]) + 86400)}
    later = _import(session, _write(tmp_path / "later.csv", [*rows[:3], revised, *rows[4:]]))
    assert (later.updated, later.unchanged) == (1, 9)
    event = client.get(f"/v1/events/acled-{rows[3]['event_id_cnty'].lower()}").json()
    assert [q["value"] for q in event["quantities"] if q["label"] == "deaths"] == [7]
    earlier = _import(session, _write(tmp_path / "earlier.csv", rows))
    (refusal,) = earlier.refused
    assert refusal.line == 5
    assert "older than the stored upload" in refusal.reason
    assert earlier.revisions == 0


def test_a_snapshot_tombstones_a_deleted_event_and_bad_rows_are_refused(
    session: Session, client: TestClient, acled_file: Path, tmp_path: Path
) -> None:
    rows = _rows(acled_file)[:8]
    _import(session, _write(tmp_path / "all.csv", rows))
    bad = [
        rows[0] | {"event_id_cnty": "XX-1"},
        rows[1] | {"event_date": "the 3rd of May"},
        rows[2] | {"inter1": "Aliens"},
        rows[3] | {"fatalities": "-2"},
        rows[4] | {"time_precision": "4"},
    ]
    report = _import(session, _write(tmp_path / "bad.csv", bad + rows[5:]), snapshot=True)
    assert [r.line for r in report.refused] == [2, 3, 4, 5, 6]
    reasons = " | ".join(r.reason for r in report.refused)
    for words in ("event_id_cnty", "event_date", "inter1 'Aliens'", "fatalities", "time_precision"):
        assert words in reasons
    # A refused row that names its event keeps it; the file no longer holds the first event
    # (its row names another id), which the snapshot tombstones.
    assert report.removed == 1
    url = "/v1/events/acled-{}"
    assert client.get(url.format(rows[0]["event_id_cnty"].lower())).status_code == 404
    for row in rows[1:]:
        assert client.get(url.format(row["event_id_cnty"].lower())).status_code == 200


def test_a_deletion_list_removes_what_acled_withdrew_unless_uploaded_after(
    session: Session, client: TestClient, acled_file: Path, tmp_path: Path
) -> None:
    rows = _rows(acled_file)[:6]
    export = _write(tmp_path / "export.csv", rows)
    withdrawn, reuploaded = rows[0], rows[1]
    deletions = _write(
        tmp_path / "deleted.csv",
        [
            {
                "event_id_cnty": withdrawn["event_id_cnty"],
                "deleted_timestamp": str(int(withdrawn["timestamp"]) + 60),
            },
            {
                "event_id_cnty": reuploaded["event_id_cnty"],
                "deleted_timestamp": str(int(reuploaded["timestamp"]) - 60),
            },
            {"event_id_cnty": "ZZZ99999999", "deleted_timestamp": "1700000000"},
            {"event_id_cnty": "XX-1", "deleted_timestamp": "1700000000"},
            {"event_id_cnty": rows[2]["event_id_cnty"], "deleted_timestamp": "yesterday"},
        ],
    )
    # The list may come before the export: it is told apart by its header, applied after.
    report = import_dataset(session, Dataset.acled, [deletions, export])
    assert report.release == "export"
    assert (report.rows_read, report.created, report.removed, report.not_held) == (11, 6, 1, 1)
    assert [(r.file, r.line) for r in report.refused] == [
        ("deleted.csv", 3),
        ("deleted.csv", 5),
        ("deleted.csv", 6),
    ]
    reasons = [r.reason for r in report.refused]
    assert "after its deletion" in reasons[0]
    assert "upload is kept" in reasons[0]
    assert "'XX-1' is not an ACLED id" in reasons[1]
    assert "deleted_timestamp 'yesterday'" in reasons[2]
    assert "deletions of events not held: 1" in report.lines()
    url = "/v1/events/acled-{}"
    assert client.get(url.format(withdrawn["event_id_cnty"].lower())).status_code == 404
    for row in rows[1:]:
        assert client.get(url.format(row["event_id_cnty"].lower())).status_code == 200
    feed = client.get("/v1/changes", params={"kind": "event", "limit": 1000}).json()["data"]
    ops = [c["op"] for c in feed if c["record_id"] == f"acled-{withdrawn['event_id_cnty'].lower()}"]
    assert sorted(ops) == ["created", "deleted"]
    # Applying the list again changes nothing: the withdrawn event is not held any more.
    again = import_dataset(session, Dataset.acled, [deletions])
    assert (again.removed, again.not_held, again.revisions) == (0, 2, 0)
    assert client.get("/v1/events", params={"dataset": "acled"}).json()["meta"]["total"] == 5
