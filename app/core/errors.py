"""One error hierarchy and one RFC 9457 problem+json shape for every 4xx and 5xx."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
# What a 503 asks the client to wait, whatever its cause (the database, a shutdown).
RETRY_AFTER_SECONDS = 5


class AppError(Exception):
    """A domain error that knows its HTTP status and its problem type."""

    status: int = 500
    type: str = "/problems/internal-error"
    title: str = "Internal server error"

    def __init__(self, detail: str, *, param: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.param = param
        self.extra = extra


class FieldError(ValueError):
    """A validator's complaint about one field of the model it checks: the problem names that
    field (`param`) rather than the model."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(AppError):
    """The resource named in the path does not exist."""

    status = 404
    type = "/problems/not-found"
    title = "Not found"


class InvalidParameter(AppError):
    """A query parameter is well-formed but not acceptable (unknown id, inverted range, …)."""

    status = 422
    type = "/problems/invalid-parameter"
    title = "Invalid parameter"


class Unauthorized(AppError):
    """No API key, or one that is unknown or revoked."""

    status = 401
    type = "/problems/unauthorized"
    title = "Unauthorized"


class Forbidden(AppError):
    """The API key's scope does not allow this."""

    status = 403
    type = "/problems/forbidden"
    title = "Forbidden"


class Conflict(AppError):
    """The request contradicts the data as it stands (a duplicate id, a record in use)."""

    status = 409
    type = "/problems/conflict"
    title = "Conflict"


class PreconditionFailed(AppError):
    """If-Match names a version the record has moved on from."""

    status = 412
    type = "/problems/precondition-failed"
    title = "Precondition failed"


class PreconditionRequired(AppError):
    """A change to an existing record needs If-Match with the version it was based on."""

    status = 428
    type = "/problems/precondition-required"
    title = "Precondition required"


class ServiceUnavailable(AppError):
    """A dependency (the database) cannot serve the request right now."""

    status = 503
    type = "/problems/service-unavailable"
    title = "Service unavailable"


def problem(
    status: int,
    type_: str,
    title: str,
    detail: str,
    instance: str,
    param: str | None = None,
    **extra: Any,
) -> JSONResponse:
    """Render one problem document; `param` names the offending parameter when there is one."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if param is not None:
        body["param"] = param
    body.update(extra)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="geoevents"'}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _location(loc: tuple[Any, ...]) -> tuple[str, str]:
    where = str(loc[0]) if loc else "request"
    if where in {"query", "path", "header", "cookie"} and len(loc) > 1:
        return where, str(loc[1])  # a repeated parameter's position is noise to the caller
    name = ".".join(str(part) for part in loc[1:]) or where
    return where, name


SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DATE_WORDS = "a date as YYYY-MM-DD, e.g. 2026-02-05"
MOMENT_WORDS = "a moment in RFC 3339 form with a UTC offset, e.g. 2026-02-01T00:00:00Z"
# What a value of each Pydantic error type must be instead, in our words.
EXPECTED = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "string_unicode": "text",
    "bytes_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a JSON object",
    "model_type": "a JSON object",
    "model_attributes_type": "a JSON object",
    "dataclass_type": "a JSON object",
    "date_type": DATE_WORDS,
    "date_parsing": DATE_WORDS,
    "date_from_datetime_parsing": DATE_WORDS,
    "date_from_datetime_inexact": DATE_WORDS,
    "datetime_type": MOMENT_WORDS,
    "datetime_parsing": MOMENT_WORDS,
    "datetime_from_date_parsing": MOMENT_WORDS,
    "datetime_object_invalid": MOMENT_WORDS,
    "timezone_aware": MOMENT_WORDS,
    "url_type": "an http or https URL",
    "url_parsing": "an http or https URL",
    "url_syntax_violation": "an http or https URL",
    "url_too_long": "a shorter URL",
    "url_scheme": "an http or https URL",
    "uuid_type": "a UUID",
    "uuid_parsing": "a UUID",
    "decimal_parsing": "a number",
    "decimal_type": "a number",
    "none_required": "null",
}


# How Pydantic's context shows a date bound: its repr.
_DATE_REPR = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)")


def _bound(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    shown = _DATE_REPR.fullmatch(str(value))
    if shown is not None:
        return date(*(int(part) for part in shown.groups())).isoformat()
    return str(value)


def _is_date(value: Any) -> bool:
    return isinstance(value, date | datetime) or bool(_DATE_REPR.fullmatch(str(value)))


def _expected(err: dict[str, Any]) -> str | None:
    """What the value must be, as the end of a sentence "<name> must be …"; None when the
    error is not about the value's form."""
    kind, ctx, given = err.get("type", ""), err.get("ctx") or {}, err.get("input")
    if kind in EXPECTED:
        return EXPECTED[kind]
    dated = _is_date(next(iter(ctx.values()), None))
    if kind == "greater_than_equal":
        return f"{'on or after' if dated else 'at least'} {_bound(ctx.get('ge'))}"
    if kind == "greater_than":
        return f"{'after' if dated else 'more than'} {_bound(ctx.get('gt'))}"
    if kind == "less_than_equal":
        return f"{'on or before' if dated else 'at most'} {_bound(ctx.get('le'))}"
    if kind == "less_than":
        return f"{'before' if dated else 'less than'} {_bound(ctx.get('lt'))}"
    if kind in {"enum", "literal_error"}:
        expected = str(ctx.get("expected", "as documented"))
        return f"one of {expected}" if " or " in expected else expected
    if kind in {"string_too_long", "too_long"}:
        limit = ctx.get("max_length")
        if isinstance(given, list | dict):
            return f"at most {limit} items"
        return f"at most {limit} characters long"
    if kind in {"string_too_short", "too_short"}:
        limit = ctx.get("min_length")
        if isinstance(given, list | dict):
            return f"at least {limit} item{'s' if limit != 1 else ''}"
        return "not empty" if limit == 1 else f"at least {limit} characters long"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == SLUG_PATTERN:
            return "an id of lowercase letters and digits in words joined by single hyphens"
        return f"text of the form {ctx.get('pattern')}"
    return None


def _shown(value: Any) -> str:
    """The offending value, when it is short enough to be worth echoing."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    text = repr(value)
    return f", not {text}" if len(text) <= 60 else ""


def _message(err: dict[str, Any], where: str, name: str) -> tuple[str, str]:
    """The parameter an error is about and a sentence, in our words, that says what is
    expected of it."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    subject = "the body" if (where, name) == ("body", "body") else name
    if kind == "json_invalid":
        reason = str(ctx.get("error") or "it cannot be parsed")
        at = tuple(err.get("loc", ()))[1:2]
        position = f" at character {at[0]}" if at and isinstance(at[0], int) else ""
        return "body", f"The body is not valid JSON: {reason[:1].lower()}{reason[1:]}{position}."
    if kind == "json_type":
        return "body", "The body must be a JSON object."
    if kind == "missing":
        if subject == "the body":
            return name, "The body is missing; send a JSON object."
        if where == "body":
            return name, f"The body needs the field {name}."
        return name, f"{name} is required here."
    if kind == "extra_forbidden":
        what = "a field this body takes" if where == "body" else "a parameter of this endpoint"
        return name, f"{name} is not {what}; check its spelling in /docs."
    error = ctx.get("error")
    if isinstance(error, FieldError):
        field = error.field if name == "body" else f"{name}.{error.field}"
        return field, _sentence(str(error), field)
    if kind in {"value_error", "assertion_error"}:
        return name, _sentence(str(error) if error is not None else "is not valid", name)
    expected = _expected(err)
    if expected is not None:
        return name, _initial(f"{subject} must be {expected}{_shown(err.get('input'))}.")
    return name, _initial(f"{subject} has a value this endpoint does not take; see /docs.")


def _initial(sentence: str) -> str:
    """A sentence about the body starts with a capital; one about a parameter with its name."""
    return f"T{sentence[1:]}" if sentence.startswith("the body") else sentence


# What Pydantic says that no answer of ours should (a test checks every refusal).
PYDANTIC_WORDING = re.compile(
    r"Input should|Value should|Field required|Extra inputs|JSON decode error|Value error,"
)


def _sentence(text: str, name: str) -> str:
    """Our own validators' words as a sentence naming the parameter."""
    text = text.strip().rstrip(".")
    if text.startswith(("must ", "is ", "are ")):
        text = f"{'the body' if name == 'body' else name} {text}"
    elif name != "body" and not re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text):
        text = f"{name}: {text}"
    return _initial(f"{text}.")


def app_error_response(exc: AppError, path: str) -> JSONResponse:
    """The problem document of a domain error, for code that runs outside a route."""
    return problem(exc.status, exc.type, exc.title, exc.detail, path, exc.param, **exc.extra)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(exc, request.url.path)


def explained(raw: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Validation errors in our words: one {param, in, message} per mistake, the members of
    a union merged into one sentence and a parameter read twice told once."""
    errors: list[dict[str, str]] = []
    branches: dict[tuple[str, str], list[str]] = {}  # the members of a union, tried in turn
    for err in raw:
        loc = tuple(err.get("loc", ()))
        where, name = _location(loc)
        param, message = _message(dict(err), where, name)
        union = where != "body" and len(loc) > 2 and isinstance(loc[2], str)
        expected = _expected(dict(err))
        if union and expected is not None:
            branches.setdefault((where, param), []).append(expected)
            if len(branches[(where, param)]) > 1:
                merged = " or ".join(dict.fromkeys(branches[(where, param)]))
                message = f"{param} must be {merged}{_shown(err.get('input'))}."
                errors = [e for e in errors if (e["in"], e["param"]) != (where, param)]
        entry = {"param": param, "in": where, "message": message}
        if entry not in errors:  # a parameter read twice (as_of) is one mistake
            errors.append(entry)
    return errors


def _detail(errors: list[dict[str, str]]) -> str:
    return " ".join(dict.fromkeys(e["message"] for e in errors)) or "The request is not valid."


def invalid_input(raw: Iterable[Mapping[str, Any]], where: str = "body") -> InvalidParameter:
    """The 422 of a document that failed validation after the request was read (a patch
    merged into a record), in the same words as a request that fails."""
    errors = explained({**err, "loc": (where, *err.get("loc", ()))} for err in raw)
    return InvalidParameter(
        _detail(errors), param=errors[0]["param"] if errors else where, errors=errors
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = explained(exc.errors())
    return problem(
        422,
        "/problems/invalid-parameter",
        "Invalid parameter",
        _detail(errors),
        request.url.path,
        errors[0]["param"] if errors else None,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:
        # The body could not be parsed (FastAPI's 400): malformed JSON like any other, so a
        # 422 naming the body, with the reason.
        reasons = {UnicodeDecodeError: "it is not UTF-8", RecursionError: "it is nested too deeply"}
        reason = reasons.get(type(exc.__cause__), "it cannot be parsed")
        return problem(
            422,
            InvalidParameter.type,
            InvalidParameter.title,
            f"the body is not valid JSON: {reason}",
            request.url.path,
            "body",
        )
    titles = {404: "Not found", 405: "Method not allowed"}
    title = titles.get(exc.status_code, "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.url.path}"
    slug = title.lower().replace(" ", "-")
    return problem(exc.status_code, f"/problems/{slug}", title, detail, request.url.path)


def database_unavailable_response(path: str) -> JSONResponse:
    """The 503 of a request the database cannot answer now."""
    # Unreachable, restarting, locked past the busy timeout, or the pool exhausted: the
    # request may well succeed later, so say so (503 with Retry-After) rather than fail.
    return problem(
        503,
        ServiceUnavailable.type,
        ServiceUnavailable.title,
        "The database cannot answer right now; retry shortly.",
        path,
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return database_unavailable_response(request.url.path)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    return problem(
        500,
        AppError.type,
        AppError.title,
        "The server failed to answer this request.",
        request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can raise through the one problem+json renderer."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for unavailable in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unhandled)


class ProblemParam(BaseModel):
    """One offending parameter of a request."""

    param: str = Field(description="Name of the parameter (dotted for body fields).")
    in_: str = Field(alias="in", description="Where it was: query, path, header or body.")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """An RFC 9457 problem document, the one error shape of the API."""

    type: str = Field(
        description="URI reference naming the problem type.", examples=["/problems/not-found"]
    )
    title: str = Field(description="Short summary of the problem type.", examples=["Not found"])
    status: int = Field(description="The HTTP status code.", examples=[404])
    detail: str = Field(
        description="What went wrong with this request.", examples=["no event with id 'x'"]
    )
    instance: str = Field(description="The request path.", examples=["/v1/events/x"])
    param: str | None = Field(
        default=None, description="The offending parameter, when there is one."
    )
    value: str | None = Field(default=None, description="The offending value, when useful.")
    errors: list[ProblemParam] | None = Field(
        default=None, description="Every offending parameter (validation errors only)."
    )


PROBLEM_TEXT = {
    401: "No API key, or an unknown or revoked one.",
    403: "The API key's scope does not allow this.",
    404: "No such resource.",
    406: "None of the media types in Accept is offered.",
    408: "The body did not arrive within BODY_TIMEOUT_SECONDS; the connection is closed.",
    409: "The request contradicts the data as it stands.",
    412: "If-Match does not name the record's current ETag.",
    413: "The body is larger than MAX_BODY_BYTES.",
    414: "The query string is longer than MAX_QUERY_BYTES.",
    415: "The body is not JSON.",
    422: "A parameter or body field is malformed or names something unknown.",
    428: "If-Match is missing.",
    429: "Too many requests from this key or address; retry after Retry-After seconds.",
    503: "The database is unreachable or not migrated, or the server is shutting down; retry "
    "after Retry-After seconds.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting the problem+json shape for these statuses."""
    return {
        status: {
            "model": Problem,
            "description": PROBLEM_TEXT[status],
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }
