"""A shared cache in front: the nginx configuration of docs/deploy.md, run for real.

`geoevents serve` on a scratch database of the suite's store, and nginx (Debian's package)
with the documented configuration, taken from docs/deploy.md with only its addresses and
paths replaced, both on free loopback ports. nginx stores every answer and revalidates it with
the API's ETag on every use; the API's own count of what it answered (`/metrics`) shows what
reached it. Skipped when nginx is not installed; `make cachetest` installs it and runs this.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import scratch_database
from tests.curation.conftest import bearer, new_event
from tests.fixtures.servers import Server, free_port

DOCS = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
REQUIRED = os.environ.get("SHARED_CACHE_TEST") == "1"  # set by `make cachetest`
HOW_TO_INSTALL = "nginx is not installed: `apt-get install -y nginx`, or `make cachetest`"
EXPIRED_MARK = "add_header X-Accel-Expires @1;"
IGNORE_CACHE_CONTROL = "proxy_ignore_headers Cache-Control;"

pytestmark = pytest.mark.skipif(NGINX is None and not REQUIRED, reason=HOW_TO_INSTALL)


def documented_config() -> str:
    """The one nginx block of docs/deploy.md."""
    blocks = re.findall(r"```nginx\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, f"docs/deploy.md should hold one nginx block, not {len(blocks)}"
    return str(blocks[0])


class Nginx:
    """nginx in the foreground with a configuration of its own, in a folder of its own."""

    def __init__(self, fragment: str, api_port: int) -> None:
        assert NGINX is not None, HOW_TO_INSTALL
        # Its workers run as `nobody` when nginx starts as root: the folder must be theirs
        # to read, so not under pytest's private temporary directory.
        self.folder = Path(tempfile.mkdtemp(prefix="geoevents-nginx-"))
        self.folder.chmod(0o755)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        local = {
            "/var/cache/nginx/geoevents": str(self.folder / "cache"),
            "127.0.0.1:8000": f"127.0.0.1:{api_port}",
            "unix:/run/nginx-geoevents-origin.sock": f"unix:{self.folder}/origin.sock",
            "listen 80;": f"listen 127.0.0.1:{self.port};",
        }
        for documented, here in local.items():
            assert documented in fragment, f"the nginx block no longer has {documented!r}"
            fragment = fragment.replace(documented, here)
        temp = " ".join(
            f"{kind}_temp_path {self.folder}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.folder / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {self.folder}/nginx.pid;\n"
            f"events {{ worker_connections 256; }}\n"
            f"http {{\naccess_log off;\n{temp}\n{fragment}\n}}\n"
        )
        self.error_log = self.folder / "error.log"
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.folder), "-c", "nginx.conf", "-e", str(self.error_log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        log = self.error_log.read_text() if self.error_log.exists() else ""
        self.stop()
        raise AssertionError(f"nginx did not start:\n{log}")

    def stop(self) -> None:
        """SIGQUIT (finish what is in flight, then stop), then remove its folder."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`geoevents serve` on a freshly seeded scratch database."""
    folder = tmp_path_factory.mktemp("shared-cache")
    for url in scratch_database(database_url, folder, "sharedcache"):
        server = Server(url, folder / "server.log", "--workers", "1")
        yield server
        server.stop()


@pytest.fixture(scope="module")
def proxy(api: Server) -> Iterator[httpx.Client]:
    """A client of nginx, configured as docs/deploy.md says, in front of the API."""
    nginx = Nginx(documented_config(), api.port)
    with httpx.Client(base_url=nginx.base, timeout=10) as client:
        yield client
    nginx.stop()


@pytest.fixture(scope="module")
def writer(api: Server) -> dict[str, str]:
    return bearer(api.key("shared-cache"))


def origin_answers(api: Server) -> Counter[str]:
    """How many GETs the API has answered, by status (from its own /metrics)."""
    counts: Counter[str] = Counter()
    text = httpx.get(api.base + "/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "geoevents_requests_total"
                and sample.labels["method"] == "GET"
                and sample.labels["route"] not in ("/metrics", "/readyz")
            ):
                counts[sample.labels["status"]] += int(sample.value)
    return counts


class Watch:
    """What the API answered between two moments."""

    def __init__(self, api: Server) -> None:
        self.api = api
        self.before = origin_answers(api)

    def seen(self) -> dict[str, int]:
        """The answers since the last call, by status, and start again."""
        now = origin_answers(self.api)
        moved = {status: now[status] - self.before[status] for status in now}
        self.before = now
        return {status: n for status, n in moved.items() if n}


def cache_status(answer: httpx.Response) -> str:
    """nginx's X-Cache-Status: MISS, REVALIDATED (the API said 304), EXPIRED (it sent anew)."""
    return str(answer.headers.get("x-cache-status", ""))


@pytest.mark.parametrize(
    "url",
    [
        "/v1/events?actor=russia&limit=4",
        "/v1/events/putin-xi-video-summit",
        "/v1/events?actor=ukraine&format=csv",
        "/v1/actors/russia",
        "/v1/stats/timeline?interval=month",
    ],
)
def test_answers_are_stored_and_revalidated_with_the_etag(
    proxy: httpx.Client, api: Server, url: str
) -> None:
    watch = Watch(api)
    first = proxy.get(url)
    assert first.status_code == 200, first.text
    assert cache_status(first) == "MISS"
    assert watch.seen() == {"200": 1}
    for _ in range(3):
        again = proxy.get(url)
        assert again.status_code == 200
        assert cache_status(again) == "REVALIDATED"  # the stored answer, after asking the API
        assert again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]
        assert watch.seen() == {"304": 1}  # the API sent a 304, no body


@pytest.mark.parametrize(
    "url", ["/v1/events?actor=china&limit=3", "/v1/sources/putin-roundup-article"]
)
def test_a_clients_if_none_match_gets_a_304_from_nginx(
    proxy: httpx.Client, api: Server, url: str
) -> None:
    host = {"Host": proxy.base_url.netloc.decode()}
    tag = httpx.get(api.base + url, headers=host).headers["etag"]
    watch = Watch(api)
    # Not stored yet: nginx asks for the whole answer, stores it, and answers the client 304.
    unseen = proxy.get(url, headers={"If-None-Match": tag})
    assert (unseen.status_code, cache_status(unseen), unseen.content) == (304, "MISS", b"")
    assert unseen.headers["etag"] == tag
    assert watch.seen() == {"200": 1}
    stored = proxy.get(url, headers={"If-None-Match": tag})
    assert (stored.status_code, cache_status(stored)) == (304, "REVALIDATED")
    modified = stored.headers["last-modified"]
    assert proxy.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    other = proxy.get(url, headers={"If-None-Match": '"another"'})
    assert (other.status_code, other.headers["etag"]) == (200, tag)
    assert watch.seen() == {"304": 3}


def test_after_a_write_through_nginx_the_next_get_is_new(
    proxy: httpx.Client, api: Server, writer: dict[str, str]
) -> None:
    listing, detail = "/v1/events?tag=shared-cache", "/v1/events/shared-cache-event"
    watch = Watch(api)
    assert proxy.get(listing).json()["meta"]["total"] == 0
    assert cache_status(proxy.get(listing)) == "REVALIDATED"
    assert proxy.get(detail).status_code == 404
    assert watch.seen() == {"200": 1, "304": 1, "404": 1}

    body = new_event("shared-cache-event", tags=["shared-cache"], title="Before")
    created = proxy.post("/v1/events", json=body, headers=writer)
    assert created.status_code == 201, created.text
    listed = proxy.get(listing)
    assert (cache_status(listed), listed.json()["meta"]["total"]) == ("EXPIRED", 1)
    first = proxy.get(detail)
    assert (first.status_code, cache_status(first)) == (200, "MISS")  # a 404 was not stored
    seen = first.headers["etag"]
    assert proxy.get(detail, headers={"If-None-Match": seen}).status_code == 304

    changed = proxy.patch(detail, json={"title": "After"}, headers=writer | {"If-Match": seen})
    assert changed.status_code == 200, changed.text
    after = proxy.get(detail)
    assert (cache_status(after), after.json()["title"]) == ("EXPIRED", "After")
    assert after.headers["etag"] == changed.headers["etag"] != seen
    stale = proxy.get(detail, headers={"If-None-Match": seen})
    assert (stale.status_code, stale.json()["title"]) == (200, "After")
    relisted = proxy.get(listing)
    assert cache_status(relisted) == "EXPIRED"
    assert [e["title"] for e in relisted.json()["data"]] == ["After"]


def test_errors_are_never_stored(proxy: httpx.Client, api: Server) -> None:
    watch = Watch(api)
    for _ in range(2):
        missing = proxy.get("/v1/events/no-such-event")
        assert (missing.status_code, cache_status(missing)) == (404, "MISS")
        invalid = proxy.get("/v1/events?limit=0")
        assert (invalid.status_code, cache_status(invalid)) == (422, "MISS")
    assert watch.seen() == {"404": 2, "422": 2}


def test_variants_of_one_url_are_stored_apart(proxy: httpx.Client) -> None:
    url = "/v1/events?actor=united-states&limit=1"
    as_json = proxy.get(url)
    as_csv = proxy.get(url, headers={"Accept": "text/csv"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert proxy.get(url).content == as_json.content
    # The Link header names the host the client asked, whichever asked first.
    for host in ("a.example", "b.example", "a.example"):
        link = proxy.get(url, headers={"Host": host}).headers["link"]
        assert link.startswith(f"<http://{host}/v1/events?"), link


@pytest.mark.parametrize(
    ("left_out", "revalidated_status"),
    [
        # Cache-Control ignored but nothing marks the answer as storable: nginx answers the
        # client's If-None-Match, but stores nothing.
        ((EXPIRED_MARK,), 304),
        # The plain proxy_cache of the issue: no-cache keeps nginx from storing, and from
        # answering If-None-Match (it is not forwarded either).
        ((EXPIRED_MARK, IGNORE_CACHE_CONTROL), 200),
    ],
)
def test_without_the_expired_mark_nginx_stores_nothing(
    api: Server, left_out: tuple[str, ...], revalidated_status: int
) -> None:
    fragment = documented_config()
    for line in left_out:
        assert line in fragment
        fragment = fragment.replace(line, "")
    nginx = Nginx(fragment, api.port)
    try:
        with httpx.Client(base_url=nginx.base, timeout=10) as client:
            url = "/v1/events?actor=russia&limit=2"
            watch = Watch(api)
            first = client.get(url)
            again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
            seen = watch.seen()
    finally:
        nginx.stop()
    assert first.headers["cache-control"] == "no-cache"
    assert (cache_status(first), cache_status(again)) == ("MISS", "MISS")
    assert again.status_code == revalidated_status
    assert seen == {"200": 2}  # the whole answer, both times
