"""The explorer in real headless Chromium (Selenium and Debian's chromedriver), against
`geoevents serve` on a seeded scratch database, with every host but loopback unresolvable.
Each test leaves a screenshot in build/screenshots/, which the suite names at its end."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import scratch_database
from tests.fixtures.servers import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
WIDE = (1280, 1800)


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`geoevents serve` on a database of its own, seeded as `make run` seeds it."""
    folder = tmp_path_factory.mktemp("explore")
    for url in scratch_database(database_url, folder, "explore"):
        running = Server(url, folder / "server.log")
        yield running
        running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the suite; no host but 127.0.0.1 resolves."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI"):
            pytest.fail("chromium or chromedriver is not installed; .ci/run installs them")
        pytest.skip("chromium and chromium-driver not installed (apt-get install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--window-size={WIDE[0]},{WIDE[1]}",
    ):
        options.add_argument(argument)
    # The console, so that a test can see a failed request or a script error.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def page(
    browser: webdriver.Chrome, server: Server, request: pytest.FixtureRequest
) -> Iterator[Explorer]:
    """The browser at a wide window, and a screenshot of where the test left it."""
    browser.set_window_size(*WIDE)
    yield Explorer(browser, server.base)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{request.node.name}.png"))


class Explorer:
    """The explorer page as a person uses it: open a URL, act, wait until it has drawn."""

    def __init__(self, driver: webdriver.Chrome, base: str) -> None:
        self.driver = driver
        self.base = base

    def js(self, script: str, *args: Any) -> Any:
        """Run a script in the page and return its value."""
        return self.driver.execute_script(script, *args)

    def settled(self) -> str:
        """The mark the page sets when it has drawn every view of its state."""
        return str(self.js("return document.body.dataset.settled || ''"))

    def open(self, query: str = "") -> None:
        """Load /explore with a query and wait until every view is drawn."""
        self.driver.get(f"{self.base}/explore{query}")
        self.wait_for(lambda: self.settled() != "")

    def act(self, script: str, *args: Any) -> None:
        """Do something in the page and wait until it has drawn again."""
        before = self.settled()
        self.js(script, *args)
        self.wait_for(lambda: self.settled() not in ("", before))

    def back(self) -> None:
        """The browser's Back button."""
        before = self.settled()
        self.driver.back()
        self.wait_for(lambda: self.settled() not in ("", before))

    def console(self) -> list[dict[str, Any]]:
        """The browser console's entries since the last call."""
        entries: list[dict[str, Any]] = self.driver.get_log("browser")  # type: ignore[no-untyped-call]
        return entries

    def wait_for(self, condition: Any, timeout: float = 15) -> None:
        """Wait until `condition()` is true."""
        WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda _: condition())

    def texts(self, selector: str) -> list[str]:
        """The text of every element the selector matches."""
        return list(
            self.js(
                "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)",
                selector,
            )
        )

    def listed(self) -> list[str]:
        """Ids of the events the list shows."""
        return self.all("#list li", "event")

    def all(self, selector: str, data: str) -> list[str]:
        """A data attribute of every element the selector matches."""
        return list(
            self.js(
                "return [...document.querySelectorAll(arguments[0])]"
                ".map(e => e.dataset[arguments[1]])",
                selector,
                data,
            )
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are."""
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_sep("-", "explorer screenshots")
        terminalreporter.write_line(str(SCREENSHOTS))
