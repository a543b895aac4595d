"""The app alone, imported as a server imports it, knows every versioned table."""

from __future__ import annotations

import subprocess
import sys

from app.core.temporal import REGISTRY


def test_the_app_module_declares_every_versioned_table() -> None:
    probe = "import app.main; from app.core.temporal import REGISTRY; print(sorted(REGISTRY))"
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert answer.stdout.strip() == str(sorted(REGISTRY))
    assert {"sources", "events", "network_pairs", "event_search"} <= set(REGISTRY)
