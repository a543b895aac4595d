"""The app's state, typed: what the app factory builds once and requests use. Read it with
`state_of(app)`; nothing reads `app.state` attributes by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings

if TYPE_CHECKING:  # these modules read the state themselves
    from app.web.consistency import Replica
    from app.web.http_cache import ResponseCache
    from app.web.metrics import Metrics


SessionFactory: TypeAlias = "sessionmaker[Session]"


@dataclass
class AppState:
    """Settings, engines and session factories, and the per-process helpers of one app."""

    settings: Settings
    engine: Engine
    # Writes, and reads that must see them; reads (the replica when there is one); reads a
    # lagging replica cannot answer yet (see app.web.consistency).
    sessionmaker: SessionFactory
    read_sessionmaker: SessionFactory
    primary_read_sessionmaker: SessionFactory
    replica: Replica | None
    past_sessionmaker: SessionFactory | None
    metrics: Metrics
    response_cache: ResponseCache


def state_of(app: Any) -> AppState:
    """The typed state of an app made by app.main.create_app."""
    state = app.state.geoevents
    if not isinstance(state, AppState):
        raise TypeError("not an app made by create_app")
    return state
