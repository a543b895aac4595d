"""The OpenAPI document is complete, and the docs pages load no asset from outside."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    """The served OpenAPI document."""
    response = client.get("/openapi.json")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the document."""
    return [
        (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete", "head"}
    ]


@pytest.fixture(scope="module")
def client(settings: Any, engine: Any) -> Any:
    """A module-wide client (the docs tests only read)."""

    with TestClient(create_app(settings)) as c:
        yield c


def test_every_route_has_summary_description_and_tag(spec: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path}"
        for method, path, op in operations(spec)
        if not op.get("summary") or not op.get("description") or not op.get("tags")
    ]
    assert missing == []
    assert len(operations(spec)) >= 9


def test_every_parameter_is_described(spec: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path} {param['name']}"
        for method, path, op in operations(spec)
        for param in op.get("parameters", [])
        if not param.get("description")
    ]
    assert missing == []


def test_every_schema_field_is_described(spec: dict[str, Any]) -> None:
    missing = []
    for name, schema in spec["components"]["schemas"].items():
        if name in {"ValidationError", "HTTPValidationError"}:
            continue
        if not schema.get("description"):
            missing.append(name)
        for field, prop in schema.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{name}.{field}")
    assert missing == []


def test_error_responses_are_documented(spec: dict[str, Any]) -> None:
    get_event = spec["paths"]["/v1/events/{event_id}"]["get"]
    assert "application/problem+json" in get_event["responses"]["404"]["content"]
    assert (
        "application/problem+json"
        in spec["paths"]["/v1/events"]["get"]["responses"]["422"]["content"]
    )


def test_examples_come_from_the_seed(spec: dict[str, Any], client: TestClient) -> None:
    params = spec["paths"]["/v1/events/{event_id}"]["get"]["parameters"]
    (event_id,) = [p for p in params if p["name"] == "event_id"]
    example = event_id["examples"] if "examples" in event_id else event_id["schema"]["examples"]
    value = example[0] if isinstance(example, list) else next(iter(example.values()))["value"]
    assert client.get(f"/v1/events/{value}").status_code == 200


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_assets(client: TestClient, page: str) -> None:
    html = client.get(page).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    urls += re.findall(r"""url:\s*["']([^"']+)["']""", html)
    assert urls
    assert [u for u in urls if u.startswith(("http:", "https:", "//"))] == []
    for url in urls:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
