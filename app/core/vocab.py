"""Controlled vocabularies shared by the models, the API and the seed, with what each value
means: in the JSON Schema of every field that takes one (the enum's description, and
`x-enumDescriptions`) and at GET /v1/vocabulary."""

from enum import StrEnum
from typing import Any

from pydantic import GetJsonSchemaHandler
from pydantic_core import CoreSchema


class Vocabulary(StrEnum):
    """A controlled vocabulary whose values each have a meaning (see MEANINGS)."""

    @classmethod
    def meanings(cls) -> dict[str, str]:
        """Each value and what it means, in the enum's order."""
        known = MEANINGS[cls]
        return {member.value: known[member.value] for member in cls}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        meanings = cls.meanings()
        values = "\n".join(f"* `{value}`: {meaning}" for value, meaning in meanings.items())
        target["description"] = f"{target.get('description', '')}\n\n{values}".strip()
        target["x-enumDescriptions"] = meanings
        return schema


class QuadClass(Vocabulary):
    """The quad class of a PLOVER event type: cooperation or conflict, in words or in deeds."""

    verbal_cooperation = "verbal_cooperation"
    material_cooperation = "material_cooperation"
    verbal_conflict = "verbal_conflict"
    material_conflict = "material_conflict"


class EventType(Vocabulary):
    """PLOVER event categories (openeventdata/PLOVER): what kind of interaction an event is.
    Each value's meaning paraphrases the PLOVER codebook; its quad class is in brackets."""

    AGREE = "AGREE"
    CONSULT = "CONSULT"
    SUPPORT = "SUPPORT"
    CONCEDE = "CONCEDE"
    COOPERATE = "COOPERATE"
    AID = "AID"
    RETREAT = "RETREAT"
    INVESTIGATE = "INVESTIGATE"
    DEMAND = "DEMAND"
    DISAPPROVE = "DISAPPROVE"
    REJECT = "REJECT"
    THREATEN = "THREATEN"
    SANCTION = "SANCTION"
    PROTEST = "PROTEST"
    CRIME = "CRIME"
    MOBILIZE = "MOBILIZE"
    COERCE = "COERCE"
    ASSAULT = "ASSAULT"
    FIGHT = "FIGHT"


class EventStatus(Vocabulary):
    """What the reporting says about the event's reality."""

    occurred = "occurred"
    ongoing = "ongoing"
    ended = "ended"
    proposed = "proposed"
    planned = "planned"
    pledged = "pledged"
    warned = "warned"
    considered = "considered"
    alleged = "alleged"


class DatePrecision(Vocabulary):
    """How precisely the reporting dates an event or a document."""

    day = "day"
    month = "month"
    year = "year"
    approximate = "approximate"
    unknown = "unknown"


class ActorKind(Vocabulary):
    """What sort of actor this is; `unnamed` is an unnamed speaker such as 'a NATO diplomat'."""

    person = "person"
    state = "state"
    organization = "organization"
    alliance = "alliance"
    group = "group"
    unnamed = "unnamed"


class ActorRole(Vocabulary):
    """The part an actor plays in an event."""

    initiator = "initiator"
    target = "target"
    participant = "participant"
    mediator = "mediator"
    speaker = "speaker"
    beneficiary = "beneficiary"


class RelationType(Vocabulary):
    """How one event relates to another (read: this event <relation> the other)."""

    follows = "follows"
    response_to = "response_to"
    part_of = "part_of"


class Hedging(Vocabulary):
    """How firmly the source puts a statement."""

    asserted = "asserted"
    reported = "reported"
    alleged = "alleged"
    claimed = "claimed"
    warned = "warned"
    proposed = "proposed"
    estimated = "estimated"
    opinion = "opinion"


class Qualifier(Vocabulary):
    """How a reported number bounds the true value ('over 30', 'up to a million')."""

    exact = "exact"
    approximately = "approximately"
    at_least = "at_least"
    more_than = "more_than"
    up_to = "up_to"
    less_than = "less_than"
    estimate = "estimate"


class Dataset(Vocabulary):
    """An event dataset whose records geoevents imports (`geoevents import-dataset`)."""

    ucdp = "ucdp"
    gdelt = "gdelt"
    acled = "acled"


class SourceKind(Vocabulary):
    """What sort of document a source is."""

    news_article = "news_article"
    official_statement = "official_statement"
    press_release = "press_release"
    report = "report"
    transcript = "transcript"
    social_media = "social_media"
    other = "other"


class LocationFeature(Vocabulary):
    """What sort of place a location names."""

    point = "point"
    city = "city"
    region = "region"
    country = "country"
    continent = "continent"
    other = "other"


class CoordinatePrecision(Vocabulary):
    """What the stored coordinates stand for."""

    point = "point"
    city = "city"
    region = "region"
    country_centroid = "country_centroid"
    continent_centroid = "continent_centroid"
    region_centroid = "region_centroid"


# PLOVER's quad class of each event type, as its codebook assigns them per category (the
# draft manual's headings; its README's quad table puts INVESTIGATE and SANCTION elsewhere).
# CRIME and FIGHT, which later drafts dropped or folded into ASSAULT, count as material
# conflict, as in PLOVER's 19-category list.
QUAD_CLASSES: dict[EventType, QuadClass] = {
    EventType.AGREE: QuadClass.verbal_cooperation,
    EventType.CONSULT: QuadClass.verbal_cooperation,
    EventType.SUPPORT: QuadClass.verbal_cooperation,
    EventType.CONCEDE: QuadClass.verbal_cooperation,
    EventType.COOPERATE: QuadClass.material_cooperation,
    EventType.AID: QuadClass.material_cooperation,
    EventType.RETREAT: QuadClass.material_cooperation,
    EventType.INVESTIGATE: QuadClass.verbal_conflict,
    EventType.DEMAND: QuadClass.verbal_conflict,
    EventType.DISAPPROVE: QuadClass.verbal_conflict,
    EventType.REJECT: QuadClass.verbal_conflict,
    EventType.THREATEN: QuadClass.verbal_conflict,
    EventType.SANCTION: QuadClass.material_conflict,
    EventType.PROTEST: QuadClass.material_conflict,
    EventType.CRIME: QuadClass.material_conflict,
    EventType.MOBILIZE: QuadClass.material_conflict,
    EventType.COERCE: QuadClass.material_conflict,
    EventType.ASSAULT: QuadClass.material_conflict,
    EventType.FIGHT: QuadClass.material_conflict,
}

# PLOVER's definitions, in our words.
EVENT_TYPE_DEFINITIONS: dict[EventType, str] = {
    EventType.AGREE: "Say one will cooperate: agree to, offer or promise cooperation, "
    "including a promise to sign or ratify an agreement; cooperation announced for the "
    "future counts as an intention.",
    EventType.CONSULT: "Meet or talk: visits and hosting, meetings at a neutral place, talks, "
    "negotiations and consultations by phone or other remote means.",
    EventType.SUPPORT: "Back someone in words: diplomatic, non-material cooperation, praise or "
    "endorsement of a policy, action or actor, recognition, and signing or ratifying an "
    "agreement.",
    EventType.CONCEDE: "Give way in words: concessions without immediate material effect, "
    "such as promised easing of restrictions, or a ceasefire or withdrawal declared but not "
    "yet carried out; also expressions of regret.",
    EventType.COOPERATE: "Cooperate in deeds, to both sides' benefit: economic exchange, joint "
    "military exercises, judicial cooperation such as extradition, sharing intelligence.",
    EventType.AID: "Give material help whose benefit goes mainly to the recipient: money and "
    "credit, military or police assistance, humanitarian aid, asylum.",
    EventType.RETREAT: "Give way in deeds, with immediate material effect: release prisoners, "
    "return property, let observers or aid workers in, disarm, observe a ceasefire, withdraw "
    "from territory; also an official's resignation.",
    EventType.INVESTIGATE: "Investigate: inquiries into crime, corruption, human rights abuses, "
    "war crimes or military actions, past cases included.",
    EventType.DEMAND: "Demand or order, more forcefully than a request (which PLOVER does not "
    "code) and short of a threat; a verbal act.",
    EventType.DISAPPROVE: "Criticise: object, complain, condemn, accuse or blame, sue or bring "
    "to court.",
    EventType.REJECT: "Refuse or reject: a proposal, a request, talks, a change of policy or "
    "leadership; defy or resist laws or norms.",
    EventType.THREATEN: "Threaten: a coercive warning of serious consequences, such as "
    "sanctions, cut ties, restrictions, arrests or the use of force; an ultimatum.",
    EventType.SANCTION: "Reduce relations: cut, suspend or end diplomatic, economic or aid "
    "ties, call off talks, expel or withdraw diplomats or missions, impose embargoes, "
    "boycotts or sanctions.",
    EventType.PROTEST: "Protest collectively against someone: demonstrations, rallies, riots, "
    "strikes, boycotts, blocking passage.",
    EventType.CRIME: "A crime that is not political: an act the place's law forbids, such as "
    "theft, trafficking or corruption, not civil disobedience or revolt.",
    EventType.MOBILIZE: "Show force without using it: military or police moves, raised "
    "readiness, exercises of one side alone.",
    EventType.COERCE: "Repress: restrict rights or movement, confiscate property, arrest or "
    "deport people, impose curfews, censorship or martial law.",
    EventType.ASSAULT: "Use violence that can cause serious physical harm, one- or two-sided: "
    "attacks, bombings, abductions, assassinations, killings.",
    EventType.FIGHT: "Fight with military force: armed clashes and conventional military "
    "operations (PLOVER's home for CAMEO's FIGHT and its unconventional mass violence).",
}

QUAD_CLASS_WORDS = {
    QuadClass.verbal_cooperation: "verbal cooperation",
    QuadClass.material_cooperation: "material cooperation",
    QuadClass.verbal_conflict: "verbal conflict",
    QuadClass.material_conflict: "material conflict",
}

MEANINGS: dict[type[Vocabulary], dict[str, str]] = {
    QuadClass: {
        QuadClass.verbal_cooperation: "Cooperation in words: promises, meetings, support, "
        "concessions announced.",
        QuadClass.material_cooperation: "Cooperation in deeds: exchange, aid, concessions "
        "carried out.",
        QuadClass.verbal_conflict: "Conflict in words: demands, criticism, rejections, "
        "threats, investigations.",
        QuadClass.material_conflict: "Conflict in deeds: sanctions, protests, shows of force, "
        "repression, violence.",
    },
    EventType: {
        t: f"{EVENT_TYPE_DEFINITIONS[t]} [{QUAD_CLASS_WORDS[QUAD_CLASSES[t]]}]" for t in EventType
    },
    EventStatus: {
        EventStatus.occurred: "It happened.",
        EventStatus.ongoing: "It has begun and is still going on; without an end date it is "
        "open-ended.",
        EventStatus.ended: "It was under way for a time and has ended.",
        EventStatus.proposed: "Someone put it forward; it has not happened.",
        EventStatus.planned: "It is scheduled or being prepared; it has not happened yet.",
        EventStatus.pledged: "Someone committed to do it; it has not happened yet.",
        EventStatus.warned: "Someone warned it might happen.",
        EventStatus.considered: "It is being weighed or discussed, not decided.",
        EventStatus.alleged: "Someone says it happened; the reporting does not confirm it.",
    },
    DatePrecision: {
        DatePrecision.day: "The dates are exact days.",
        DatePrecision.month: "Only the month is known: the dates span that month.",
        DatePrecision.year: "Only the year is known: the dates span that year (1 January to "
        "31 December).",
        DatePrecision.approximate: "The dates are approximate: near the dates given, not "
        "exactly them.",
        DatePrecision.unknown: "No date is known: the dates are null.",
    },
    ActorKind: {
        ActorKind.person: "A named person.",
        ActorKind.state: "A country, or its government acting for it.",
        ActorKind.organization: "A body such as an international organisation, a company, a "
        "party or a ministry.",
        ActorKind.alliance: "An alliance or bloc of states.",
        ActorKind.group: "A group of people without a formal body (protesters, soldiers of a "
        "unit).",
        ActorKind.unnamed: "A speaker the source does not name, such as 'a NATO diplomat'.",
    },
    ActorRole: {
        ActorRole.initiator: "Does or starts it (PLOVER's source actor).",
        ActorRole.target: "It is done to them (PLOVER's recipient).",
        ActorRole.participant: "Takes part on an equal footing, as the parties of a meeting do.",
        ActorRole.mediator: "Mediates or brokers it between others.",
        ActorRole.speaker: "Announces, states or warns of it (the same actor may have another "
        "role in the event too, such as initiator).",
        ActorRole.beneficiary: "Gains from it without taking part.",
    },
    RelationType: {
        RelationType.follows: "Comes after the other event, in the same story.",
        RelationType.response_to: "Answers the other event.",
        RelationType.part_of: "Is one part of the other, larger event.",
    },
    Hedging: {
        Hedging.asserted: "Stated as fact, by the source or a named speaker (including "
        "attributed speech such as 'X said').",
        Hedging.reported: "Passed on at second hand ('reportedly', 'according to reports').",
        Hedging.alleged: "An accusation not shown to be true.",
        Hedging.claimed: "Someone's claim, which the source does not take up as fact ('was "
        "pitched as').",
        Hedging.warned: "A warning of what might, could or may happen.",
        Hedging.proposed: "A proposal, not something done.",
        Hedging.estimated: "An estimate, typically of a number.",
        Hedging.opinion: "The source's own commentary or judgement.",
    },
    Qualifier: {
        Qualifier.exact: "The number as given: low = high = value.",
        Qualifier.approximately: "About the number ('around', 'some'): low = high = value, "
        "since the source gives no band and none is invented.",
        Qualifier.at_least: "The number or more: low = value, included; no upper bound.",
        Qualifier.more_than: "More than the number ('over 30'): low = value, excluded; no "
        "upper bound.",
        Qualifier.up_to: "The number or fewer: high = value, included; no lower bound.",
        Qualifier.less_than: "Fewer than the number: high = value, excluded; no lower bound.",
        Qualifier.estimate: "A best estimate with the bounds its publisher gives (UCDP's "
        "best, low and high): low <= value <= high, both included.",
    },
    Dataset: {
        Dataset.ucdp: "The UCDP Georeferenced Event Dataset (Uppsala Conflict Data Program), "
        "from its CSV download or its API.",
        Dataset.gdelt: "The GDELT 2.0 event exports (The GDELT Project).",
        Dataset.acled: "An ACLED export (Armed Conflict Location & Event Data).",
    },
    SourceKind: {
        SourceKind.news_article: "A news report or article.",
        SourceKind.official_statement: "A statement by a government or official body.",
        SourceKind.press_release: "A press release.",
        SourceKind.report: "A report, such as a study or an organisation's publication.",
        SourceKind.transcript: "A transcript of spoken words.",
        SourceKind.social_media: "A post on a social network.",
        SourceKind.other: "Any other kind of document.",
    },
    LocationFeature: {
        LocationFeature.point: "A precise spot: a building, a site, a crossing.",
        LocationFeature.city: "A city, town or village.",
        LocationFeature.region: "A region or province within a country.",
        LocationFeature.country: "A country.",
        LocationFeature.continent: "A continent or larger area.",
        LocationFeature.other: "Any other place, such as a sea or a border area.",
    },
    CoordinatePrecision: {
        CoordinatePrecision.point: "The place's own coordinates.",
        CoordinatePrecision.city: "The gazetteer's point for the city, not the exact spot.",
        CoordinatePrecision.region: "The gazetteer's point for the region, not the exact spot.",
        CoordinatePrecision.country_centroid: "The country's centre: a marker, not where it "
        "happened.",
        CoordinatePrecision.continent_centroid: "The continent's centre: a marker, not where "
        "it happened.",
        CoordinatePrecision.region_centroid: "The centre of a first-order division (a state, "
        "province or larger region), as a dataset gives it: a marker, not where it happened.",
    },
}
