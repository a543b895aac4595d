"""Every refusal with a body is the one problem+json shape, at every size and on every route:
requests uvicorn cannot parse, moments outside the calendar, refused CORS preflights, and
answers in a media type the client does not accept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Claim
from tests.conftest import scratch_database
from tests.curation.conftest import bearer
from tests.fixtures.servers import Server, raw_answer
from tests.test_error_shape import assert_problem


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`geoevents serve` on a scratch database of the suite's store."""
    folder = tmp_path_factory.mktemp("refusals")
    for url in scratch_database(database_url, folder, "refusals"):
        running = Server(url, Path(folder) / "server.log")
        yield running
        running.stop()


def _problem(status: int, headers: dict[str, str], body: bytes) -> None:
    assert headers["content-type"] == "application/problem+json", (status, body)
    assert b'"status": ' + str(status).encode() in body or f'"status":{status}'.encode() in body


@pytest.mark.parametrize("size", [9_000, 60_000, 65_536, 70_000, 200_000])
def test_a_long_query_string_is_a_414_problem(server: Server, size: int) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /v1/events?q=" + b"a" * size + b" HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body = raw_answer(sock)
    assert status == 414
    _problem(414, headers, body)


def test_a_request_that_is_not_http_is_a_400_problem(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, headers, body = raw_answer(sock)
    assert status == 400
    _problem(400, headers, body)
    assert headers["connection"] == "close"


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z"]
)
@pytest.mark.parametrize("url", ["/v1/events", "/v1/events/putin-xi-video-summit"])
def test_as_of_at_the_ends_of_the_calendar(client: TestClient, url: str, moment: str) -> None:
    answer = client.get(url, params={"as_of": moment})
    if moment.endswith("Z"):  # the first moment there is: nothing existed yet
        assert answer.status_code in (200, 404)
    else:
        assert_problem(answer, 422, "as_of")


def test_a_refused_cors_preflight_is_a_problem(client: TestClient) -> None:
    origin = {"Origin": "https://dashboard.example"}
    allowed = client.options(
        "/v1/events", headers=origin | {"Access-Control-Request-Method": "GET"}
    )
    assert allowed.status_code == 200
    refused = client.options(
        "/v1/events", headers=origin | {"Access-Control-Request-Method": "DELETE"}
    )
    problem = assert_problem(refused, 400, "Origin")
    assert "method" in str(problem["detail"])
    assert refused.headers["access-control-allow-origin"] == "*"


JSON_ONLY = [
    "/v1/events/putin-xi-video-summit",
    "/v1/events/putin-xi-video-summit/history",
    "/v1/actors/russia",
    "/v1/claims/summit-held-2026-02-04",
    "/v1/sources/putin-roundup-article",
    "/v1/network",
    "/v1/stats/summary",
    "/v1/changes",
]


@pytest.mark.parametrize("url", JSON_ONLY)
@pytest.mark.parametrize("accept", ["text/csv", "application/xml", "application/geo+json"])
def test_an_answer_the_client_does_not_accept_is_a_406(
    client: TestClient, url: str, accept: str
) -> None:
    assert_problem(client.get(url, headers={"Accept": accept}), 406, "accept")
    assert client.head(url, headers={"Accept": accept}).status_code == 406


@pytest.mark.parametrize("url", JSON_ONLY)
@pytest.mark.parametrize(
    "accept", ["application/json", "*/*", "application/*", "text/html,*/*;q=0.8", ""]
)
def test_json_is_served_to_whoever_takes_it(client: TestClient, url: str, accept: str) -> None:
    answer = client.get(url, headers={"Accept": accept})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")


def test_lists_negotiate_as_before(client: TestClient) -> None:
    assert client.get("/v1/events", headers={"Accept": "text/csv"}).status_code == 200
    explicit = client.get("/v1/events?format=csv", headers={"Accept": "application/json"})
    assert explicit.status_code == 200  # format= wins over Accept
    assert_problem(client.get("/v1/events", headers={"Accept": "image/png"}), 406, "accept")


def test_a_write_whose_answer_is_not_accepted_stores_nothing(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    claims = session.scalar(select(func.count()).select_from(Claim))
    body = {
        "id": "refused-claim",
        "source_id": "putin-roundup-article",
        "statement": "A statement.",
        "hedging": "asserted",
    }
    answer = client.post(
        "/v1/claims", json=body, headers=bearer(keys["write"]) | {"Accept": "text/csv"}
    )
    assert_problem(answer, 406, "accept")
    assert session.scalar(select(func.count()).select_from(Claim)) == claims
    assert client.get("/v1/claims/refused-claim").status_code == 404
