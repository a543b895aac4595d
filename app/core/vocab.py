"""Controlled vocabularies shared by the models, the API and the seed."""

from enum import StrEnum


class EventType(StrEnum):
    """PLOVER event categories (openeventdata/PLOVER), with their quad class in the docs."""

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


class EventStatus(StrEnum):
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


class DatePrecision(StrEnum):
    """How precisely the reporting dates an event or a document."""

    day = "day"
    month = "month"
    year = "year"
    approximate = "approximate"
    unknown = "unknown"


class ActorKind(StrEnum):
    """What sort of actor this is; `unnamed` is an unnamed speaker such as 'a NATO diplomat'."""

    person = "person"
    state = "state"
    organization = "organization"
    alliance = "alliance"
    group = "group"
    unnamed = "unnamed"


class ActorRole(StrEnum):
    """The part an actor plays in an event."""

    initiator = "initiator"
    target = "target"
    participant = "participant"
    mediator = "mediator"
    speaker = "speaker"
    beneficiary = "beneficiary"


class RelationType(StrEnum):
    """How one event relates to another (read: this event <relation> the other)."""

    follows = "follows"
    response_to = "response_to"
    part_of = "part_of"


class Hedging(StrEnum):
    """How firmly the source puts a statement."""

    asserted = "asserted"
    reported = "reported"
    alleged = "alleged"
    claimed = "claimed"
    warned = "warned"
    proposed = "proposed"
    estimated = "estimated"
    opinion = "opinion"


class Qualifier(StrEnum):
    """How a reported number bounds the true value ('over 30', 'up to a million')."""

    exact = "exact"
    approximately = "approximately"
    at_least = "at_least"
    more_than = "more_than"
    up_to = "up_to"
    less_than = "less_than"


class SourceKind(StrEnum):
    """What sort of document a source is."""

    news_article = "news_article"
    official_statement = "official_statement"
    press_release = "press_release"
    report = "report"
    transcript = "transcript"
    social_media = "social_media"
    other = "other"


class LocationFeature(StrEnum):
    """What sort of place a location names."""

    point = "point"
    city = "city"
    region = "region"
    country = "country"
    continent = "continent"
    other = "other"


class CoordinatePrecision(StrEnum):
    """What the stored coordinates stand for."""

    point = "point"
    city = "city"
    region = "region"
    country_centroid = "country_centroid"
    continent_centroid = "continent_centroid"
