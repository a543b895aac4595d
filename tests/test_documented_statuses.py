"""Every status the OpenAPI document lists for an operation is one it really answers.

For each (operation, status) pair of the document, one request that should provoke exactly
that answer is made against the real app, and the answer must be that status (errors as
problem+json). A pair no request can provoke would be a documentation defect; a pair the
table below does not know fails the test until it is taught how to provoke it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from app.core.config import Settings
from app.main import create_app
from app.web.state import state_of
from tests.curation.conftest import bearer, new_event

# One stored record per kind (from the seed), and the ids a creation uses.
STORED = {
    "events": "putin-xi-video-summit",
    "actors": "xi-jinping",
    "claims": "ceasefire-brokered-by-trump-energy",
    "sources": "putin-roundup-article",
}
IN_USE = {"actors": "russia", "sources": "putin-roundup-article"}


def new_body(kind: str, suffix: str) -> dict[str, Any]:
    """A valid creation body for this kind."""
    record_id = f"documented-{suffix}"
    match kind:
        case "events":
            return new_event(record_id)
        case "actors":
            return {"id": record_id, "name": "Documented Actor", "kind": "person"}
        case "claims":
            return {
                "id": record_id,
                "source_id": "putin-roundup-article",
                "event_id": STORED["events"],
                "statement": "A statement.",
                "hedging": "reported",
                "evidence": {"start": 0, "end": 4, "text": "News"},
            }
        case "sources":
            return {"id": record_id, "kind": "report", "published_date_precision": "unknown"}
    raise AssertionError(kind)


def ingest_body(suffix: str) -> dict[str, Any]:
    text = f"A documented text {suffix}."
    return {
        "source": {
            "id": f"documented-ingest-{suffix}",
            "kind": "report",
            "published_date_precision": "unknown",
            "text": text,
        },
        "events": [
            {
                "id": f"documented-ingest-event-{suffix}",
                "title": "A documented event",
                "event_type": "CONSULT",
                "status": "occurred",
                "date_precision": "unknown",
                "claims": [
                    {
                        "id": f"documented-ingest-claim-{suffix}",
                        "statement": "A documented statement.",
                        "hedging": "reported",
                        "evidence": {"start": 0, "end": 10, "text": text[:10]},
                    }
                ],
            }
        ],
    }


PATCHES = {
    "events": {"date_note": "Documented."},
    "actors": {"description": "Documented."},
    "claims": {"statement": "Documented."},
    "sources": {"description": "Documented."},
}


def kind_of(path: str) -> str:
    """The collection a path is in (`events` for /v1/events/{event_id}), or ""."""
    return path.split("/")[2] if path.startswith("/v1/") else ""


class Provoker:
    """Builds the request that provokes one status of one operation."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys
        self.made = 0

    def fresh(self) -> str:
        self.made += 1
        return str(self.made)

    def url(self, path: str, record: str | None = None) -> str:
        kind = kind_of(path)
        record = record or STORED.get(kind, "")
        for name in ("event_id", "actor_id", "claim_id", "source_id", "record_id"):
            path = path.replace("{" + name + "}", record)
        return path

    def body(self, method: str, path: str) -> dict[str, Any] | None:
        kind = kind_of(path)
        if path == "/v1/ingest":
            return ingest_body(self.fresh())
        if method == "post":
            return new_body(kind, self.fresh())
        if method == "patch":
            return PATCHES[kind]
        return None

    def current_etag(self, path: str, record: str) -> str:
        kind = kind_of(path)
        answer = self.client.get(f"/v1/{kind}/{record}")
        assert answer.status_code == 200, answer.text
        return str(answer.headers["etag"])

    def valid(self, method: str, path: str, client: TestClient | None = None) -> Any:
        """A request that succeeds; writes get a record of their own to work on."""
        client = client or self.client
        headers = bearer(self.keys["write"])
        record = None
        if method in ("patch", "delete"):
            kind = kind_of(path)
            created = self.client.post(
                f"/v1/{kind}", json=new_body(kind, self.fresh()), headers=headers
            )
            assert created.status_code == 201, created.text
            record = created.json()["id"]
            headers |= {"If-Match": created.headers["etag"]}
        return client.request(
            method, self.url(path, record), json=self.body(method, path), headers=headers
        )

    def provoke(self, method: str, path: str, status: int) -> Any:
        writer = bearer(self.keys["write"])
        request = self.client.request
        kind = kind_of(path)
        body = self.body(method, path)
        match status:
            case 200 | 201 | 204:
                return self.valid(method, path)
            case 304:  # the same read again, sending back the ETag it answered with
                etag = self.valid(method, path).headers["etag"]
                return request(method, self.url(path), headers={"If-None-Match": etag})
            case 401:  # a write with an unknown key
                return request(method, self.url(path), json=body, headers=bearer("gek_unknown"))
            case 403:
                return request(method, self.url(path), json=body, headers=bearer(self.keys["read"]))
            case 404:
                headers = writer | {"If-Match": "*"}
                return request(method, self.url(path, "no-such-record"), json=body, headers=headers)
            case 406:
                return request(method, self.url(path), headers={"Accept": "application/xml"})
            case 409 if method == "post":
                taken = new_body(kind, self.fresh()) | {"id": STORED[kind]}
                return request(method, path, json=taken, headers=writer)
            case 409 if method == "delete":
                url = self.url(path, IN_USE[kind])
                return request(method, url, headers=writer | {"If-Match": "*"})
            case 412:
                headers = writer | {"If-Match": '"999999-0"'}
                return request(method, self.url(path), json=body, headers=headers)
            case 414:
                return request(method, self.url(path) + "?pad=" + "x" * 9000, headers=writer)
            case 415:
                headers = writer | {"Content-Type": "text/plain", "If-Match": "*"}
                return request(method, self.url(path), content=b"not json", headers=headers)
            case 422 if method == "get":
                # Reads take as_of, limit or an id: one of them is malformed.
                bad = {"as_of": "yesterday", "limit": "0"}
                return request(method, self.url(path, "bad%01id"), params=bad)
            case 422:
                headers = writer | {"If-Match": "*"}
                wrong = {"no_such_field": 1} if method != "delete" else None
                url = self.url(path, "bad%01id" if method == "delete" else None)
                return request(method, url, json=wrong, headers=headers)
            case 428:
                return request(method, self.url(path), json=body, headers=writer)
        raise AssertionError(f"no request known to provoke {status} from {method} {path}")


def app_on(settings: Settings, connection: Connection) -> Any:
    app = create_app(settings)
    state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return app


@pytest.fixture
def limited(settings: Settings, connection: Connection) -> Iterator[TestClient]:
    """The app with every limit low and rate limiting on: all limits are in its document."""
    tight = settings.model_copy(
        update={"max_body_bytes": 50_000, "rate_limit_per_second": 0.001, "rate_limit_burst": 1}
    )
    with TestClient(app_on(tight, connection)) as client:
        yield client


def late_body(seconds: float) -> Iterator[bytes]:
    """A body whose first byte comes only after `seconds`."""
    time.sleep(seconds)
    yield b"{}"


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def assert_answer(answer: Any, status: int, what: str) -> None:
    assert answer.status_code == status, f"{what}: {answer.status_code} {answer.text[:300]}"
    if status >= 400:
        assert answer.headers["content-type"] == "application/problem+json", what
    if status in (429, 503):
        assert answer.headers["retry-after"], what


def test_every_documented_status_is_reachable(
    settings: Settings,
    connection: Connection,
    client: TestClient,
    limited: TestClient,
    keys: dict[str, str],
) -> None:
    spec = limited.get("/openapi.json").json()
    provoker = Provoker(client, keys)
    unreachable_db = settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:1/none"}
    )
    impatient = app_on(settings.model_copy(update={"body_timeout_seconds": 0.2}), connection)
    pairs = 0
    with TestClient(create_app(unreachable_db)) as down, TestClient(impatient) as slow_reader:
        for method, path, operation in operations(spec):
            for code in operation["responses"]:
                status = int(code)
                what = f"{method.upper()} {path} {status}"
                pairs += 1
                if status == 413:
                    answer = limited.request(
                        method,
                        provoker.url(path),
                        content=b'{"pad": "' + b"x" * 60_000 + b'"}',
                        headers={"Content-Type": "application/json"},
                    )
                elif status == 429:
                    # Burst 1, and the document's own request took it: refused at once.
                    answer = limited.request(method, provoker.url(path))
                elif status == 408:
                    answer = slow_reader.request(
                        method,
                        provoker.url(path),
                        content=late_body(0.4),
                        headers=bearer(keys["write"])
                        | {"Content-Type": "application/json", "If-Match": "*"},
                    )
                elif status == 503:
                    answer = provoker.valid(method, path, client=down)
                else:
                    answer = provoker.provoke(method, path, status)
                assert_answer(answer, status, what)
    print(f"{pairs} documented answers provoked")
    assert pairs > 150


def test_reads_behind_a_key_document_and_answer_401(
    settings: Settings, connection: Connection
) -> None:
    with TestClient(
        app_on(settings.model_copy(update={"require_read_key": True}), connection)
    ) as c:
        spec = c.get("/openapi.json").json()
        reads = [(m, p) for m, p, op in operations(spec) if m == "get" and "401" in op["responses"]]
        assert len(reads) > 10
        for method, path in reads:
            url = Provoker(c, {}).url(path)
            assert_answer(c.request(method, url), 401, f"{method.upper()} {path} 401")


def evaluate(expression: Any, answer: Any) -> Any:
    """A link's runtime expression (or a structure of them) against the answer it follows."""
    if isinstance(expression, dict):
        return {k: evaluate(v, answer) for k, v in expression.items()}
    if isinstance(expression, list):
        return [evaluate(v, answer) for v in expression]
    if not isinstance(expression, str) or not expression.startswith("$response."):
        return expression
    if expression.startswith("$response.header."):
        return answer.headers[expression.removeprefix("$response.header.")]
    value = answer.json()
    for part in expression.removeprefix("$response.body#/").split("/"):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def test_every_link_leads_where_it_says(client: TestClient, keys: dict[str, str]) -> None:
    """Each link of the document, followed by hand from a fresh answer of its operation,
    reaches its target with a success: the ids, ETags and bodies it passes are the right
    ones. (The stateful fuzz run follows the same links with generated data.)"""
    spec = client.get("/openapi.json").json()
    by_id = {op["operationId"]: (method, path) for method, path, op in operations(spec)}
    provoker = Provoker(client, keys)
    followed = 0
    for method, path, operation in operations(spec):
        for code, response in operation["responses"].items():
            for name, link in response.get("links", {}).items():
                source = provoker.valid(method, path)
                assert source.status_code == int(code), (method, path, source.text)
                to_method, to_path = by_id[link["operationId"]]
                record = None
                headers = bearer(keys["write"])
                for where, expression in link.get("parameters", {}).items():
                    value = evaluate(expression, source)
                    if where.startswith("header."):
                        headers[where.removeprefix("header.")] = value
                    else:
                        record = value
                body = provoker.body(to_method, to_path)
                if "requestBody" in link:
                    assert body is not None
                    body |= evaluate(link["requestBody"], source)
                answer = client.request(
                    to_method, provoker.url(to_path, record), json=body, headers=headers
                )
                what = f"{method.upper()} {path} {code} -> {name}"
                assert answer.status_code < 300, (what, answer.status_code, answer.text[:300])
                followed += 1
    assert followed >= 25
