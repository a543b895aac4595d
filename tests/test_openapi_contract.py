"""The OpenAPI document as tools nobody here wrote consume it.

Redocly and Spectral lint it in `make lint`. Here: what it declares is what the app does
(public reads without security, conditional requests, one media type per export
operation, a meaning for every vocabulary value), and a client generated from it by
openapi-python-client type-checks (reads with a plain `Client`, writes only with an
`AuthenticatedClient`) and works against a real server: lists, pages, details, a
timeline, CSV, GeoJSON, NDJSON, a 304 and a write, without an exception.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.vocab import MEANINGS, QUAD_CLASSES, EventType
from app.main import create_app
from app.web.exports import EXPORTS
from tests.conftest import scratch_database
from tests.fixtures.servers import Server

BIN = Path(sys.executable).parent
READ_METHODS = {"get", "head"}


@pytest.fixture(scope="module")
def docs_client(settings: Settings, engine: Any) -> Iterator[TestClient]:
    """A module-wide client (these tests only read)."""
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def spec(docs_client: TestClient) -> dict[str, Any]:
    """The served document."""
    answer = docs_client.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_public_reads_declare_no_security_and_writes_the_key(spec: dict[str, Any]) -> None:
    reads = writes = 0
    for method, path, operation in operations(spec):
        if method in READ_METHODS:
            assert operation["security"] == [], path
            assert "401" not in operation["responses"], path
            reads += 1
        else:
            assert operation["security"] == [{"ApiKey": []}], (method, path)
            writes += 1
    assert reads > 30
    assert writes > 10


def test_reads_behind_a_key_declare_it(settings: Settings) -> None:
    document = create_app(settings.model_copy(update={"require_read_key": True})).openapi()
    for method, path, operation in operations(document):
        if method in READ_METHODS and path.startswith("/v1/"):
            assert operation["security"] == [{"ApiKey": []}], path
            assert "401" in operation["responses"], path


def test_every_cacheable_read_declares_its_conditional_answers(spec: dict[str, Any]) -> None:
    reads = 0
    for method, path, operation in operations(spec):
        if method != "get" or not path.startswith("/v1/"):
            continue
        reads += 1
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert {"If-None-Match", "If-Modified-Since"} <= headers, path
        assert set(operation["responses"]["304"]["headers"]) == {"ETag", "Last-Modified"}
        sent = set(operation["responses"]["200"]["headers"])
        assert {"ETag", "Last-Modified"} <= sent, path
    assert reads > 25
    # Lists are rendered (counted) and paged; the timeline is counted, not paged.
    events = spec["paths"]["/v1/events"]["get"]["responses"]["200"]["headers"]
    assert {"X-Total-Count", "Link"} <= set(events)
    timeline = spec["paths"]["/v1/stats/timeline.csv"]["get"]["responses"]["200"]["headers"]
    assert "X-Total-Count" in timeline
    assert "Link" not in timeline
    detail = spec["paths"]["/v1/events/{event_id}"]["get"]["responses"]["200"]["headers"]
    assert "Link" not in detail


def test_conditional_reads_answer_as_declared(docs_client: TestClient) -> None:
    for url in ("/v1/events?limit=2", "/v1/events.csv?limit=2", "/v1/stats/timeline"):
        first = docs_client.get(url)
        assert first.status_code == 200
        assert first.headers["x-total-count"]
        again = docs_client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, url
        assert again.content == b""
        since = docs_client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
        assert since.status_code == 304, url
    assert 'rel="next"' in docs_client.get("/v1/events?limit=2").headers["link"]


def test_if_match_is_required_where_its_absence_is_a_428(spec: dict[str, Any]) -> None:
    guarded = 0
    for method, path, operation in operations(spec):
        if_match = [p for p in operation.get("parameters", []) if p["name"] == "If-Match"]
        if "428" in operation["responses"]:
            guarded += 1
            assert if_match, (method, path)
            assert if_match[0]["required"] is True
            assert if_match[0]["schema"] == {"type": "string", "maxLength": 1000}
        else:
            assert not if_match, (method, path)
    assert guarded == 8


def test_every_media_type_of_every_answer_has_a_schema(spec: dict[str, Any]) -> None:
    empty = [
        f"{method.upper()} {path} {status} {media}"
        for method, path, operation in operations(spec)
        for status, answer in operation["responses"].items()
        for media, content in answer.get("content", {}).items()
        if not content.get("schema")
    ]
    assert empty == []
    for path, export in EXPORTS.items():
        answer = spec["paths"][path]["get"]["responses"]["200"]
        assert len(answer["content"]) == 1, path
        (media,) = answer["content"]
        # The list's own 200 describes its `format=` answers the same way.
        base = spec["paths"][export.base]["get"]["responses"]["200"]["content"]
        assert base[media] == answer["content"][media], path
        parameters = {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
        assert "format" not in parameters
        assert "406" not in spec["paths"][path]["get"]["responses"]
    csv_schema = spec["paths"]["/v1/events.csv"]["get"]["responses"]["200"]["content"]
    assert "`locations_latitude`" in csv_schema["text/csv"]["schema"]["description"]
    geo = spec["paths"]["/v1/events.geojson"]["get"]["responses"]["200"]["content"]
    assert geo["application/geo+json"]["schema"] == {
        "$ref": "#/components/schemas/EventFeatureCollection"
    }


def test_bounds_of_integers_are_integers(spec: dict[str, Any]) -> None:
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer":
                for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                    if isinstance(node.get(key), float):
                        found.append(f"{where}.{key}")
                assert not ({"minimum", "exclusiveMinimum"} <= set(node)), where
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for n, item in enumerate(node):
                walk(item, f"{where}[{n}]")

    walk(spec, "")
    assert found == []
    end = spec["components"]["schemas"]["EvidenceIn"]["properties"]["end"]
    assert (end["minimum"], end["maximum"]) == (1, 2**31 - 1)


def test_component_names_are_plain(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert [name for name in schemas if "__" in name] == []
    assert schemas["StatsCount"]["title"] == "StatsCount"
    assert "#/components/schemas/app__" not in json.dumps(spec)


def test_exports_answer_as_the_format_parameter(docs_client: TestClient) -> None:
    pairs = [
        ("/v1/events.csv", "/v1/events?format=csv"),
        ("/v1/events.ndjson", "/v1/events?format=ndjson"),
        ("/v1/events.geojson", "/v1/events?format=geojson"),
        ("/v1/actors/russia/events.geojson", "/v1/actors/russia/events?format=geojson"),
        ("/v1/claims.csv", "/v1/claims?format=csv"),
        ("/v1/stats/timeline.csv?interval=year", "/v1/stats/timeline?format=csv&interval=year"),
        (
            "/v1/stats/quantities.ndjson?interval=year",
            "/v1/stats/quantities?format=ndjson&interval=year",
        ),
    ]
    for export, listed in pairs:
        if "interval" not in export:
            export, listed = export + "?limit=5", listed + "&limit=5"
        mine, theirs = docs_client.get(export), docs_client.get(listed)
        assert mine.status_code == theirs.status_code == 200, export
        assert mine.headers["content-type"] == theirs.headers["content-type"]
        assert mine.content == theirs.content, export
    # Accept does not change an export's format, as it does not change `format=`'s.
    forced = docs_client.get("/v1/events.csv", headers={"Accept": "application/json"})
    assert forced.headers["content-type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(forced.text)))
    assert header[:2] == ["id", "title"]
    other = docs_client.get("/v1/events.csv?format=json")
    assert other.status_code == 422
    assert other.json()["param"] == "format"
    assert docs_client.get("/v1/events.csv?format=csv").status_code == 200


def test_every_vocabulary_value_is_explained(docs_client: TestClient, spec: dict[str, Any]) -> None:
    answer = docs_client.get("/v1/vocabulary")
    assert answer.status_code == 200
    body = answer.json()
    schemas = spec["components"]["schemas"]
    listed = {name: {t["value"]: t["description"] for t in terms} for name, terms in body.items()}
    for vocabulary, meanings in MEANINGS.items():
        values = [member.value for member in vocabulary]
        assert set(meanings) == set(values), vocabulary
        assert all(len(meanings[v]) > 5 for v in values), vocabulary
        schema = schemas[vocabulary.__name__]
        assert schema["x-enumDescriptions"] == vocabulary.meanings()
        for value in values:
            assert f"`{value}`: {meanings[value]}" in schema["description"]
        # Every vocabulary is listed at /v1/vocabulary with the same meanings.
        assert any(terms == vocabulary.meanings() for terms in listed.values()), vocabulary
    assert len(body["event_types"]) == len(EventType) == 19
    for term in body["event_types"]:
        quad = QUAD_CLASSES[EventType(term["value"])]
        assert term["quad_class"] == quad.value
        assert term["description"].endswith(f"[{quad.value.replace('_', ' ')}]")
    hedging = spec["components"]["schemas"]["Hedging"]["x-enumDescriptions"]
    assert set(hedging) == {
        "asserted",
        "reported",
        "alleged",
        "claimed",
        "warned",
        "proposed",
        "estimated",
        "opinion",
    }


# -- a generated client --------------------------------------------------------------------

USAGE = '''
"""Every read with a plain Client, a change with an AuthenticatedClient."""

from typing import Any

from geoevents_client import AuthenticatedClient, Client
from geoevents_client.api.actors import (
    create_actor_v1_actors_post as create_actor,
    patch_actor_v1_actors_actor_id_patch as patch_actor,
)
from geoevents_client.api.analytics import timeline_v1_stats_timeline_get as timeline
from geoevents_client.api.events import (
    get_event_v1_events_event_id_get as get_event,
    list_events_csv_v1_events_csv_get as list_events_csv,
    list_events_geojson_v1_events_geojson_get as list_events_geojson,
    list_events_ndjson_v1_events_ndjson_get as list_events_ndjson,
    list_events_v1_events_get as list_events,
)
from geoevents_client.api.vocabulary import vocabulary_v1_vocabulary_get as vocabulary
from geoevents_client.models import (
    ActorCreate,
    ActorDetail,
    ActorKind,
    ActorPatch,
    EventDetail,
    EventFeatureCollection,
    EventPage,
    EventRead,
    Timeline,
    Vocabularies,
)


def run(base_url: str, key: str) -> dict[str, Any]:
    """What the server answered, call by call."""
    client = Client(base_url=base_url)
    seen: dict[str, Any] = {}
    first = list_events.sync(client=client, limit=5)
    assert isinstance(first, EventPage)
    seen["first"] = [e.id for e in first.data if isinstance(e, EventRead)]
    cursor = first.meta.next_cursor
    assert cursor is not None
    second = list_events.sync(client=client, limit=5, cursor=cursor)
    assert isinstance(second, EventPage)
    seen["second"] = [e.id for e in second.data if isinstance(e, EventRead)]
    detail = get_event.sync_detailed(seen["first"][0], client=client)
    assert isinstance(detail.parsed, EventDetail)
    seen["detail"] = (detail.parsed.id, len(detail.parsed.claims))
    unchanged = get_event.sync_detailed(
        seen["first"][0], client=client, if_none_match=detail.headers["etag"]
    )
    seen["not_modified"] = (int(unchanged.status_code), unchanged.parsed)
    periods = timeline.sync(client=client)
    assert isinstance(periods, Timeline)
    seen["timeline"] = (periods.meta.total, sum(row.count for row in periods.data))
    table = list_events_csv.sync(client=client, limit=5)
    assert isinstance(table, str)
    seen["csv"] = table
    collection = list_events_geojson.sync(client=client, limit=5)
    assert isinstance(collection, EventFeatureCollection)
    seen["geojson"] = [(f.id, f.geometry.type_) for f in collection.features]
    lines = list_events_ndjson.sync_detailed(client=client, limit=5)
    seen["ndjson"] = (int(lines.status_code), lines.content)
    words = vocabulary.sync(client=client)
    assert isinstance(words, Vocabularies)
    seen["vocabulary"] = {t.value.value: t.quad_class.value for t in words.event_types}

    writer = AuthenticatedClient(base_url=base_url, token=key)
    made = create_actor.sync_detailed(
        client=writer,
        body=ActorCreate(id="generated-client-actor", name="Generated", kind=ActorKind.PERSON),
    )
    assert isinstance(made.parsed, ActorDetail)
    changed = patch_actor.sync_detailed(
        "generated-client-actor",
        client=writer,
        body=ActorPatch(description="Changed by a generated client."),
        if_match=made.headers["etag"],
    )
    assert isinstance(changed.parsed, ActorDetail)
    seen["write"] = (int(made.status_code), int(changed.status_code), changed.parsed.description)
    return seen
'''

# A write called with a plain client: the type checker must refuse it.
WRONG = """
from geoevents_client import Client
from geoevents_client.api.actors import create_actor_v1_actors_post as create_actor
from geoevents_client.models import ActorCreate, ActorKind

create_actor.sync(
    client=Client(base_url="http://127.0.0.1"),
    body=ActorCreate(id="x", name="X", kind=ActorKind.PERSON),
)
"""


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A tool of the virtualenv (the generator calls ruff, found on PATH)."""
    env = os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def mypy(cwd: Path, module: str) -> subprocess.CompletedProcess[str]:
    return run(
        sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
        "--cache-dir", str(cwd / ".mypy_cache"), "--config-file", str(cwd / "mypy.ini"),
        module, cwd=cwd,
    )  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Server]:
    """`geoevents serve` on a scratch database of the suite's store (it migrates and seeds)."""
    where = tmp_path_factory.mktemp("served")
    scratch = scratch_database(database_url, where, "client")
    url = next(scratch)
    server = Server(url, where / "server.log")
    try:
        yield server
    finally:
        server.stop()
        next(scratch, None)


def test_a_generated_client_reads_pages_exports_and_writes(
    tmp_path: Path, spec: dict[str, Any], served: Server
) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(spec))
    generated = run(
        str(BIN / "openapi-python-client"), "generate", "--path", str(document),
        "--meta", "none", "--output-path", str(tmp_path / "geoevents_client"), cwd=tmp_path,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # The one thing it cannot read is NDJSON (it knows JSON, text/* and bytes): those
    # answers come back unparsed, as bytes. Nothing else is left out.
    said = generated.stdout + generated.stderr
    warnings = [line for line in said.splitlines() if line.startswith("WARNING")]
    assert warnings, said
    assert all(".ndjson " in line for line in warnings), "\n".join(warnings)
    assert "Unable to" not in said, said

    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    (tmp_path / "usage.py").write_text(USAGE)
    checked = mypy(tmp_path, "usage.py")
    assert checked.returncode == 0, checked.stdout
    (tmp_path / "wrong.py").write_text(WRONG)
    refused = mypy(tmp_path, "wrong.py")
    assert refused.returncode == 1
    assert 'incompatible type "Client"; expected "AuthenticatedClient"' in refused.stdout

    sys.path.insert(0, str(tmp_path))
    try:
        seen = importlib.import_module("usage").run(served.base, served.key())
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "usage" or m.startswith("geoevents_client")]:
            del sys.modules[name]

    assert len(seen["first"]) == len(seen["second"]) == 5
    assert not set(seen["first"]) & set(seen["second"])
    assert seen["detail"][0] == seen["first"][0]
    assert seen["detail"][1] > 0
    assert seen["not_modified"] == (304, None)
    assert seen["timeline"][0] > 0
    rows = list(csv.DictReader(io.StringIO(seen["csv"])))
    assert [row["id"] for row in rows] == seen["first"]
    assert seen["geojson"]
    assert all(kind in ("Point", "MultiPoint") for _, kind in seen["geojson"])
    status, body = seen["ndjson"]
    assert status == 200
    assert [orjson.loads(line)["id"] for line in body.splitlines()] == seen["first"]
    assert seen["vocabulary"]["ASSAULT"] == "material_conflict"
    assert seen["write"] == (201, 200, "Changed by a generated client.")
