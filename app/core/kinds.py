"""The kinds of record, and what a revision does to one: the write path's, the history's and
the change feed's vocabulary."""

from enum import StrEnum


class Kind(StrEnum):
    """The kinds of record the write API, the history and the change feed know."""

    source = "source"
    actor = "actor"
    location = "location"
    event = "event"
    claim = "claim"


class Op(StrEnum):
    """What a revision did to its record."""

    created = "created"
    updated = "updated"
    deleted = "deleted"
    merged = "merged"
