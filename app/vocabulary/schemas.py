"""Pydantic schemas of the vocabularies' answer."""

from pydantic import Field

from app.core.schemas import Schema
from app.core.vocab import EventType, QuadClass


class Term(Schema):
    """One value of a vocabulary and what it means."""

    value: str = Field(description="The value, as fields and filters take it.")
    description: str = Field(description="What it means.")


class EventTypeTerm(Term):
    """A PLOVER event type, its quad class and what it means."""

    value: EventType = Field(description="The event type, as `event_type` and `type` take it.")
    quad_class: QuadClass = Field(description="PLOVER's quad class of the type.")


class Vocabularies(Schema):
    """Every controlled vocabulary of the API, each value with its meaning."""

    event_types: list[EventTypeTerm] = Field(
        description="PLOVER event types (`event_type` of events, the `type` filter)."
    )
    quad_classes: list[Term] = Field(description="PLOVER's four quad classes.")
    statuses: list[Term] = Field(description="Event statuses (`status`).")
    date_precisions: list[Term] = Field(
        description="How precisely dates are known (`date_precision`, `published_date_precision`)."
    )
    hedging: list[Term] = Field(description="How firmly a claim is put (`hedging`).")
    qualifiers: list[Term] = Field(
        description="How a reported number bounds the true value (`qualifier`)."
    )
    actor_kinds: list[Term] = Field(description="Kinds of actor (`kind` of actors).")
    actor_roles: list[Term] = Field(description="Parts actors play in events (`role`).")
    relation_types: list[Term] = Field(description="How events relate (`related[].relation`).")
    source_kinds: list[Term] = Field(description="Kinds of document (`kind` of sources).")
    location_features: list[Term] = Field(description="Kinds of place (`feature` of locations).")
    coordinate_precisions: list[Term] = Field(
        description="What a location's coordinates stand for (`precision` of locations)."
    )
    datasets: list[Term] = Field(
        description="Event datasets records are imported from (`provenance.dataset`, the "
        "`dataset` filter)."
    )
