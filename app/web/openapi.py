"""What `/openapi.json` says beyond each route's own declaration.

Routes declare what they answer themselves. Around them, the middleware and the database can
answer too (a body too large, a query string too long, a rate limit, an outage), reads need
a key only when REQUIRE_READ_KEY is set, page sizes are what the deployment allows, and every
error is one problem+json shape; reads under /v1/ answer conditionally (app.web.http_cache),
and each export operation answers one format (app.web.exports). This module writes those
facts into the document for the settings the app runs with, and links each creation to the
operations that read, change and delete what it created, so that a client (or a stateful
fuzzer) can follow them. The result is what Redocly and Spectral (`make lint`) and a
generated client (tests/test_openapi_contract.py) read without complaint.
"""

from copy import deepcopy
from typing import Any

from fastapi import FastAPI

from app.core.config import Settings, rate_limit
from app.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TEXT
from app.core.schemas import Format
from app.web.consistency import TOKEN_HEADER, ConsistencyMiddleware
from app.web.exports import EXPORTS, Export
from app.web.formats import MEDIA_TYPES, csv_columns
from app.web.http_cache import CACHED_PREFIX
from app.web.limits import RateLimitMiddleware

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string"},
    }
}
# Routes that never touch the database (but to check a read key, when reads need one).
NO_DATABASE = {"/healthz", "/metrics", "/v1/vocabulary"}

# What app.web.http_cache sends with every /v1/ answer to a GET, and answers conditionally.
VALIDATORS = {
    "ETag": {
        "description": "The answer's entity tag: send it back as If-None-Match to be answered "
        '304 while the answer is unchanged (a record\'s, `"<version>-<digest>"`, is also '
        "what If-Match of a change compares).",
        "schema": {"type": "string", "examples": ['"3-9f86d081884c7d65"']},
    },
    "Last-Modified": {
        "description": "When the data last changed (any write); send it back as "
        "If-Modified-Since. Absent when the data version has no recorded moment.",
        "schema": {"type": "string", "examples": ["Sun, 01 Feb 2026 12:00:00 GMT"]},
    },
}
CONDITIONAL_PARAMETERS = [
    {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "ETags of answers you hold (or `*`): 304 Not Modified, with no body, "
        "when the answer's ETag is one of them (weak comparison). Decides over "
        "If-Modified-Since.",
        "schema": {"type": "string", "maxLength": 1000, "examples": ['"3-9f86d081884c7d65"']},
    },
    {
        "name": "If-Modified-Since",
        "in": "header",
        "required": False,
        "description": "An HTTP date (a Last-Modified you were sent): 304 Not Modified when "
        "the data has not changed since. Ignored with If-None-Match, or when malformed.",
        "schema": {
            "type": "string",
            "maxLength": 100,
            "examples": ["Sun, 01 Feb 2026 12:00:00 GMT"],
        },
    },
]
NOT_MODIFIED = {
    "description": "Not Modified: the answer you hold (by If-None-Match or If-Modified-Since) "
    "is still the answer; no body.",
    "headers": VALIDATORS,
}
TOTAL_COUNT = {
    "X-Total-Count": {
        "description": "The answer's `meta.total` (every match, over all pages); absent when "
        "not counted (`Prefer: count=none`).",
        "schema": {"type": "string", "examples": ["22"]},
    }
}
PREFERENCE_APPLIED = {
    "Preference-Applied": {
        "description": "`count=…` when a `Prefer: count=…` header asked how to count "
        "`meta.total` (RFC 7240), saying what was done.",
        "schema": {"type": "string", "examples": ["count=planned"]},
    }
}
NEXT_LINK = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"` (RFC 8288), when there is one: '
        "the same URL with `cursor` set to `meta.next_cursor`.",
        "schema": {"type": "string"},
    }
}
EXCLUDED = {
    "X-Excluded-Without-Coordinates": {
        "description": "GeoJSON only: matching events left out for want of coordinates (also "
        "`meta.excluded_without_coordinates`).",
        "schema": {"type": "string", "examples": ["3"]},
    }
}

# (method, path, status) of an answer -> name -> (method, path, parameters, request body)
# of an operation it leads to.
Link = tuple[str, str, dict[str, str], dict[str, Any] | None]
LINKS: dict[tuple[str, str, str], dict[str, Link]] = {}


def _record_links(kind: str, path_param: str) -> None:
    collection = f"/v1/{kind}s"
    record = writable = f"{collection}/{{{path_param}}}"
    by_id = {path_param: "$response.body#/id"}
    to_change = {
        f"path.{path_param}": "$response.body#/id",
        "header.If-Match": "$response.header.ETag",
    }
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


def _page_sizes(path: str, operation: dict[str, Any], settings: Settings) -> None:
    """The `limit` parameter as this deployment allows it (MAX_PAGE_SIZE, EXPORTS). A list
    answered whole (not paged) has no page size: its `limit` keeps its own bounds."""
    listed = {export.base: export for export in EXPORTS.values()} | EXPORTS
    if path in listed and not listed[path].paged:
        return
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
    _page_sizes(path, operation, settings)
    responses: dict[str, Any] = operation["responses"]
    # An error is problem+json, whatever the route's default media type.
    for answer in responses.values():
        if PROBLEM_MEDIA_TYPE in answer.get("content", {}):
            answer["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
    if method in ("get", "head"):
        if operation.get("security") and settings.require_read_key:
            responses.setdefault("401", _problem(401))
        else:
            # Public: no key is asked for, and one sent is not looked at (app.auth.deps), so
            # a generated client calls it without credentials and Swagger UI shows no lock.
            operation["security"] = []
        if path.startswith(CACHED_PREFIX):
            _conditional(path, operation)
    if "428" in responses:
        _if_match_required(operation)
    responses.setdefault("414", _problem(414))
    answers_a_body = any(
        code.startswith("2") and answer.get("content") for code, answer in responses.items()
    )
    # An export answers its own format whatever Accept says, as `format=` does.
    if path.startswith("/v1/") and answers_a_body and path not in EXPORTS:
        responses.setdefault("406", _problem(406))  # see app.web.formats.NegotiationMiddleware
    if "requestBody" in operation:
        responses.setdefault("413", _problem(413))
        responses.setdefault("415", _problem(415))
        responses.setdefault("408", _problem(408))  # see app.web.limits.BodyDeadlineMiddleware
    if rate_limit(settings) > 0 and path not in RateLimitMiddleware.EXEMPT:
        responses.setdefault("429", _problem(429, RETRY_AFTER))
    if path not in NO_DATABASE or (path.startswith("/v1/") and settings.require_read_key):
        responses["503"] = _problem(503, RETRY_AFTER)
    if path.startswith(ConsistencyMiddleware.PREFIX):
        _consistency_token(method, operation)


def _conditional(path: str, operation: dict[str, Any]) -> None:
    """A cacheable GET: its validators, the headers it sends, and its 304."""
    operation.setdefault("parameters", []).extend(deepcopy(CONDITIONAL_PARAMETERS))
    operation["responses"]["304"] = deepcopy(NOT_MODIFIED)
    headers: dict[str, Any] = dict(VALIDATORS)
    lists = {export.base: export for export in EXPORTS.values()} | EXPORTS
    listed = lists.get(path)
    if listed is not None:  # rendered by app.web.formats, which counts and links
        headers |= TOTAL_COUNT
        if listed.paged:
            headers |= NEXT_LINK | PREFERENCE_APPLIED
        if path in EXPORTS and listed.fmt is Format.geojson:
            headers |= EXCLUDED
    for status, answer in operation["responses"].items():
        if status == "200":
            answer.setdefault("headers", {}).update(deepcopy(headers))


def _if_match_required(operation: dict[str, Any]) -> None:
    """If-Match where its absence is a 428 (app.curation.writes): required, a plain string."""
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "If-Match" and parameter["in"] == "header":
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "maxLength": 1000}


def _media(export: Export) -> str:
    return MEDIA_TYPES[export.fmt].split(";")[0]


def _format_content(export: Export) -> dict[str, Any]:
    """The 200 content of an export's media type: its schema, and what a line or row is."""
    name = export.item.__name__
    if export.fmt is Format.csv:
        columns = ", ".join(f"`{c}`" for c in csv_columns(export.item, None))
        extra = (
            " With `group_by`, one `series_<key>` column per series follows."
            if "series" in export.item.model_fields
            else ""
        )
        return {
            "schema": {
                "type": "string",
                "description": f"CSV (RFC 4180, UTF-8, CRLF line ends): a header row, then one "
                f"row per {name}, flattened as the list's description says (lists joined by "
                f"`;`). Columns, in order (with `fields`, those asked for): {columns}.{extra}",
            }
        }
    if export.fmt is Format.ndjson:
        return {
            "schema": {
                "type": "string",
                "description": f"Newline-delimited JSON: one {name} object per line (with "
                "`fields`, just those fields), each line ending in `\\n`; no envelope.",
            },
            # OpenAPI 3.2's name for the schema of each item of a sequential media type.
            "x-itemSchema": {"$ref": f"#/components/schemas/{name}"},
        }
    assert export.geojson is not None
    return {"schema": {"$ref": f"#/components/schemas/{export.geojson.__name__}"}}


def _formats(spec: dict[str, Any]) -> None:
    """Each export operation answers one media type, described; the list it belongs to
    gets the same descriptions for its `format=` answers."""
    paths = spec["paths"]
    for path, export in EXPORTS.items():
        operation = paths[path]["get"]
        operation["parameters"] = [
            p for p in operation["parameters"] if (p["name"], p["in"]) != ("format", "query")
        ]
        media = _media(export)
        answer = operation["responses"]["200"]
        content = _format_content(export)
        answer["content"] = {media: content}
        answer["description"] = f"The list as {media}."
        paths[export.base]["get"]["responses"]["200"]["content"][media] = content


def _component_names(spec: dict[str, Any]) -> None:
    """Schemas named by their module (`app__stats__schemas__Count`, which the framework
    writes when two models share a name) get a plain name, the package's then the
    model's (`StatsCount`): generated clients cannot resolve the qualified ones."""
    schemas = spec.get("components", {}).get("schemas", {})
    renames = {}
    for name in list(schemas):
        parts = name.split("__")
        if len(parts) > 2 and parts[0] == "app":
            renames[name] = parts[1].capitalize() + parts[-1]
    if not renames:
        return
    assert not set(renames.values()) & set(schemas), renames
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new  # what a generator names the class after
    refs = {f"#/components/schemas/{o}": f"#/components/schemas/{n}" for o, n in renames.items()}

    def follow(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("$ref") in refs:
                node["$ref"] = refs[node["$ref"]]
            for value in node.values():
                follow(value)
        elif isinstance(node, list):
            for item in node:
                follow(item)

    follow(spec)


def _integer_bounds(node: Any) -> None:
    """Bounds of integers as integers (the framework's models make every bound a float),
    and one lower and one upper bound each (`exclusiveMinimum: 0` beside `minimum: 0` is
    `minimum: 1`)."""
    if isinstance(node, list):
        for item in node:
            _integer_bounds(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer":
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
            value = node.get(key)
            if isinstance(value, float) and value.is_integer():
                node[key] = int(value)
        if "minimum" in node and "exclusiveMinimum" in node:
            node["minimum"] = max(node["minimum"], node.pop("exclusiveMinimum") + 1)
        if "maximum" in node and "exclusiveMaximum" in node:
            node["maximum"] = min(node["maximum"], node.pop("exclusiveMaximum") - 1)
    for value in node.values():
        _integer_bounds(value)


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
            _formats(spec)
            for path, operations in spec.get("paths", {}).items():
                for method, operation in operations.items():
                    _describe(path, method, operation, settings)
            _link(spec)
            _integer_bounds(spec)
            _component_names(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
