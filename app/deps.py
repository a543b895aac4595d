"""Annotated dependency aliases: the one place routers get settings and sessions from."""

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def session_factory(app_state: Any, method: str) -> Any:
    """Reads (GET, HEAD) go to the read replica when one is configured; the rest, and
    anything that must read its own writes, to the primary."""
    return app_state.read_sessionmaker if method in {"GET", "HEAD"} else app_state.sessionmaker


def get_session(request: Request) -> Iterator[Session]:
    """A session per request: committed when the handler returns, rolled back if it raises."""
    yield from session_scope(session_factory(request.app.state, request.method))


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
