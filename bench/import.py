"""Import throughput of `geoevents import-dataset gdelt`: the GDELT sample repeated with
fresh GLOBALEVENTIDs to --rows rows, imported into an empty database on each store through
the library function (the write path the command uses), with rows/s and the process's
resident memory sampled as it goes (flat memory: the last sample near the first), then the
same file imported again (nothing changes: the re-import's rows/s). Each size and store is
run --repeat times; the median run (by first-import rows/s) is printed last. The CPU time
is this process's (the importer's Python), not the PostgreSQL server's.

    .venv/bin/python bench/import.py --rows 10000,100000 --stores sqlite,postgresql --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.db import make_engine, make_sessionmaker, sqlalchemy_url  # noqa: E402
from app.core.migrations import alembic_config  # noqa: E402
from app.core.vocab import Dataset  # noqa: E402
from app.curation.datasets.service import import_dataset  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "data" / "gdelt-2.0-events-20191024143000.export.CSV"


def write_rows(target: Path, rows: int) -> None:
    """The sample's rows over and over, each copy with GLOBALEVENTIDs of its own."""
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        sample = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    with target.open("w", encoding="utf-8", newline="") as out:
        for n in range(rows):
            row = list(sample[n % len(sample)])
            row[0] = str(int(row[0]) + (n // len(sample)) * 10_000_000_000)
            out.write("\t".join(row) + "\n")


def rss_mb() -> float:
    """The process's resident memory now, in MiB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def fresh(store: str, pg_url: str, folder: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{folder / 'import.db'}"
    admin = create_engine(sqlalchemy_url(f"{pg_url}/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS datasets_bench_import WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE datasets_bench_import"))
    admin.dispose()
    return f"{pg_url}/datasets_bench_import"


def run(store: str, rows: int, data: Path, pg_url: str, folder: Path) -> dict[str, float]:
    url = fresh(store, pg_url, folder)
    (folder / "import.db").unlink(missing_ok=True)
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    samples: list[float] = []

    def progress(read: int, refused: int) -> None:
        if read % 2000 == 0:
            samples.append(rss_mb())

    started, cpu = time.monotonic(), time.process_time()
    with make_sessionmaker(engine)() as session:
        report = import_dataset(session, Dataset.gdelt, [data], progress=progress)
    seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu
    again_started = time.monotonic()
    with make_sessionmaker(engine)() as session:
        again = import_dataset(session, Dataset.gdelt, [data])
    again_seconds = time.monotonic() - again_started
    if again.created or again.updated or again.revisions:
        raise SystemExit(f"the re-import wrote something: {again.lines()}")
    engine.dispose()
    return {
        "rows": report.rows_read,
        "created": report.created,
        "refused": len(report.refused),
        "seconds": seconds,
        "rows_per_s": report.rows_read / seconds,
        "cpu_seconds": cpu_seconds,
        "again_rows_per_s": again.rows_read / again_seconds,
        "rss_first_mb": samples[0] if samples else rss_mb(),
        "rss_last_mb": samples[-1] if samples else rss_mb(),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
    }


def line(store: str, result: dict[str, float]) -> str:
    """One run as a line of text."""
    return (
        f"{store}: {result['rows']:,.0f} rows ({result['created']:,.0f} events, "
        f"{result['refused']:,.0f} refused) in {result['seconds']:.1f} s = "
        f"{result['rows_per_s']:,.0f} rows/s (importer CPU {result['cpu_seconds']:.1f} s = "
        f"{result['rows'] / result['cpu_seconds']:,.0f} rows per CPU-second); re-import "
        f"{result['again_rows_per_s']:,.0f} rows/s; resident memory "
        f"{result['rss_first_mb']:.0f} MiB at 2,000 rows, "
        f"{result['rss_last_mb']:.0f} MiB at the end (peak {result['peak_mb']:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="20000", help="sizes, comma-separated")
    parser.add_argument("--stores", default="sqlite")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    for rows in (int(n) for n in args.rows.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            data = folder / "gdelt.export.CSV"
            write_rows(data, rows)
            for store in args.stores.split(","):
                results = []
                for _ in range(args.repeat):
                    results.append(run(store, rows, data, args.pg_url, folder))
                    print(f"  run {len(results)}: {line(store, results[-1])}", flush=True)
                median = sorted(results, key=lambda r: r["rows_per_s"])[len(results) // 2]
                print(f"median of {len(results)}: {line(store, median)}", flush=True)


if __name__ == "__main__":
    main()
