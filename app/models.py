"""Imports every domain's models so that metadata (and Alembic) sees the whole schema."""

from app.actors.models import Actor, ActorAlias, Affiliation
from app.auth.models import ApiKey
from app.changes.models import IdempotentRequest, Revision
from app.claims.models import Claim, Quantity
from app.core.db import Base
from app.core.version import DataVersion
from app.events.models import (
    ActorEvent,
    Event,
    EventActor,
    EventDocument,
    EventLocation,
    EventRelation,
    EventTag,
    TimelineDay,
)
from app.locations.models import Location
from app.sources.models import Source

__all__ = [
    "Actor",
    "ActorAlias",
    "ActorEvent",
    "Affiliation",
    "ApiKey",
    "Base",
    "Claim",
    "DataVersion",
    "Event",
    "EventActor",
    "EventDocument",
    "EventLocation",
    "EventRelation",
    "EventTag",
    "IdempotentRequest",
    "Location",
    "Quantity",
    "Revision",
    "Source",
    "TimelineDay",
]
