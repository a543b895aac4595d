"""First paint of the explorer, measured in the browser.

    .venv/bin/python bench/explore.py --base-url http://127.0.0.1:8000 [--runs 11]
    .venv/bin/python bench/explore.py --database-url sqlite:///bench/data/geoevents_bench_1000000.db

Opens /explore in headless Chromium (Selenium and Debian's chromedriver) `--runs` times, each in
a fresh browser profile so that nothing is cached, and reports the medians (and the range) of
`first-contentful-paint` and of the page's `explore:ready` mark (the list and the timeline
drawn), both from the Performance API, in milliseconds after navigation start. One visit
before the runs is not counted (it warms the server, as a deployment in use is). With
`--database-url` it serves that database itself with `geoevents serve` (migrating and seeding
it if it is empty, as `make run` does); `--query` adds a query string (`?start=2025`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

GEOEVENTS = str(Path(sys.executable).parent / "geoevents")
MEASURE = """
const paint = performance.getEntriesByName('first-contentful-paint')[0];
const ready = performance.getEntriesByName('explore:ready')[0];
return [paint ? paint.startTime : null, ready ? ready.startTime : null];
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(database_url: str) -> Iterator[str]:
    """`geoevents serve` on the database, until the block ends."""
    port = free_port()
    server = subprocess.Popen(
        [GEOEVENTS, "serve", "--port", str(port), "--log-level", "warning"],
        env=os.environ | {"DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not become ready")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=60)


def browser(profile: str) -> webdriver.Chrome:
    """A headless Chromium with an empty profile; no host but loopback resolves."""
    options = webdriver.ChromeOptions()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(driver), options=options)


def measure(base: str, runs: int, query: str) -> tuple[list[float], list[float]]:
    """First contentful paint and the ready mark of each run, in ms."""
    paints: list[float] = []
    readies: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as profile:
            driver = browser(profile)
            try:
                driver.get(f"{base}/explore{query}")
                WebDriverWait(driver, 120, poll_frequency=0.05).until(
                    lambda d: d.execute_script(MEASURE)[1] is not None
                )
                paint, ready = driver.execute_script(MEASURE)
            finally:
                driver.quit()
        paints.append(float(paint))
        readies.append(float(ready))
    return paints, readies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="a running server, e.g. http://127.0.0.1:8000")
    where.add_argument("--database-url", help="serve this database for the measurement")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--query", default="", help="a query string, e.g. '?start=2025'")
    args = parser.parse_args()
    if args.base_url:
        base = args.base_url.rstrip("/")
        measure(base, 1, args.query)
        paints, readies = measure(base, args.runs, args.query)
    else:
        with served(args.database_url) as base:
            measure(base, 1, args.query)
            paints, readies = measure(base, args.runs, args.query)
    print(f"/explore{args.query}, {args.runs} runs, each in a fresh browser profile")
    for name, values in (("first-contentful-paint", paints), ("explore:ready", readies)):
        print(
            f"  {name:<24} median {statistics.median(values):7.1f} ms"
            f"  (min {min(values):.1f}, max {max(values):.1f})"
        )


if __name__ == "__main__":
    main()
