"""Who sends a request: the dependencies routes declare, and the checks the request guards
run before a route (app.web.limits), given to them by the app factory."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service as auth
from app.auth.schemas import Scope
from app.auth.service import Caller
from app.core.errors import Unauthorized
from app.web.deps import SessionDep, in_session
from app.web.limits import bearer_secret
from app.web.state import AppState, state_of

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `geoevents keys create`, sent as `Authorization: Bearer gek_…`. "
    "Writes need scope write (ingest too); reads need none unless REQUIRE_READ_KEY is set "
    "(and a key sent with a public read is not checked).",
)


def get_caller(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """Who sends the request: the key's holder, or the public without a key (401 for an
    unknown or revoked key). A write's key was checked before its body was read."""
    checked = getattr(request.state, "caller", None)
    if isinstance(checked, Caller):
        return checked
    return auth.authenticate(session, credentials.credentials if credentials else None)


def write_caller(app_state: AppState, authorization: str | None) -> Caller:
    """The caller of a write, from its Authorization header alone: 401 without a valid key,
    403 without scope write. Run before the body is read (app.web.limits.WriteGateMiddleware)."""
    with app_state.sessionmaker() as session:
        caller = auth.authenticate(session, bearer_secret(authorization))
    auth.require(caller, Scope.write)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_writer(caller: CallerDep) -> Caller:
    """The caller of a write: 401 without a key, 403 without scope write."""
    auth.require(caller, Scope.write)
    return caller


def key_holder(app_state: AppState, secret: str) -> str | None:
    """Whose valid key this secret is (None for an unknown or revoked one); the rate
    limiter's notion of a caller."""
    with app_state.sessionmaker() as session:
        try:
            return auth.authenticate(session, secret).name
        except Unauthorized:
            return None


async def check_reader(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Reads are public unless REQUIRE_READ_KEY is set; then they need a key (any scope).
    A key sent with a public read is not looked at: the answer is the same with or without
    it, as it is when a cached answer is served without reaching the database."""
    if state_of(request.app).settings.require_read_key:
        caller = await in_session(session, get_caller, request, session, credentials)
        auth.require(caller, Scope.read)


WriterDep = Annotated[Caller, Depends(get_writer)]
