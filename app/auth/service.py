"""Create, list, revoke and check API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.models import ApiKey
from app.auth.schemas import RANK, Scope
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized

KEY_PREFIX = "gek_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: a key's name and scope, or the public."""

    name: str
    scope: Scope | None


PUBLIC = Caller("public", None)


def create(session: Session, name: str, scope: Scope) -> str:
    """Store a new key and return its secret: the only time it is ever shown."""
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"a key named {name!r} exists already", param="name")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, scope=scope.value, prefix=secret[:12], key_hash=_hash(secret)))
    session.flush()
    return secret


def get_all(session: Session) -> list[ApiKey]:
    """Every key, newest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)))


def revoke(session: Session, name: str) -> None:
    """Revoke a key by name; it stops working at once."""
    done = session.execute(
        update(ApiKey)
        .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no valid key named {name!r}", param="name")


def authenticate(session: Session, secret: str | None) -> Caller:
    """The caller a bearer secret stands for; 401 for an unknown or revoked one."""
    if secret is None:
        return PUBLIC
    row = session.execute(
        select(ApiKey.name, ApiKey.scope, ApiKey.revoked_at).where(ApiKey.key_hash == _hash(secret))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the API key is unknown or revoked")
    return Caller(row.name, Scope(row.scope))


def require(caller: Caller, needed: Scope) -> None:
    """401 without a key, 403 when the key's scope is below `needed`."""
    if caller.scope is None:
        raise Unauthorized(f"this needs an API key with scope {needed.value!r}")
    if RANK[caller.scope] < RANK[needed]:
        raise Forbidden(
            f"the key {caller.name!r} has scope {caller.scope.value!r}; this needs {needed.value!r}"
        )
