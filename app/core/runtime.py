"""The folder one `geoevents serve` shares between its worker processes.

The command makes it before it starts the workers and removes it when it stops; a folder left
by a server that died (its process is gone) is removed when the next one starts. What lives in
it is per host and per server: the rate limiter's buckets (so that N workers grant the rate
once, not N times) and the metrics of every worker (so that one scrape sees the host).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ENV = "GEOEVENTS_RUNTIME_DIR"
PREFIX = "geoevents-run-"
OWNER = "pid"


def runtime_dir() -> Path | None:
    """The serving folder of this process's server, or None outside `geoevents serve`."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: alive
        return True
    return True


def remove_stale(parent: Path | None = None) -> list[Path]:
    """Remove the serving folders of servers that are gone."""
    parent = parent or Path(tempfile.gettempdir())
    removed = []
    for path in parent.glob(PREFIX + "*"):
        try:
            owner = int((path / OWNER).read_text())
        except (OSError, ValueError):
            owner = 0
        if owner and alive(owner):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


@contextmanager
def serving_dir() -> Iterator[Path]:
    """A fresh serving folder, named in the environment the workers inherit, removed after."""
    remove_stale()
    path = Path(tempfile.mkdtemp(prefix=PREFIX))
    (path / OWNER).write_text(str(os.getpid()))
    before = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before
        with suppress(OSError):
            shutil.rmtree(path)
