"""`geoevents import-dataset` as a command: plain progress lines and the report when its
output is not a terminal, a bar redrawn in place when it is."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.fixtures.datasets import data_file


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", "import-dataset", *args]


def test_the_command_reports_in_plain_lines_off_a_terminal(scratch_url: str) -> None:
    acled = data_file("acled-format-synthetic.csv")
    env = os.environ | {"DATABASE_URL": scratch_url}
    done = subprocess.run(
        _command("acled", str(acled), "--release", "synthetic"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "acled synthetic: 80 rows read" in done.stdout
    assert "events: 80 created, 0 updated, 0 unchanged, 0 removed" in done.stdout
    assert "rows refused: 0" in done.stdout
    assert "80 rows read, 0 refused" in done.stderr
    assert "\r" not in done.stderr
    again = subprocess.run(
        _command("acled", str(acled), "--release", "synthetic"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "events: 0 created, 0 updated, 80 unchanged, 0 removed; 0 revisions" in again.stdout
    missing = subprocess.run(
        _command("acled", "/nonexistent.csv"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert missing.returncode != 0
    assert "/nonexistent.csv is not a file" in missing.stderr


def test_the_command_draws_a_bar_on_a_terminal(scratch_url: str, tmp_path: Path) -> None:
    ucdp = data_file("ucdp-ged-23.1-sample.csv")
    env = os.environ | {"DATABASE_URL": scratch_url}
    leader, follower = pty.openpty()
    done = subprocess.run(
        _command("ucdp", str(ucdp)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=follower,
        timeout=600,
        check=False,
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert done.returncode == 0
    assert b"\r[" in drawn
    assert b"rows/s" in drawn
    assert b"600 rows read" in done.stdout
