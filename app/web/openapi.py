"""What `/openapi.json` says beyond each route's own declaration.

Routes declare what they answer themselves. Around them, the middleware and the database can
answer too (a body too large, a query string too long, a rate limit, an outage), reads need
a key only when REQUIRE_READ_KEY is set, page sizes are what the deployment allows, and every
error is one problem+json shape. This module writes those facts into the document for the
settings the app runs with, and links each creation to the operations that read, change and
delete what it created, so that a client (or a stateful fuzzer) can follow them.
"""

from typing import Any

from fastapi import FastAPI

from app.core.config import Settings, rate_limit
from app.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TEXT
from app.web.consistency import TOKEN_HEADER, ConsistencyMiddleware
from app.web.limits import RateLimitMiddleware

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string"},
    }
}
# Routes that never touch the database.
NO_DATABASE = {"/healthz", "/metrics"}

# (method, path, status) of an answer -> name -> (method, path, parameters, request body)
# of an operation it leads to.
Link = tuple[str, str, dict[str, str], dict[str, Any] | None]
LINKS: dict[tuple[str, str, str], dict[str, Link]] = {}


def _record_links(kind: str, path_param: str) -> None:
    collection = f"/v1/{kind}s"
    record = f"{collection}/{{{path_param}}}"
    writable = f"{collection}/{{record_id}}"
    by_id = {path_param: "$response.body#/id"}
    to_change = {"path.record_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"}
    title = kind.capitalize()
    links: dict[str, Link] = {
        f"Get{title}": ("get", record, by_id, None),
        f"Patch{title}": ("patch", writable, to_change, None),
        f"Delete{title}": ("delete", writable, to_change, None),
    }
    if kind == "event":
        links["GetEventHistory"] = ("get", f"{record}/history", by_id, None)
        links["CreateClaim"] = ("post", "/v1/claims", {}, {"event_id": "$response.body#/id"})
    if kind == "actor":
        links["ListActorEvents"] = ("get", f"{record}/events", by_id, None)
        named = {"actors": [{"actor": "$response.body#/id", "role": "initiator"}]}
        links["CreateEvent"] = ("post", "/v1/events", {}, named)
    if kind == "source":
        links["CreateClaim"] = ("post", "/v1/claims", {}, {"source_id": "$response.body#/id"})
    LINKS[("post", collection, "201")] = links
    # After a change, read the record again, or delete it with the new ETag.
    LINKS[("patch", writable, "200")] = {
        f"Get{title}": ("get", record, by_id, None),
        f"Delete{title}": ("delete", writable, to_change, None),
    }


for _kind, _param in (
    ("event", "event_id"),
    ("actor", "actor_id"),
    ("claim", "claim_id"),
    ("source", "source_id"),
):
    _record_links(_kind, _param)
LINKS[("post", "/v1/ingest", "200")] = {
    "GetSource": (
        "get",
        "/v1/sources/{source_id}",
        {"source_id": "$response.body#/source_id"},
        None,
    ),
    "GetEvent": (
        "get",
        "/v1/events/{event_id}",
        {"event_id": "$response.body#/events/0/event_id"},
        None,
    ),
}


def _problem(status: int, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": PROBLEM_TEXT[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _page_sizes(operation: dict[str, Any], settings: Settings) -> None:
    """The `limit` parameter as this deployment allows it (MAX_PAGE_SIZE, EXPORTS)."""
    for parameter in operation.get("parameters", []):
        if parameter["name"] != "limit" or parameter["in"] != "query":
            continue
        schema = parameter["schema"]
        options = schema.get("anyOf", [schema])
        for option in options:
            if option.get("type") == "integer":
                option["maximum"] = settings.max_page_size
        if not settings.exports and "anyOf" in schema:
            schema["anyOf"] = [o for o in options if o.get("const") != "all"]


def _describe(path: str, method: str, operation: dict[str, Any], settings: Settings) -> None:
    _page_sizes(operation, settings)
    responses: dict[str, Any] = operation["responses"]
    # An error is problem+json, whatever the route's default media type.
    for answer in responses.values():
        if PROBLEM_MEDIA_TYPE in answer.get("content", {}):
            answer["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
    if method in ("get", "head") and operation.get("security"):
        if settings.require_read_key:
            responses.setdefault("401", _problem(401))
        else:
            operation["security"] = [*operation["security"], {}]  # a key is optional
    responses.setdefault("414", _problem(414))
    answers_a_body = any(
        code.startswith("2") and answer.get("content") for code, answer in responses.items()
    )
    if path.startswith("/v1/") and answers_a_body:
        responses.setdefault("406", _problem(406))  # see app.web.formats.NegotiationMiddleware
    if "requestBody" in operation:
        responses.setdefault("413", _problem(413))
        responses.setdefault("415", _problem(415))
        responses.setdefault("408", _problem(408))  # see app.web.limits.BodyDeadlineMiddleware
    if rate_limit(settings) > 0 and path not in RateLimitMiddleware.EXEMPT:
        responses.setdefault("429", _problem(429, RETRY_AFTER))
    if path not in NO_DATABASE:
        responses["503"] = _problem(503, RETRY_AFTER)
    if path.startswith(ConsistencyMiddleware.PREFIX):
        _consistency_token(method, operation)


def _consistency_token(method: str, operation: dict[str, Any]) -> None:
    """Writes answer with a Consistency-Token; reads may send one back (app.web.consistency)."""
    if method in ("get", "head"):
        operation.setdefault("parameters", []).append(
            {
                "name": TOKEN_HEADER,
                "in": "header",
                "required": False,
                "description": "The Consistency-Token of a write you made: the answer then "
                "includes that write (read from the replica once it has replayed it, waiting "
                "at most REPLICA_WAIT_MS, else from the primary).",
                "schema": {"type": "string", "maxLength": 40, "examples": ["0/3000148"]},
            }
        )
        return
    for status, answer in operation["responses"].items():
        if status.startswith("2"):
            answer.setdefault("headers", {})[TOKEN_HEADER] = {
                "description": "Where the primary's log stood once this write was committed "
                "(on PostgreSQL an LSN such as `0/3000148`; `0/0` on SQLite): send it back "
                "as the Consistency-Token header of a read to see this write.",
                "schema": {"type": "string"},
            }


def _link(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    for (method, path, status), links in LINKS.items():
        answer = paths[path][method]["responses"][status]
        answer["links"] = {}
        for name, (to_method, to_path, params, body) in links.items():
            link: dict[str, Any] = {"operationId": paths[to_path][to_method]["operationId"]}
            if params:
                link["parameters"] = params
            if body:
                link["requestBody"] = body
            answer["links"][name] = link


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Build the document once, with what the routes alone do not say."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            for path, operations in spec.get("paths", {}).items():
                for method, operation in operations.items():
                    _describe(path, method, operation, settings)
            _link(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
