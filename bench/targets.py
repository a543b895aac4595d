"""The redesign's targets read off one bench/run.py run.

`render(report)` takes the run as plain data (`dataclasses.asdict` of run.py's Report, or the
`results-*.json` file a run leaves in its work folder) and returns the Markdown section
"Against the targets" that RESULTS.md carries: each target, what this run measured for it,
and whether it was met. Targets this run does not measure say where their figures are.

    python bench/targets.py bench/data/results-<stamp>.json   # print the section
    python bench/targets.py bench/data/results-<stamp>.json --into bench/RESULTS.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TIMES = "\u00d7"  # the multiplication sign
DASH = "\u2013"  # the en dash

HEADING = "## Against the targets (read off the tables above)"

Run = dict[str, Any]


def _loads(run: Run | None, conns: int) -> dict[str, Any]:
    if run is None:
        return {}
    loads = run.get("loads") or {}
    return loads.get(conns) or loads.get(str(conns)) or {}


def _rps(run: Run | None, conns: int, query: str) -> float | None:
    load = _loads(run, conns).get(query)
    probe = (run or {}).get("probes", {}).get(query)
    if load is None or (probe is not None and probe.get("status") != 200):
        return None
    return float(load["rps"])


def _field(run: Run | None, conns: int, query: str, name: str) -> float | None:
    load = _loads(run, conns).get(query)
    return None if load is None or load.get(name) is None else float(load[name])


def _geo(store: dict[str, Any], workers: int) -> Run | None:
    return next((r for r in store["runs"] if r["workers"] == workers), None)


def _fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{unit}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _yes(ok: bool | None) -> str:
    return "not measured" if ok is None else ("yes" if ok else "no")


def render(report: dict[str, Any]) -> list[str]:
    """The section, as lines."""
    stores = {s["dataset"]["store"]: s for s in report.get("stores", [])}
    rows: list[tuple[str, str, str]] = []
    sqlite = stores.get("sqlite")
    conns = 32
    if sqlite:
        geo1, geo2, ds = _geo(sqlite, 1), _geo(sqlite, 2), sqlite.get("datasette")
        ratios = {
            q: _ratio(_rps(geo1, conns, q), _rps(ds, conns, q))
            for q in ("Q1", "Q2", "Q3", "Q5", "Q6", "Q7")
        }
        measured = [r for r in ratios.values() if r is not None]
        rows.append(
            (
                f"Q1, Q2, Q3, Q5, Q6, Q7 each ≥ 3{TIMES} Datasette ({conns} connections, 1 worker)",
                ", ".join(f"{q} {_fmt(r, 2, TIMES)}" for q, r in ratios.items()),
                _yes(None if not measured else all(r >= 3 for r in measured)),
            )
        )
        q4 = _ratio(_rps(geo1, conns, "Q4"), _rps(ds, conns, "Q4"))
        rows.append(
            (
                f"Q4 above 100{TIMES} Datasette",
                _fmt(q4, 0, TIMES),
                _yes(None if q4 is None else q4 > 100),
            )
        )
        q5 = _rps(geo1, conns, "Q5")
        rows.append(
            (
                "Q5 ≥ 2,000 req/s",
                f"{_fmt(q5)} req/s (1 worker)",
                _yes(None if q5 is None else q5 >= 2000),
            )
        )
        q1 = max((v for c in (1, conns) if (v := _rps(geo2, c, "Q1")) is not None), default=None)
        rows.append(
            (
                "Q1 ≥ 1,000 req/s with 2 workers",
                f"{_fmt(q1)} req/s (the better of 1 and {conns} connections)",
                _yes(None if q1 is None else q1 >= 1000),
            )
        )
        p99 = {q: _field(geo1, conns, q, "p99_ms") for q in ("Q1", "Q2", "Q3", "Q5")}
        known = [v for v in p99.values() if v is not None]
        rows.append(
            (
                f"p99 < 50 ms for Q1{DASH}Q3 and Q5 ({conns} connections, 1 worker)",
                ", ".join(f"{q} {_fmt(v, 1, ' ms')}" for q, v in p99.items()),
                _yes(None if not known else all(v < 50 for v in known)),
            )
        )
        q7 = ((geo1 or {}).get("probes") or {}).get("Q7")
        alone = None if not q7 or q7.get("status") != 200 else q7["seconds"] * 1000
        rows.append(
            (
                "Q7 (the network of a year) under 50 ms alone",
                _fmt(alone, 1, " ms"),
                _yes(None if alone is None else alone < 50),
            )
        )
        q8 = ((geo1 or {}).get("probes") or {}).get("Q8")
        rate = (
            None
            if not q8 or q8.get("status") != 200 or not q8.get("rows")
            else q8["rows"] / q8["seconds"]
        )
        peaks = [v for c in (1, conns) if (v := _field(geo1, c, "Q8", "rss_peak_mib")) is not None]
        peak = max(peaks, default=None)
        rows.append(
            (
                "exports ≥ 50,000 rows/s, peak server RSS < 150 MB",
                f"Q8 (CSV) {_fmt(rate, 0)} rows/s alone; peak RSS {_fmt(peak, 0, ' MiB')} "
                f"(1 and {conns} connections)",
                _yes(None if rate is None else rate >= 50000 and (peak or 0) < 150 / 1.048576),
            )
        )
    rows.append(
        (
            f"`as_of` at 1 M within 2{TIMES} of the same read, the first included",
            "not part of bench/run.py: bench/as_of.py, [RESULTS-as-of.md](RESULTS-as-of.md)",
            "see there",
        )
    )
    rows.append(
        (
            f"Q1, Q2, Q3, Q5 at 1 M within 1.3{TIMES} of 100 k",
            "one size per run: [RESULTS-10k.md](RESULTS-10k.md), "
            "[RESULTS-100k.md](RESULTS-100k.md) and this file",
            "see there",
        )
    )
    postgres = stores.get("postgresql")
    if sqlite and postgres:
        for workers in (1, 2):
            lite, pg = _geo(sqlite, workers), _geo(postgres, workers)
            if lite is None or pg is None:
                continue
            slower = {
                q["name"]: _ratio(
                    _field(pg, 1, q["name"], "p50_ms"), _field(lite, 1, q["name"], "p50_ms")
                )
                for q in sqlite["queries"]
            }
            known = [v for v in slower.values() if v is not None]
            rows.append(
                (
                    f"PostgreSQL within 1.5{TIMES} of SQLite ({workers} worker"
                    f"{'s' if workers > 1 else ''}, "
                    "1 connection, p50 PostgreSQL / SQLite)",
                    ", ".join(f"{q} {_fmt(v, 2, TIMES)}" for q, v in slower.items()),
                    _yes(None if not known else all(v <= 1.5 for v in known)),
                )
            )
    for name, store in stores.items():
        ds = store["dataset"]
        seconds = ds.get("generate_seconds")
        how = "by this run" if not ds.get("reused") else "earlier (reused here)"
        rows.append(
            (
                f"1 M events with their history generated in under 5 minutes ({name})",
                f"{ds['events']:,} events in {_fmt(seconds, 0, ' s')} ({how})",
                _yes(None if seconds is None or ds["events"] < 1_000_000 else seconds < 300),
            )
        )
    return [
        HEADING,
        "",
        "Written by bench/targets.py from this run's figures. SQLite unless said.",
        "",
        "| target | measured here | met |",
        "| --- | --- | --- |",
        *(f"| {t} | {m} | {ok} |" for t, m, ok in rows),
    ]


PROFILES = "## Where the time goes"


def splice(text: str, section: list[str]) -> str:
    """RESULTS.md with this section in place of its own, or before the profiles."""
    lines = text.rstrip("\n").split("\n")
    if HEADING in lines:
        start = lines.index(HEADING)
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
    else:
        start = end = next(
            (i for i, line in enumerate(lines) if line.startswith(PROFILES)), len(lines)
        )
    return "\n".join([*lines[:start], *section, "", *lines[end:]]).rstrip("\n") + "\n"


def main(argv: list[str]) -> None:
    report = json.loads(Path(argv[1]).read_text())
    section = render(report)
    if len(argv) > 3 and argv[2] == "--into":
        out = Path(argv[3])
        out.write_text(splice(out.read_text(), section))
    else:
        print("\n".join(section))


if __name__ == "__main__":
    main(sys.argv)
