"""Importing GDELT 2.0: the real 15-minute export (plain and zipped) checked field by field:
CAMEO → PLOVER by the shipped table, FIPS → ISO, centroids, coverage kept as attributes,
unnamed actors left unnamed."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.vocab import Dataset
from app.curation.datasets import gdelt
from app.curation.datasets.countries import FIPS
from app.curation.datasets.service import import_dataset
from tests.fixtures.datasets import data_file

CENTROIDS = {"1": "country_centroid", "2": "region_centroid", "5": "region_centroid"}


@pytest.fixture(scope="module")
def gdelt_file() -> Path:
    """The GDELT 2.0 export sample, or a skip saying where it was looked for."""
    return data_file("gdelt-2.0-events-20191024143000.export.CSV")


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def _table(name: str) -> dict[str, list[str]]:
    """CAMEO2PLOVER read here independently: code -> [event, mode, context]."""
    table = {}
    for line in (gdelt.TABLE.parent / name).read_text(encoding="utf-8").splitlines():
        body = line.split("#")[0].strip()
        if body[:1].isdigit() and ":" in body:
            code, rest = body.split(":", 1)
            table[code] = [p.strip() for p in rest.split(",")] + ["", ""]
    return table


def _write(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_table_ships_with_its_notice() -> None:
    notice = (gdelt.TABLE.parent / "NOTICE.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in notice
    assert "Philip Schrodt" in notice
    assert gdelt.TABLE.read_text(encoding="utf-8").startswith("# CAMEO to PLOVER")


def test_the_export_and_its_zip_are_imported_and_rows_read_as_the_file_says(
    session: Session, client: TestClient, gdelt_file: Path, tmp_path: Path
) -> None:
    rows = _rows(gdelt_file)[:300]
    plain = _write(tmp_path / "20191024143000.export.CSV", rows)
    zipped = tmp_path / "20191024143000.export.CSV.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(plain, plain.name)
    table = _table("CAMEO2PLOVER-2021.txt")
    report = import_dataset(session, Dataset.gdelt, [zipped], release="20191024143000")
    assert report.rows_read == 300
    unmapped = [r for r in rows if r[26] not in table and r[26][:3] not in table]
    assert len(report.refused) == len(unmapped)
    assert all("no PLOVER category" in r.reason for r in report.refused)
    assert report.created == 300 - len(unmapped)
    # The plain file is the same rows: nothing changes.
    again = import_dataset(session, Dataset.gdelt, [plain], release="20191024143000")
    assert (again.created, again.updated, again.revisions) == (0, 0, 0)
    checked = 0
    for row in rows:
        if row in unmapped:
            continue
        checked += 1
        event = client.get(f"/v1/events/gdelt-{row[0]}").json()
        assert event["start_date"] == f"{row[1][:4]}-{row[1][4:6]}-{row[1][6:]}"
        assert event["date_precision"] == "day"
        entry = table.get(row[26]) or table[row[26][:3]]
        attributes = event["attributes"]
        assert attributes["EventCode"] == row[26]
        assert attributes["plover_event"] == entry[0]
        assert attributes.get("plover_mode") == (entry[1] or None)
        assert attributes.get("plover_context") == (entry[2] or None)
        assert attributes["NumMentions"] == int(row[31])
        assert attributes["AvgTone"] == float(row[34])
        assert attributes["GoldsteinScale"] == float(row[30])
        # Coverage is an attribute, never a figure.
        assert event["quantities"] == []
        if entry[0] == "ASSAULT":
            want = "FIGHT" if "military" in entry[2] else "ASSAULT"
            assert event["event_type"] == want
        elif entry[0] not in ("ACCUSE", "REQUEST"):
            assert event["event_type"] == entry[0]
        if row[51] in ("1", "2", "3", "4", "5"):
            (place,) = event["locations"]
            assert place["latitude"] == float(row[56])
            assert place["longitude"] == float(row[57])
            assert place["country"] == FIPS.get(row[53])
            if row[51] in CENTROIDS:
                assert place["precision"] == CENTROIDS[row[51]]
        else:
            assert event["locations"] == []
        # Named actors become actors; unnamed ones stay unnamed (no actor, no name made up).
        names = [a["name"].upper() for a in event["actors"]]
        assert names == [n for n in (row[6], row[16]) if n]
        assert event["source_count"] == (2 if row[60] else 1)
    assert checked > 200


def test_a_row_without_61_columns_is_refused(
    session: Session, gdelt_file: Path, tmp_path: Path
) -> None:
    rows = _rows(gdelt_file)[:3]
    path = _write(tmp_path / "short.CSV", [rows[0], rows[1][:40], rows[2]])
    report = import_dataset(session, Dataset.gdelt, [path])
    (refusal,) = report.refused
    assert refusal.line == 2
    assert "40 columns" in refusal.reason
