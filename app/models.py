"""Imports every domain's models so that metadata (and Alembic) sees the whole schema, and
declares which tables keep their versions (app.core.temporal): every one a read consults."""

from app.actors.models import Actor, ActorAlias, ActorDocument, Affiliation
from app.auth.models import ApiKey
from app.changes.models import IdempotentRequest, Revision
from app.claims.models import Claim, ClaimDocument, Quantity
from app.core.db import Base
from app.core.temporal import versioned
from app.core.version import DataVersion
from app.events.models import (
    ActorEvent,
    ActorPeriod,
    Event,
    EventActor,
    EventDocument,
    EventLine,
    EventLocation,
    EventRelation,
    EventTag,
    NetworkPair,
    NetworkPairPeriod,
    TimelineDay,
)
from app.locations.models import Location
from app.search import SEARCH_HISTORY  # noqa: F401  (declares the search rows' versions)
from app.sources.models import Source, SourceDocument

VERSIONED = [
    Source,
    SourceDocument,
    Location,
    Actor,
    ActorAlias,
    Affiliation,
    ActorDocument,
    Event,
    EventActor,
    EventLocation,
    EventTag,
    EventRelation,
    Claim,
    Quantity,
    ClaimDocument,
    ActorEvent,
    TimelineDay,
    NetworkPair,
    NetworkPairPeriod,
    ActorPeriod,
    EventDocument,
    EventLine,
]
HISTORY = {
    model.__tablename__: versioned(Base.metadata.tables[model.__tablename__]) for model in VERSIONED
}

__all__ = [
    "Actor",
    "ActorAlias",
    "ActorDocument",
    "ActorEvent",
    "ActorPeriod",
    "Affiliation",
    "ApiKey",
    "Base",
    "Claim",
    "ClaimDocument",
    "DataVersion",
    "Event",
    "EventActor",
    "EventDocument",
    "EventLine",
    "EventLocation",
    "EventRelation",
    "EventTag",
    "IdempotentRequest",
    "Location",
    "NetworkPair",
    "NetworkPairPeriod",
    "Quantity",
    "Revision",
    "Source",
    "SourceDocument",
    "TimelineDay",
]
