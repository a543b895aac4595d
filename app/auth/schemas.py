"""Pydantic schemas of API keys."""

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from app.core.schemas import Schema


class Scope(StrEnum):
    """What a key may do; each scope includes the ones before it."""

    read = "read"
    write = "write"
    admin = "admin"


RANK = {Scope.read: 0, Scope.write: 1, Scope.admin: 2}


class KeyRead(Schema):
    """An API key as listed (never its secret)."""

    name: str = Field(description="Who or what holds the key; revisions are credited to it.")
    scope: Scope = Field(description="What the key may do.")
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime = Field(description="When the key was created (UTC).")
    revoked_at: datetime | None = Field(description="When it was revoked; null while valid.")
