"""The bundle format: the same Create schemas the API documents, plus cross-references."""

from pydantic import Field, model_validator

from app.actors.schemas import ActorCreate
from app.claims.schemas import ClaimCreate
from app.core.schemas import Schema
from app.events.schemas import EventCreate
from app.locations.schemas import LocationCreate
from app.sources.schemas import SourceCreate


def _duplicates(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]


class Bundle(Schema):
    """One source and the actors, locations, events and claims found in it."""

    source: SourceCreate = Field(description="The document every claim comes from.")
    actors: list[ActorCreate] = Field(default_factory=list, description="Actors it names.")
    locations: list[LocationCreate] = Field(default_factory=list, description="Places it names.")
    events: list[EventCreate] = Field(default_factory=list, description="Events it reports.")
    claims: list[ClaimCreate] = Field(
        default_factory=list, description="Claims about no single event (general remarks)."
    )

    def all_claims(self) -> list[tuple[str | None, ClaimCreate]]:
        """Every claim with the id of its event (None for general remarks)."""
        pairs: list[tuple[str | None, ClaimCreate]] = [
            (event.id, claim) for event in self.events for claim in event.claims
        ]
        return pairs + [(None, claim) for claim in self.claims]

    @model_validator(mode="after")
    def _references(self) -> "Bundle":
        actor_ids = [a.id for a in self.actors]
        event_ids = [e.id for e in self.events]
        location_ids = [loc.id for loc in self.locations]
        claim_ids = [c.id for _, c in self.all_claims()]
        for kind, ids in (
            ("actor", actor_ids),
            ("event", event_ids),
            ("location", location_ids),
            ("claim", claim_ids),
        ):
            if dup := _duplicates(ids):
                raise ValueError(f"duplicate {kind} ids: {', '.join(dup)}")
        known_actors, known_events = set(actor_ids), set(event_ids)
        problems: list[str] = []
        for actor in self.actors:
            problems += [
                f"actor {actor.id}: unknown organization {a.organization}"
                for a in actor.affiliations
                if a.organization not in known_actors
            ]
        for event in self.events:
            problems += [
                f"event {event.id}: unknown actor {link.actor}"
                for link in event.actors
                if link.actor not in known_actors
            ]
            problems += [
                f"event {event.id}: unknown location {loc}"
                for loc in event.locations
                if loc not in location_ids
            ]
            problems += [
                f"event {event.id}: unknown related event {rel.event}"
                for rel in event.related
                if rel.event not in known_events
            ]
        length = self.source.text_length
        for _event_id, claim in self.all_claims():
            if claim.speaker is not None and claim.speaker not in known_actors:
                problems.append(f"claim {claim.id}: unknown speaker {claim.speaker}")
            if length is not None and claim.evidence and claim.evidence.end > length:
                problems.append(f"claim {claim.id}: evidence ends past the source text ({length})")
        if problems:
            raise ValueError("; ".join(problems))
        return self
