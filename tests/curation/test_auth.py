"""Who may write: no key, a read key, a write key, a revoked key, on every write route."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from app.core.config import Settings
from app.main import create_app
from app.web.state import state_of
from tests.curation.conftest import bearer, new_event
from tests.test_error_shape import assert_problem

WRITE_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/v1/events", new_event()),
    ("PATCH", "/v1/events/putin-xi-video-summit", {"title": "x"}),
    ("DELETE", "/v1/events/putin-xi-video-summit", None),
    ("POST", "/v1/claims", {**new_event()["claims"][0], "id": "auth-claim"}),
    ("PATCH", "/v1/claims/summit-ties-exemplary", {"statement": "x"}),
    ("DELETE", "/v1/claims/summit-ties-exemplary", None),
    ("POST", "/v1/actors", {"id": "auth-actor", "name": "Auth Actor", "kind": "person"}),
    ("PATCH", "/v1/actors/russia", {"description": "x"}),
    ("DELETE", "/v1/actors/russia", None),
    (
        "POST",
        "/v1/sources",
        {"id": "auth-source", "kind": "other", "published_date_precision": "unknown"},
    ),
    ("PATCH", "/v1/sources/putin-roundup-article", {"title": "x"}),
    ("DELETE", "/v1/sources/putin-roundup-article", None),
    ("POST", "/v1/ingest", {"source": {"id": "x"}}),
]


def call(client: TestClient, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    return client.request(method, url, json=body, headers=headers | {"If-Match": "*"})


@pytest.mark.parametrize(("method", "url", "body"), WRITE_ROUTES)
def test_auth_matrix(
    client: TestClient, keys: dict[str, str], method: str, url: str, body: Any
) -> None:
    nobody = call(client, method, url, body, {})
    assert_problem(nobody, 401, None)
    assert nobody.headers["www-authenticate"].startswith("Bearer")
    assert_problem(call(client, method, url, body, bearer(keys["read"])), 403, None)
    assert_problem(call(client, method, url, body, bearer(keys["revoked"])), 401, None)
    assert_problem(call(client, method, url, body, bearer("gek_not-a-key")), 401, None)
    allowed = call(client, method, url, body, bearer(keys["write"]))
    assert allowed.status_code not in (401, 403), allowed.text


def test_reads_are_public_unless_a_read_key_is_required(
    client: TestClient, settings: Settings, connection: Connection, keys: dict[str, str]
) -> None:
    assert client.get("/v1/events?limit=1").status_code == 200
    # A key sent with a public read is not checked, cached answer or not: the same 200.
    for _ in range(2):
        for key in ("gek_not-a-key", keys["revoked"], keys["read"]):
            answer = client.get("/v1/events/putin-xi-video-summit", headers=bearer(key))
            assert answer.status_code == 200, answer.text
    app = create_app(settings.model_copy(update={"require_read_key": True}))
    state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    with TestClient(app) as guarded:
        for _ in range(2):  # the second time too: no cached answer skips the check
            assert_problem(guarded.get("/v1/events?limit=1"), 401, None)
            read = guarded.get("/v1/events?limit=1", headers=bearer(keys["read"]))
            assert read.status_code == 200
            revoked = guarded.get("/v1/events?limit=1", headers=bearer(keys["revoked"]))
            assert_problem(revoked, 401, None)


def test_openapi_documents_the_key(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    post = spec["paths"]["/v1/events"]["post"]
    assert {"ApiKey": []} in post["security"]
    assert {"401", "403", "409", "422"} <= set(post["responses"])
