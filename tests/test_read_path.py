"""The lean read path (app.web.reads) answers exactly as the routes do.

Every URL below is asked of two apps on the same data: one with the read path (the default)
and one without it (READ_PATH=false: every request through FastAPI's routes). Status, body
and headers must be the same, byte for byte (the request id and the date aside). Each test
also checks which URLs the read path answered itself, so that a comparison of the routes
with themselves cannot pass for one of both paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from app.core.config import Settings
from app.main import create_app
from app.web.reads import ReadPath
from app.web.state import state_of

VARYING = {"date", "x-request-id"}


def _client(settings: Settings, connection: Connection, read_path: bool) -> TestClient:
    app = create_app(settings.model_copy(update={"read_path": read_path}))
    state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return TestClient(app)


@pytest.fixture
def both(settings: Settings, connection: Connection) -> Iterator[tuple[TestClient, TestClient]]:
    """A client of the app with the read path, and one of the app without it."""
    with (
        _client(settings, connection, True) as lean,
        _client(settings, connection, False) as routed,
    ):
        yield lean, routed


def _read_path(client: TestClient) -> ReadPath:
    layer: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while layer is not None and not isinstance(layer, ReadPath):
        layer = getattr(layer, "app", None)
    assert isinstance(layer, ReadPath), "the app has no read path"
    return layer


def _same(
    both: tuple[TestClient, TestClient], url: str, headers: dict[str, str] | None = None
) -> tuple[bool, Any]:
    """Ask both apps; assert the answers are equal; say whether the read path answered."""
    lean, routed = both
    before = _read_path(lean).answered
    got = lean.get(url, headers=headers)
    answered = _read_path(lean).answered > before
    want = routed.get(url, headers=headers)
    assert got.status_code == want.status_code, url
    assert got.content == want.content, url
    got_headers = [(k, v) for k, v in got.headers.multi_items() if k not in VARYING]
    want_headers = [(k, v) for k, v in want.headers.multi_items() if k not in VARYING]
    assert got_headers == want_headers, url
    return answered, got


def _ids(client: TestClient, path: str) -> list[str]:
    body = client.get(path, params={"limit": 500}).json()
    return [item["id"] for item in body["data"]]


def test_every_record_detail_is_answered_the_same(both: tuple[TestClient, TestClient]) -> None:
    lean, _ = both
    urls = [
        f"/v1/{kind}/{rid}"
        for kind in ("events", "actors", "claims", "sources")
        for rid in _ids(lean, f"/v1/{kind}")
    ]
    assert len(urls) > 100
    for url in urls:
        answered, got = _same(both, url)
        assert got.status_code == 200, url
        assert answered, url


LISTS = [
    "/v1/events",
    "/v1/events?limit=3",
    "/v1/events?actor=russia",
    "/v1/events?actor=russia&actor=ukraine",
    "/v1/events?actor=russia&actor=ukraine&actor_match=any",
    "/v1/events?actor=Putin",
    "/v1/events?start=2026-01-23&end=2026-02-05",
    "/v1/events?start=2026&end=2026-02",
    "/v1/events?q=ceasefire",
    "/v1/events?q=nuclear%20treaty&limit=2",
    "/v1/events?type=CONSULT&type=AGREE",
    "/v1/events?status=proposed",
    "/v1/events?country=UA",
    "/v1/events?sort=date&limit=5",
    "/v1/events?fields=id,title",
    "/v1/events?format=csv",
    "/v1/events?format=ndjson&limit=4",
    "/v1/events?format=geojson",
    "/v1/events?dataset=reporting",
    "/v1/events?min_sources=1&limit=2",
    "/v1/events?expand=members&actor=european-union",
    "/v1/actors",
    "/v1/actors?q=EU",
    "/v1/actors?limit=5&format=csv",
    "/v1/actors/russia/events",
    "/v1/actors/russia/events?limit=2&start=2026-01",
    "/v1/claims",
    "/v1/claims?limit=7",
    "/v1/claims?speaker=vladimir-putin&source=putin-roundup-article",
    "/v1/claims?q=nuclear",
]


@pytest.mark.parametrize("url", LISTS)
def test_lists_are_answered_the_same_page_by_page(
    both: tuple[TestClient, TestClient], url: str
) -> None:
    answered, got = _same(both, url)
    assert got.status_code == 200, got.text
    assert answered
    pages = 0
    while got.headers.get("content-type", "").startswith("application/json"):
        cursor = got.json().get("meta", {}).get("next_cursor")
        if cursor is None or pages > 20:
            break
        sep = "&" if "?" in url else "?"
        answered, got = _same(both, f"{url}{sep}cursor={cursor}")
        assert got.status_code == 200
        assert answered
        pages += 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "text/csv"},
        {"Accept": "application/x-ndjson"},
        {"Prefer": "count=none"},
        {"Prefer": "count=estimated"},
        {"Accept": "text/html"},
    ],
)
def test_negotiation_and_preferences_are_the_same(
    both: tuple[TestClient, TestClient], headers: dict[str, str]
) -> None:
    for url in ("/v1/events?limit=5", "/v1/actors?limit=5", "/v1/claims?limit=5"):
        _same(both, url, headers)


def test_a_cached_copy_revalidates_the_same(both: tuple[TestClient, TestClient]) -> None:
    lean, _ = both
    for url in ("/v1/events?limit=2", "/v1/events/new-start-observance-extension"):
        etag = lean.get(url).headers["etag"]
        _, got = _same(both, url, {"If-None-Match": etag})
        assert got.status_code == 304


# What the read path leaves to the routes: their answers are the routes' own.
PASSED_ON = [
    "/v1/events?limit=0",
    "/v1/events?limit=abc",
    "/v1/events?limit=2&limit=3",
    "/v1/events?unknown=1",
    "/v1/events?as_of=2026-01-01T00:00:00Z",
    "/v1/events?limit=all&format=csv",
    "/v1/events?start=2026-13",
    "/v1/events?type=NOPE",
    "/v1/events?format=xml",
    "/v1/events/new-start-observance-extension?as_of=2026-01-01T00:00:00Z",
    "/v1/events/new-start-observance-extension?x=1",
    "/v1/events/" + "x" * 161,
    "/v1/events/a%20b",
    "/v1/actors/russia/events?limit=-1",
]


@pytest.mark.parametrize("url", PASSED_ON)
def test_what_the_read_path_cannot_answer_goes_to_the_routes(
    both: tuple[TestClient, TestClient], url: str
) -> None:
    answered, _ = _same(both, url)
    assert not answered


# What the read path answers with the app's own problem (the route would raise the same).
REFUSED = [
    ("/v1/events/no-such-event", 404),
    ("/v1/actors/no-such-actor", 404),
    ("/v1/claims/no-such-claim", 404),
    ("/v1/sources/no-such-source", 404),
    ("/v1/actors/no-such-actor/events", 404),
    ("/v1/events?limit=100000", 422),
    ("/v1/events?cursor=garbage", 422),
    ("/v1/actors?format=geojson", 422),
]


@pytest.mark.parametrize(("url", "status"), REFUSED)
def test_refusals_are_the_routes_problems(
    both: tuple[TestClient, TestClient], url: str, status: int
) -> None:
    _, got = _same(both, url)
    assert got.status_code == status
    assert got.headers["content-type"] == "application/problem+json"
    assert got.json()["status"] == status
