"""`import_dataset`: the library function the command line and the tests call."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from app.core.vocab import Dataset
from app.curation.datasets import acled, gdelt, ucdp
from app.curation.datasets.common import (
    BATCH,
    ImportReport,
    Mapper,
    Progress,
    Row,
    States,
    run_import,
)

KEYS = {
    Dataset.ucdp: ucdp.event_key,
    Dataset.acled: acled.event_key,
    Dataset.gdelt: gdelt.event_key,
}


def default_release(dataset: Dataset, files: Sequence[Path]) -> str:
    """The release recorded when none is given: the first file's name without suffixes."""
    name = re.split(r"\.(?:export\.)?(?:csv|json)", files[0].name, flags=re.IGNORECASE)[0]
    return name[:100] or dataset.value


def _deletion_lists(dataset: Dataset, files: Sequence[Path]) -> list[Path]:
    """The files that are deletion lists (ACLED's) rather than exports of events."""
    return [p for p in files if dataset is Dataset.acled and acled.is_deletion_list(p)]


def _rows(dataset: Dataset, files: Sequence[Path]) -> Iterator[Row]:
    for path in files:
        if dataset is Dataset.ucdp:
            yield from ucdp.rows(path)
        elif dataset is Dataset.acled:
            yield from acled.rows(path)
        else:
            yield from gdelt.rows(path)


def _mapper(session: Session, dataset: Dataset, release: str) -> Mapper:
    if dataset is Dataset.ucdp:
        return ucdp.Mapper(States(session), release)
    if dataset is Dataset.acled:
        return acled.Mapper(States(session), release)
    return gdelt.Mapper(States(session), release)


def import_dataset(
    session: Session,
    dataset: Dataset,
    files: Sequence[Path],
    *,
    release: str | None = None,
    snapshot: bool = False,
    author: str = "import",
    progress: Progress | None = None,
    batch_size: int = BATCH,
    use_bulk: bool = True,
) -> ImportReport:
    """Import these files of one dataset, committing batch by batch; see app.curation
    .datasets.common for what is written and how changes are told apart (`use_bulk=False`:
    new records one by one through the per-record path, as before the bulk path). ACLED's
    deletion lists (CSV with `event_id_cnty` and `deleted_timestamp`) may be given among the
    files: they are told apart by their header and applied after the exports."""
    if not files:
        raise ValueError("give at least one file to import")
    for path in files:
        if not path.is_file():
            raise ValueError(f"{path} is not a file")
    lists = _deletion_lists(dataset, files)
    exports = [p for p in files if p not in lists]
    name = release or default_release(dataset, exports or files)
    return run_import(
        session,
        dataset,
        _rows(dataset, exports),
        _mapper(session, dataset, name),
        release=name,
        files=files,
        snapshot=snapshot,
        author=author,
        progress=progress,
        batch_size=batch_size,
        event_key=KEYS[dataset],
        use_bulk=use_bulk,
        deletions=(row for path in lists for row in acled.rows(path)),
        deletion=acled.deletion if lists else None,
    )
