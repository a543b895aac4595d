"""One error hierarchy and one RFC 9457 problem+json shape for every 4xx and 5xx."""

from __future__ import annotations

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


def app_error_response(exc: AppError, path: str) -> JSONResponse:
    """The problem document of a domain error, for code that runs outside a route."""
    return problem(exc.status, exc.type, exc.title, exc.detail, path, exc.param, **exc.extra)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(exc, request.url.path)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        where, name = _location(tuple(err.get("loc", ())))
        errors.append({"param": name, "in": where, "message": err.get("msg", "invalid")})
    first = errors[0] if errors else {"param": None, "message": "invalid request"}
    detail = "; ".join(f"{e['param']}: {e['message']}" for e in errors) or "invalid request"
    return problem(
        422,
        "/problems/invalid-parameter",
        "Invalid parameter",
        detail,
        request.url.path,
        first["param"],
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
