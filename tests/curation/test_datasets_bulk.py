"""The bulk path of `import-dataset` against the per-record path: the same files imported
into two empty databases, one with the bulk path (new records set by set) and one with every
record written one by one (`use_bulk=False`), then every table compared: records, links,
stored documents, index rows, rollups, search rows, versions and revisions, moments aside.
Each dataset goes through a first import, the same files again (nothing written), and a
newer release taken as a snapshot (a changed row, a dropped row, new rows), in batches small
enough that actors and sources made by one batch are met again by the next."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app import models  # noqa: F401  (declares every table, the versions' twins too)
from app.changes.models import Revision
from app.core.db import Base, make_engine
from app.core.migrations import alembic_config
from app.core.version import DataVersion
from app.core.vocab import Dataset
from app.curation.datasets.common import ImportReport
from app.curation.datasets.service import import_dataset
from app.events.models import Event
from app.search import SEARCH_HISTORY, SEARCH_TABLE
from tests.conftest import scratch_database
from tests.fixtures.datasets import data_file

MOMENTS = {"created_at", "updated_at", "valid_from", "at", "seq", "changed_at"}
SKIPPED = {"alembic_version", "api_keys", "idempotent_requests", "data_version"}


@pytest.fixture(scope="module")
def stores(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Engine]]:
    """Two empty migrated databases on the suite's store: `bulk` and `each` (per record)."""
    folder = tmp_path_factory.mktemp("bulk")
    made = {label: scratch_database(database_url, folder, label) for label in ("bulk", "each")}
    engines = {}
    for label, urls in made.items():
        url = next(urls)
        command.upgrade(alembic_config(url), "head")
        engines[label] = make_engine(url)
    yield engines
    for label, urls in made.items():
        engines[label].dispose()
        next(urls, None)


def _import(engine: Engine, dataset: Dataset, path: Path, **options: Any) -> ImportReport:
    with Session(engine) as session:
        return import_dataset(session, dataset, [path], batch_size=40, **options)


def _both(stores: dict[str, Engine], dataset: Dataset, path: Path, **options: Any) -> ImportReport:
    """Import into both databases; the reports agree, and so does every table."""
    bulk = _import(stores["bulk"], dataset, path, **options)
    each = _import(stores["each"], dataset, path, use_bulk=False, **options)
    fields = ("rows_read", "created", "updated", "unchanged", "removed", "revisions")
    assert {f: getattr(bulk, f) for f in fields} == {f: getattr(each, f) for f in fields}
    assert bulk.refused == each.refused
    _same_tables(stores)
    _times_are_the_revisions(stores["bulk"])
    return bulk


# A stored CSV line's created_at and updated_at cells (its last two).
MOMENT_CELLS = re.compile(r",\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\r\n$")


def _plain(value: Any) -> Any:
    """A stored value without its moments: JSON documents without created_at/updated_at,
    stored CSV lines without those cells."""
    if isinstance(value, str) and value.endswith("Z\r\n"):
        return MOMENT_CELLS.sub(",<moment>,<moment>\r\n", value)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _plain(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ("created_at", "updated_at")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _rows(engine: Engine, table: Any) -> list[str]:
    # The search rows' twin numbers its rows on SQLite (for the full-text index): not data.
    skipped = MOMENTS | ({"id"} if table is SEARCH_HISTORY else set())
    names = [c.name for c in table.columns if c.name not in skipped]
    with engine.connect() as conn:
        found = conn.execute(select(*(table.c[n] for n in names)))
        rows = []
        for row in found:
            values = dict(zip(names, row, strict=True))
            if "valid_to" in values:
                values["valid_to"] = "closed" if values["valid_to"] is not None else "open"
            rows.append(json.dumps(_plain(values), sort_keys=True, default=str))
    return sorted(rows)


def _tables(engine: Engine) -> dict[str, list[str]]:
    tables = [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED]
    found = {t.name: _rows(engine, t) for t in [*tables, SEARCH_HISTORY]}
    with engine.connect() as conn:
        found["event_search"] = sorted(
            f"{row.event_id}\t{row.body}"
            for row in conn.execute(select(SEARCH_TABLE.c.event_id, SEARCH_TABLE.c.body))
        )
    return found


def _same_tables(stores: dict[str, Engine]) -> None:
    bulk, each = _tables(stores["bulk"]), _tables(stores["each"])
    assert bulk.keys() == each.keys()
    for name in bulk:
        assert bulk[name] == each[name], name
    for name in ("events", "event_documents", "event_search", "revisions", "timeline_days"):
        assert bulk[name], name


def _times_are_the_revisions(engine: Engine) -> None:
    """A record's times are its revisions' (to the second), and its open version starts at
    its last revision, as after any write."""
    with engine.connect() as conn:
        moments: dict[str, list[datetime]] = defaultdict(list)
        for record_id, at in conn.execute(
            select(Revision.record_id, Revision.at)
            .where(Revision.kind == "event")
            .order_by(Revision.seq)
        ):
            moments[record_id].append(at)
        opened: dict[str, Any] = dict(
            conn.execute(
                text("SELECT id, valid_from FROM events_history WHERE valid_to IS NULL")
            ).all()
        )
        for event in conn.execute(select(Event.id, Event.created_at, Event.updated_at)):
            first, last = moments[event.id][0], moments[event.id][-1]
            assert event.created_at == first.replace(microsecond=0), event.id
            assert event.updated_at == last.replace(microsecond=0), event.id
            valid_from = opened[event.id]
            if isinstance(valid_from, str):  # SQLite hands back the text
                valid_from = datetime.fromisoformat(valid_from)
            assert valid_from.replace(tzinfo=None) == last.replace(tzinfo=None), event.id


def _data_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(DataVersion.version)) or 0


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _release_steps(
    stores: dict[str, Engine], dataset: Dataset, first: Path, newer: Path, dropped: str
) -> None:
    """A first import, the same file again, and a newer release as a snapshot."""
    created = _both(stores, dataset, first)
    assert created.created > 0
    assert created.revisions > created.created
    before = {label: _data_version(engine) for label, engine in stores.items()}
    again = _both(stores, dataset, first)
    assert (again.created, again.updated, again.revisions) == (0, 0, 0)
    assert again.unchanged == created.created
    assert {label: _data_version(engine) for label, engine in stores.items()} == before
    update = _both(stores, dataset, newer, release="newer", snapshot=True)
    assert update.updated == 1
    assert update.removed == 1
    assert update.created > 0
    with stores["bulk"].connect() as conn:
        assert conn.scalar(select(Event.id).where(Event.id == dropped)) is None


def test_gdelt_bulk_import_writes_what_the_per_record_path_writes(
    stores: dict[str, Engine], tmp_path: Path
) -> None:
    sample = data_file("gdelt-2.0-events-20191024143000.export.CSV")
    lines = sample.read_text(encoding="utf-8").splitlines(keepends=True)
    first = tmp_path / "first.export.CSV"
    first.write_text("".join(lines[:240]), encoding="utf-8")
    cells = [line.rstrip("\n").split("\t") for line in lines[:300]]
    mapped = [r for r in cells[:240] if r[26][:2] not in ("01", "02")]
    changed, dropped = mapped[3], mapped[7]
    changed[31] = str(int(changed[31]) + 5)  # NumMentions: an attribute of the event
    rows = [r for r in cells if r is not dropped]
    newer = tmp_path / "newer.export.CSV"
    newer.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    _release_steps(stores, Dataset.gdelt, first, newer, f"gdelt-{dropped[0]}")


def test_ucdp_bulk_import_writes_what_the_per_record_path_writes(
    stores: dict[str, Engine], tmp_path: Path
) -> None:
    header, rows = _csv(data_file("ucdp-ged-23.1-sample.csv"))
    first = _write_csv(tmp_path / "ged-first.csv", header, rows[:100])
    changed = dict(rows[5])
    changed["best"] = changed["high"] = str(int(changed["high"]) + 3)
    dropped = rows[9]
    later = [changed if r is rows[5] else r for r in rows[:140] if r is not dropped]
    newer = _write_csv(tmp_path / "ged-newer.csv", header, later)
    _release_steps(stores, Dataset.ucdp, first, newer, f"ucdp-{dropped['id']}")


def test_acled_bulk_import_writes_what_the_per_record_path_writes(
    stores: dict[str, Engine], tmp_path: Path
) -> None:
    header, rows = _csv(data_file("acled-format-synthetic.csv"))
    first = _write_csv(tmp_path / "acled-first.csv", header, rows[:50])
    changed = dict(rows[4])
    changed["fatalities"] = str(int(changed["fatalities"] or 0) + 2)
    changed["timestamp"] = str(int(changed["timestamp"]) + 100)
    dropped = rows[8]
    later = [changed if r is rows[4] else r for r in rows if r is not dropped]
    newer = _write_csv(tmp_path / "acled-newer.csv", header, later)
    _release_steps(stores, Dataset.acled, first, newer, f"acled-{dropped['event_id_cnty'].lower()}")
