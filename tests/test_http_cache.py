"""ETag, Last-Modified, 304, Cache-Control, HEAD and CORS on every data GET."""

from __future__ import annotations

import time
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core import version as data_version
from app.core.config import Settings
from app.curation.seed import service as seeding
from app.main import create_app
from app.web.http_cache import HTTPCacheMiddleware, http_date
from app.web.state import state_of
from tests.curation.conftest import bearer
from tests.factories import make_event

DASHBOARD_URLS = [
    "/v1/events?limit=5",
    "/v1/events?format=csv",
    "/v1/events/putin-xi-video-summit",
    "/v1/actors",
    "/v1/actors/russia",
    "/v1/actors/russia/events",
    "/v1/claims?q=barbaric",
    "/v1/sources",
    "/v1/sources/putin-roundup-article",
    "/v1/stats/timeline?interval=month",
    "/v1/stats/summary",
    "/v1/stats/quantities",
    "/v1/network",
]


@pytest.mark.parametrize("url", DASHBOARD_URLS)
def test_repeat_with_etag_is_304(client: TestClient, url: str) -> None:
    first = client.get(url)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "no-cache"
    assert "Accept" in first.headers["vary"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(url, headers={"If-None-Match": f'W/{etag}, "x"'}).status_code == 304
    # If-None-Match decides when both are sent.
    both = client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": modified})
    assert both.status_code == 200


def test_with_the_response_cache_off_answers_validate_the_same(
    settings: Settings, client: TestClient
) -> None:
    """With RESPONSE_CACHE_ENTRIES=0 nothing looks the version up before the route: the
    route's own read gives every answer its ETag and Last-Modified all the same."""
    off = create_app(settings.model_copy(update={"response_cache_entries": 0}))
    state_of(off).sessionmaker = state_of(client.app).sessionmaker
    state_of(off).read_sessionmaker = state_of(client.app).read_sessionmaker
    with TestClient(off) as uncached:
        for url in [*DASHBOARD_URLS, "/v1/vocabulary"]:
            cached, fresh = client.get(url), uncached.get(url)
            assert fresh.status_code == cached.status_code == 200, url
            assert fresh.content == cached.content, url
            assert fresh.headers["etag"] == cached.headers["etag"], url
            assert fresh.headers["last-modified"] == cached.headers["last-modified"], url
            again = uncached.get(url, headers={"If-None-Match": fresh.headers["etag"]})
            assert again.status_code == 304, url
        assert len(state_of(off).response_cache) == 0


@pytest.mark.parametrize("url", [*DASHBOARD_URLS, "/healthz", "/readyz", "/openapi.json"])
def test_head_works_wherever_get_does(client: TestClient, url: str) -> None:
    get, head = client.get(url), client.head(url)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers.get("etag") == get.headers.get("etag")
    assert head.headers["content-type"] == get.headers["content-type"]


def test_etag_changes_with_the_data_and_only_then(client: TestClient, session: Session) -> None:
    url = "/v1/events?actor=russia&limit=100"
    before = client.get(url).headers["etag"]
    assert not seeding.seed(session, Settings().seed_dir).changed  # re-seeding changes nothing
    session.commit()
    assert client.get(url).headers["etag"] == before
    make_event(session, "cache-buster", date(2026, 2, 1), actors=("russia",))
    after = client.get(url)
    assert after.headers["etag"] != before
    assert client.get(url, headers={"If-None-Match": before}).status_code == 200


def test_unrelated_writes_move_last_modified_but_not_the_etag(
    client: TestClient, session: Session
) -> None:

    url = "/v1/actors/denmark"  # an answer the write below does not touch
    before = client.get(url)
    make_event(session, "another-write", date(2026, 2, 2))
    after = client.get(url)
    assert after.headers["etag"] == before.headers["etag"]
    assert client.get(url, headers={"If-None-Match": before.headers["etag"]}).status_code == 304
    moved = parsedate_to_datetime(after.headers["last-modified"])
    assert moved >= parsedate_to_datetime(before.headers["last-modified"])


def test_errors_are_not_cached_as_304(client: TestClient) -> None:
    first = client.get("/v1/events/nope")
    assert first.status_code == 404
    assert "etag" not in first.headers


def test_cors_allows_get_from_any_origin_by_default(client: TestClient) -> None:
    response = client.get("/v1/events", headers={"Origin": "https://dashboard.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]
    preflight = client.options(
        "/v1/events",
        headers={"Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200


def test_cache_control_and_cors_are_configurable(database_url: str, engine: object) -> None:
    settings = Settings(
        database_url=database_url,
        cache_control="public, max-age=60",
        cors_origins=["https://grafana.internal"],
    )
    with TestClient(create_app(settings)) as client:
        allowed = client.get("/v1/sources", headers={"Origin": "https://grafana.internal"})
        assert allowed.headers["cache-control"] == "public, max-age=60"
        assert allowed.headers["access-control-allow-origin"] == "https://grafana.internal"
        other = client.get("/v1/sources", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers


def test_repeated_requests_are_served_from_the_response_cache(
    client: TestClient, session: Session
) -> None:
    cache = state_of(client.app).response_cache
    url = "/v1/events?actor=ukraine&limit=3"
    first = client.get(url)
    stored = len(cache)
    second = client.get(url)
    assert len(cache) == stored  # a hit adds nothing
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert (
        client.get(url, headers={"Accept": "text/csv"})
        .headers["content-type"]
        .startswith("text/csv")
    )  # the Accept header is part of the key
    make_event(session, "fresh-data", date(2026, 3, 1), actors=("ukraine",))
    third = client.get(url)
    assert third.content != first.content  # a write bumps the version: never a stale answer
    assert "fresh-data" in third.text


def _start_of_a_second() -> None:
    """Wait until a new second has just begun, so that what follows shares it."""
    now = time.time()
    time.sleep(1 - (now - int(now)) + 0.01)


def test_no_304_for_a_change_in_the_same_second(client: TestClient, keys: dict[str, str]) -> None:
    """Last-Modified counts whole seconds: a copy taken between two writes of one second must
    not be validated by If-Modified-Since once the second write has landed."""
    writer = bearer(keys["write"])
    detail = "/v1/events/putin-xi-video-summit"
    listed = "/v1/events?q=summit"
    for attempt in range(3):
        _start_of_a_second()
        first = client.patch(
            detail, json={"title": f"First {attempt}"}, headers=writer | {"If-Match": "*"}
        )
        assert first.status_code == 200, first.text
        copies = {url: client.get(url) for url in (detail, listed)}
        second = client.patch(
            detail, json={"title": f"Second {attempt}"}, headers=writer | {"If-Match": "*"}
        )
        assert second.status_code == 200, second.text
        for url, copy in copies.items():
            assert f"First {attempt}" in copy.text
            since = copy.headers.get("last-modified")
            if since is None:  # a copy that cannot be validated by date is also right
                continue
            again = client.get(url, headers={"If-Modified-Since": since})
            assert again.status_code == 200, (url, since)
            assert f"Second {attempt}" in again.text
            # The answer now shares its second with another version: no date validates it.
            assert "last-modified" not in again.headers or again.headers["last-modified"] != since
    # A version alone in its second is validated by its date again.
    _start_of_a_second()
    client.patch(detail, json={"title": "Alone"}, headers=writer | {"If-Match": "*"})
    alone = client.get(detail)
    modified = alone.headers["last-modified"]
    assert client.get(detail, headers={"If-Modified-Since": modified}).status_code == 304


def test_an_answer_is_cached_under_the_version_its_data_was_read_at(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A write commits after the middleware read the version (to look the cache up) and
    # before the route reads its data: the answer shows the write, so it is stored, and
    # validated, under the write's version; a request that still sees the old version must
    # not be answered with it.
    cache = state_of(client.app).response_cache
    url = "/v1/events?actor=russia&limit=100"
    key = f"http://testserver{url}|*/*"  # scheme and Host, then the URL and Accept
    before = data_version.current(session)[0]
    read_version = HTTPCacheMiddleware._version

    async def write_in_between(self: HTTPCacheMiddleware, scope: Any) -> Any:
        version = await read_version(self, scope)
        make_event(session, "written-in-between", date(2026, 2, 1), actors=("russia",))
        return version

    monkeypatch.setattr(HTTPCacheMiddleware, "_version", write_in_between)
    answer = client.get(url)
    monkeypatch.undo()
    after, changed_at = data_version.current(session)
    assert after > before
    assert "written-in-between" in answer.text
    assert cache.get((before, key)) is None
    stored = cache.get((after, key))
    assert stored is not None
    assert stored.body == answer.content
    assert answer.headers["etag"] == stored.etag
    assert changed_at is not None  # the write is alone in its second
    assert answer.headers["last-modified"] == http_date(changed_at)
