"""The docs pages render in a real headless browser with every other host unreachable."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def server_url(database_url: str, engine: object) -> Iterator[str]:
    """The app served by uvicorn in a subprocess, on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = os.environ | {"DATABASE_URL": database_url}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def render(url: str, profile: Path) -> str:
    """The DOM of a page after its scripts ran, with every host but loopback unresolvable."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium not installed (apt-get install chromium); CI installs and runs it")
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_swagger_ui_renders_offline(server_url: str, tmp_path: Path) -> None:
    dom = render(f"{server_url}/docs", tmp_path)
    assert 'class="swagger-ui' in dom
    assert "List events" in dom
    assert "Get one event with its evidence" in dom


def test_redoc_renders_offline(server_url: str, tmp_path: Path) -> None:
    dom = render(f"{server_url}/redoc", tmp_path)
    assert "List events" in dom
    assert "Get one event with its evidence" in dom
    assert "Something went wrong" not in dom


def test_swagger_ui_locks_only_what_needs_a_key(server_url: str, tmp_path: Path) -> None:
    """A padlock (the operation needs a key) on every write and on no read."""
    dom = render(f"{server_url}/docs", tmp_path)
    blocks = re.findall(
        r'<div class="opblock opblock-(\w+)[ "](.*?)(?=<div class="opblock |\Z)', dom, re.S
    )
    locked = {method for method, block in blocks if "authorization__btn" in block}
    assert len(blocks) > 40
    assert locked == {"post", "patch", "delete"}
    reads = [block for method, block in blocks if method == "get"]
    assert reads
    assert not any("authorization__btn" in block for block in reads)
