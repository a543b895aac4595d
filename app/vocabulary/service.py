"""The vocabularies' answer, built from app.core.vocab (fixed at import: it never changes
while the app runs)."""

from app.core.vocab import (
    QUAD_CLASSES,
    ActorKind,
    ActorRole,
    CoordinatePrecision,
    Dataset,
    DatePrecision,
    EventStatus,
    EventType,
    Hedging,
    LocationFeature,
    QuadClass,
    Qualifier,
    RelationType,
    SourceKind,
    Vocabulary,
)
from app.vocabulary.schemas import EventTypeTerm, Term, Vocabularies


def _terms(vocabulary: type[Vocabulary]) -> list[Term]:
    return [Term(value=v, description=d) for v, d in vocabulary.meanings().items()]


def get() -> Vocabularies:
    """Every vocabulary, its values in their order, each with its meaning."""
    meanings = EventType.meanings()
    return Vocabularies(
        event_types=[
            EventTypeTerm(value=t, quad_class=QUAD_CLASSES[t], description=meanings[t])
            for t in EventType
        ],
        quad_classes=_terms(QuadClass),
        statuses=_terms(EventStatus),
        date_precisions=_terms(DatePrecision),
        hedging=_terms(Hedging),
        qualifiers=_terms(Qualifier),
        actor_kinds=_terms(ActorKind),
        actor_roles=_terms(ActorRole),
        relation_types=_terms(RelationType),
        source_kinds=_terms(SourceKind),
        location_features=_terms(LocationFeature),
        coordinate_precisions=_terms(CoordinatePrecision),
        datasets=_terms(Dataset),
    )


VOCABULARIES = get()
