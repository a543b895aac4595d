"""Pydantic schemas of revisions: an event's history and the change feed."""

from datetime import datetime
from typing import Any

from pydantic import Field

from app.core.kinds import Kind, Op
from app.core.schemas import Schema


class RevisionRead(Schema):
    """One change to one record."""

    seq: int = Field(description="Position in the change feed; strictly increasing.")
    at: datetime = Field(description="When the change was committed (UTC).")
    kind: Kind = Field(description="The kind of record changed.")
    record_id: str = Field(description="The record's id.")
    event_id: str | None = Field(description="The event the record belongs to, if any.")
    op: Op = Field(description="created, updated, deleted (a tombstone) or merged.")
    version: int = Field(description="The record's version after the change.")
    author: str = Field(description="The API key name (or `seed`, `cli`) that made it.")
    note: str | None = Field(default=None, description="What a merge brought in.")
    changes: dict[str, dict[str, Any]] = Field(
        description="Per changed field of the document: {before, after}."
    )
    before: dict[str, Any] | None = Field(description="The document before; null if created.")
    after: dict[str, Any] | None = Field(description="The document after; null if deleted.")


class ChangesMeta(Schema):
    """Where the feed stands."""

    next_cursor: str = Field(
        description="Pass as `since` to continue: the `seq` of the last change of this page "
        "(or the same position when there was nothing new), the numbering `seq` has in the "
        "feed and in every history.",
        examples=["133"],
    )
    has_more: bool = Field(description="Whether more changes follow right away.")
    limit: int = Field(description="The page size applied.")


class ChangesPage(Schema):
    """A page of the change feed, oldest first."""

    data: list[RevisionRead] = Field(description="Changes after `since`, in commit order.")
    meta: ChangesMeta = Field(description="The cursor to continue from.")


class HistoryPage(Schema):
    """Every revision of an event and of its claims, oldest first."""

    data: list[RevisionRead] = Field(description="The revisions, in commit order.")
    meta: dict[str, Any] = Field(description="{event_id, count}.")
