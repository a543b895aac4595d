"""Property-based fuzzing against our own OpenAPI document (schemathesis): every operation on
its own, and sequences that follow the document's links. No 5xx; every answer conforms to its
documented status codes, headers and schema."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok
from schemathesis.generation.stateful import run_state_machine_as_test
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from app.actors.models import Actor
from app.auth import service as auth
from app.auth.schemas import Scope
from app.core.config import Settings
from app.events.models import Event
from app.locations.models import Location
from app.main import create_app
from app.sources.models import Source
from app.web.state import state_of

# What the API promises: no 5xx; every status, content type, header and body as documented.
# (Schemathesis's "schema-valid data is accepted" check is left out: an id or cursor can be
# a well-formed string and still name nothing, which is a 404 or 422 by design.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]

# Bounded for the suite; `FUZZ_EXAMPLES=200 FUZZ_STEPS=20 make test` for a release check.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


@pytest.fixture
def fuzz_app(settings: Settings, connection: Connection, session: Session) -> FastAPI:
    """The app on the test's rolled-back transaction, with a write key for the writes."""
    # No response cache: sequences of the stateful run are rolled back, and a data version
    # seen again would serve an answer cached before the rollback.
    app = create_app(settings.model_copy(update={"response_cache_entries": 0}))
    state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.state.fuzz_key = auth.create(session, "fuzz", Scope.write)
    session.commit()
    return app


def test_every_operation(fuzz_app: FastAPI) -> None:
    headers = {"Authorization": f"Bearer {fuzz_app.state.fuzz_key}", "If-Match": "*"}
    api = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    tried = []
    cases = 0
    for found in api.get_all_operations():
        assert isinstance(found, Ok), found  # every operation's schema is valid
        operation = found.ok()
        tried.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            nonlocal cases
            cases += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
    assert len(tried) > 20
    print(f"fuzz: {cases} cases over {len(tried)} operations, no failure")


STEPS = int(os.environ.get("FUZZ_STEPS", "10"))
# One run per family of records: from a creation (the only operations such a run starts
# from) to what its links lead to. Each run's operations are those its paths match.
FAMILIES = {
    "actors": r"^/v1/actors",
    "events and their claims": r"^/v1/(events|claims)",
    "sources and their claims": r"^/v1/(sources|claims)",
}


SEED_SOURCE = "putin-roundup-article"


def steer(connection: Connection, case: Any) -> None:
    """Make a generated creation refer only to stored records, with consistent dates and
    claims that cite a real span of a stored source.

    A claim's evidence must be its source's own words at its offsets, its quote and reported
    numbers must lie inside them, and an event's references must exist and its dates agree
    with their precision: rules between fields and with the data that a JSON Schema cannot
    state, so generated creations would almost never be accepted and nothing that follows a
    creation would be reached. Creations that break these rules are fuzzed by
    `test_every_operation`; here they are mended, everything else left as generated.
    """
    body = case.body
    if case.method != "POST" or not isinstance(body, dict):
        return
    known = {
        model.__tablename__: set(connection.scalars(select(model.id)))
        for model in (Actor, Event, Location)
    }
    sources = {
        source_id: text or "x" * min(length or 1, 40)
        for source_id, text, length in connection.execute(
            select(Source.id, Source.text, Source.text_length)
        )
    }
    if case.path == "/v1/events":
        if isinstance(body.get("actors"), list):
            body["actors"] = [
                a
                for a in body["actors"]
                if isinstance(a, dict) and named(a.get("actor"), known["actors"])
            ]
        if isinstance(body.get("locations"), list):
            body["locations"] = [loc for loc in body["locations"] if named(loc, known["locations"])]
        if isinstance(body.get("related"), list):
            body["related"] = [
                r
                for r in body["related"]
                if isinstance(r, dict) and named(r.get("event"), known["events"])
            ]
        if not body.get("start_date"):
            body["end_date"] = None
            body["date_precision"] = "unknown"
        elif body.get("date_precision") == "unknown":
            body["date_precision"] = "day"
        listed = body.get("claims")
        claims: list[Any] = listed if isinstance(listed, list) else []
    else:
        claims = [body]
    for claim in claims:
        if not isinstance(claim, dict) or not isinstance(claim.get("evidence"), dict):
            continue
        if not named(claim.get("source_id"), {i for i, words in sources.items() if words}):
            claim["source_id"] = SEED_SOURCE
        words = sources[claim["source_id"]][:40]
        claim["evidence"] = {"start": 0, "end": len(words), "text": words}
        claim["quote"] = None
        claim["quantities"] = []
        if not named(claim.get("speaker"), known["actors"]):
            claim["speaker"] = None
        if "event_id" in claim and not named(claim["event_id"], known["events"]):
            claim["event_id"] = None


def named(value: Any, ids: set[str]) -> bool:
    """Whether a generated value (of any JSON type) is one of these stored ids."""
    return isinstance(value, str) and value in ids


@pytest.mark.parametrize("paths", FAMILIES.values(), ids=FAMILIES.keys())
def test_linked_operations(fuzz_app: FastAPI, connection: Connection, paths: str) -> None:
    """Stateful: sequences that follow the document's links, from a creation to reading,
    changing and deleting what it created (with the ETag it answered as If-Match)."""
    auth = {"Authorization": f"Bearer {fuzz_app.state.fuzz_key}"}
    api = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app).include(path_regex=paths)
    seen: Counter[tuple[str, int]] = Counter()

    class Linked(api.as_state_machine()):  # type: ignore[misc]
        # Each sequence starts from the seeded database: what one wrote is rolled back
        # before the next, so that a sequence replayed runs as it ran the first time.
        def setup(self) -> None:
            self.scenario = connection.begin_nested()

        def teardown(self) -> None:
            self.scenario.rollback()

        def before_call(self, case: Any) -> None:
            # Generated Authorization values are unknown keys (401): calls here use the key.
            case.headers = {**(case.headers or {}), **auth}
            steer(connection, case)

        def after_call(self, response: Any, case: Any) -> None:
            seen[(case.operation.label, response.status_code)] += 1

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, headers=auth)

    run_state_machine_as_test(
        Linked,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            # A failing sequence is reported as found (its calls, and a curl line for the
            # last), not shrunk: shrinking replays it hundreds of times.
            phases=[Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        ),
    )
    print(f"stateful fuzz of {paths}: {sum(seen.values())} calls")
    for (label, status), n in sorted(seen.items()):
        print(f"  {label} {status}: {n}")
    # A record read, changed or deleted by id: its id came from a creation, by a link. (That
    # every link leads where it says is tested by hand in test_documented_statuses.py.)
    followed = {label for (label, status) in seen if status < 300 and "{" in label}
    assert followed, "no link from a creation was followed"
