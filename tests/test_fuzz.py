"""Property-based fuzzing of every operation against our own OpenAPI document (schemathesis):
no 5xx, every answer conforms to its documented status codes and schema."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from app.auth import service as auth
from app.auth.schemas import Scope
from app.config import Settings
from app.main import create_app

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

# Bounded for the suite; `FUZZ_EXAMPLES=500 make test` for a release check.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


@pytest.fixture
def fuzz_app(settings: Settings, connection: Connection, session: Session) -> FastAPI:
    """The app on the test's rolled-back transaction, with a write key for the writes."""
    app = create_app(settings)
    app.state.sessionmaker = app.state.read_sessionmaker = sessionmaker(
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
