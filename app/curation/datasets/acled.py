"""ACLED exports (CSV) mapped to events, claims, actors, places and sources (docs/datasets.md
has the tables)."""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pycountry

from app.actors.schemas import ActorCreate
from app.claims.schemas import QuantityCreate
from app.core.schemas import Provenance
from app.core.vocab import (
    ActorKind,
    ActorRole,
    CoordinatePrecision,
    Dataset,
    DatePrecision,
    EventStatus,
    EventType,
    Hedging,
    LocationFeature,
    Qualifier,
    SourceKind,
)
from app.curation.datasets.common import (
    Deletion,
    Row,
    RowRecords,
    RowRefused,
    States,
    actor,
    citing_claim,
    digest,
    slug,
)
from app.curation.datasets.common import (
    cell_text as _text,
)
from app.curation.datasets.common import (
    required_cell as _required,
)
from app.curation.schemas import ClaimDoc, SourceDoc
from app.events.schemas import EventActorCreate, EventDoc
from app.locations.schemas import LocationCreate

SOURCE_ID = "acled"
GAZETTEER = "ACLED"
SOURCE = SourceDoc(
    id=SOURCE_ID,
    kind=SourceKind.report,
    title="Armed Conflict Location & Event Data (ACLED)",
    publisher="ACLED",
    url="https://acleddata.com/",
    published_date_precision=DatePrecision.unknown,
    language="en",
    description="Political violence and protest events coded by ACLED from news, reports "
    "and local partners. ACLED's terms govern the use of its data.",
)

# ACLED's actor types (inter1, inter2), by code and by label.
INTER = {
    "1": "State forces",
    "2": "Rebel group",
    "3": "Political militia",
    "4": "Identity militia",
    "5": "Rioters",
    "6": "Protesters",
    "7": "Civilians",
    "8": "External/Other forces",
}
INTER_CODES = {label.lower(): code for code, label in INTER.items()}
INTER_CODES |= {"rebel groups": "2", "political militias": "3", "identity militias": "4"}

# sub_event_type → PLOVER (FIGHT is PLOVER 0.8's ASSAULT in a military context).
SUB_EVENT_TYPES: dict[str, EventType] = {
    "armed clash": EventType.FIGHT,
    "government regains territory": EventType.FIGHT,
    "non-state actor overtakes territory": EventType.FIGHT,
    "shelling/artillery/missile attack": EventType.FIGHT,
    "air/drone strike": EventType.FIGHT,
    "chemical weapon": EventType.ASSAULT,
    "suicide bomb": EventType.ASSAULT,
    "remote explosive/landmine/ied": EventType.ASSAULT,
    "grenade": EventType.ASSAULT,
    "attack": EventType.ASSAULT,
    "sexual violence": EventType.ASSAULT,
    "abduction/forced disappearance": EventType.ASSAULT,
    "mob violence": EventType.ASSAULT,
    "violent demonstration": EventType.PROTEST,
    "peaceful protest": EventType.PROTEST,
    "protest with intervention": EventType.PROTEST,
    "excessive force against protesters": EventType.COERCE,
    "arrests": EventType.COERCE,
    "looting/property destruction": EventType.COERCE,
    "disrupted weapons use": EventType.COERCE,
    "agreement": EventType.AGREE,
    "non-violent transfer of territory": EventType.RETREAT,
    "headquarters or base established": EventType.MOBILIZE,
    "change to group/activity": EventType.MOBILIZE,
    "other": EventType.MOBILIZE,
}
# event_type → PLOVER, for a sub-event type the table above does not know.
EVENT_TYPES: dict[str, EventType] = {
    "battles": EventType.FIGHT,
    "explosions/remote violence": EventType.ASSAULT,
    "violence against civilians": EventType.ASSAULT,
    "protests": EventType.PROTEST,
    "riots": EventType.PROTEST,
    "strategic developments": EventType.MOBILIZE,
}
TIME_PRECISION = {
    "1": (DatePrecision.day, "the day is known"),
    "2": (DatePrecision.approximate, "only the week around this day is known"),
    "3": (DatePrecision.month, "only the month is known"),
}
GEO_PRECISION = {
    "1": (LocationFeature.city, CoordinatePrecision.point),
    "2": (LocationFeature.city, CoordinatePrecision.city),
    "3": (LocationFeature.region, CoordinatePrecision.region_centroid),
}
ATTRIBUTES = (
    "event_id_cnty",
    "event_date",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "civilian_targeting",
    "geo_precision",
    "source_scale",
    "tags",
    "admin2",
    "admin3",
)


def event_day(value: str) -> date:
    """ACLED's `event_date`: `2023-03-11` or `11 March 2023`."""
    for pattern in ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d %b %Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise RowRefused(f"event_date {value!r} is neither YYYY-MM-DD nor a date such as 11 March 2023")


def inter_code(value: str | None, name: str) -> str | None:
    """An actor type as its code, from the code or its label; None when empty."""
    if value is None:
        return None
    if value in INTER:
        return value
    code = INTER_CODES.get(value.lower())
    if code is None:
        raise RowRefused(f"{name} {value!r} is not an ACLED actor type (a code 1-8 or its label)")
    return code


def interaction_code(value: str | None) -> str | None:
    """`interaction` as its two-digit code, from the code or labels joined by `-`."""
    if value is None:
        return None
    if value.isdigit():
        return value
    parts = [p.strip().removesuffix(" only") for p in value.split("-")]
    # "External/Other forces" holds no '-', so splitting on it gives each label whole.
    codes = [inter_code(p, "interaction") or "" for p in parts if p]
    if not codes or len(codes) > 2:
        raise RowRefused(f"interaction {value!r} is not a code or two labels joined by '-'")
    return "".join(sorted(codes)) if len(codes) == 2 else codes[0] + "0"


def _country(cells: dict[str, Any]) -> str | None:
    iso = _text(cells, "iso")
    if iso is not None and iso.isdigit():
        found = pycountry.countries.get(numeric=iso.zfill(3))
        if found is not None:
            return str(found.alpha_3)
    name = _text(cells, "country")
    if name is not None:
        try:
            return str(pycountry.countries.lookup(name).alpha_3)
        except LookupError:
            return None
    return None


def _state_named(name: str) -> str | None:
    """The country a force's name gives (`Military Forces of Russia (2000-)`), if any."""
    match = re.search(r"\bof ([A-Z][^()]*?)\s*(?:\(|$)", name)
    if match is None:
        return None
    try:
        return str(pycountry.countries.lookup(match.group(1).strip()).alpha_3)
    except LookupError:
        return None


def _month(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


class Mapper:
    """Maps ACLED export rows to records; holds the state actors met so far."""

    def __init__(self, states: States, release: str) -> None:
        self.states = states
        self.release = release

    def _actor(
        self, name: str, inter: str | None, country: str | None, row_actors: list[ActorCreate]
    ) -> str:
        """One geoevents actor per ACLED actor name; state forces linked to their state."""
        state_iso = None
        if inter == "1":
            state_iso = _state_named(name) or country
        elif inter == "8":
            state_iso = _state_named(name)
        links = []
        if state_iso is not None:
            state_id, made = self.states.of(state_iso)
            links.append(state_id)
            if made is not None:
                row_actors.append(made)
        kind = ActorKind.organization if inter in ("1", "8") else ActorKind.group
        actor_id = f"acled-actor-{slug(name, 80)}-{digest(name)[:6]}"
        row_actors.append(
            actor(
                actor_id,
                name[:300],
                kind,
                aliases=[name[:300]],
                states=links,
                description=f"An actor of ACLED ({INTER[inter]})."
                if inter
                else "An actor of ACLED.",
            )
        )
        return actor_id

    def __call__(self, row: Row) -> RowRecords:
        """The records of one ACLED row; RowRefused says why it cannot be mapped."""
        cells = row.cells
        acled_id = _required(cells, "event_id_cnty")
        if not re.fullmatch(r"[A-Za-z]{2,4}[0-9]+", acled_id):
            raise RowRefused(f"event_id_cnty {acled_id!r} is not an ACLED event id")
        day = event_day(_required(cells, "event_date"))
        prec = _required(cells, "time_precision")
        if prec not in TIME_PRECISION:
            raise RowRefused(f"time_precision {prec!r} is not 1, 2 or 3")
        precision, prec_words = TIME_PRECISION[prec]
        start, end = (day, None) if prec != "3" else _month(day)
        main_type = _required(cells, "event_type")
        sub_type = _text(cells, "sub_event_type") or ""
        event_type = SUB_EVENT_TYPES.get(sub_type.lower()) or EVENT_TYPES.get(main_type.lower())
        if event_type is None:
            raise RowRefused(f"event_type {main_type!r} is not one of ACLED's six")
        geo = _required(cells, "geo_precision")
        if geo not in GEO_PRECISION:
            raise RowRefused(f"geo_precision {geo!r} is not 1, 2 or 3")
        fatalities_cell = _required(cells, "fatalities")
        if not fatalities_cell.isdigit():
            raise RowRefused(f"fatalities {fatalities_cell!r} is not a count")
        fatalities = int(fatalities_cell)
        inter1 = inter_code(_text(cells, "inter1"), "inter1")
        inter2 = inter_code(_text(cells, "inter2"), "inter2")
        interaction = interaction_code(_text(cells, "interaction"))
        stamp = _text(cells, "timestamp")
        if stamp is not None and not stamp.isdigit():
            raise RowRefused(f"timestamp {stamp!r} is not a Unix time")
        country = _country(cells)
        provenance = Provenance(dataset=Dataset.acled, release=self.release, row=row.line)
        row_actors: list[ActorCreate] = []
        one_sided = main_type.lower() != "battles"
        links = [
            EventActorCreate(
                actor=self._actor(_required(cells, "actor1"), inter1, country, row_actors),
                role=ActorRole.initiator if one_sided else ActorRole.participant,
            )
        ]
        if (actor2 := _text(cells, "actor2")) is not None:
            links.append(
                EventActorCreate(
                    actor=self._actor(actor2, inter2, country, row_actors),
                    role=ActorRole.target if one_sided else ActorRole.participant,
                )
            )
        for column in ("assoc_actor_1", "assoc_actor_2"):
            for name in (_text(cells, column) or "").split(";"):
                if name.strip():
                    links.append(
                        EventActorCreate(
                            actor=self._actor(name.strip(), None, country, row_actors),
                            role=ActorRole.participant,
                        )
                    )
        feature, coordinates = GEO_PRECISION[geo]
        place_name = _text(cells, "location") or _required(cells, "country")
        try:
            latitude = float(_required(cells, "latitude"))
            longitude = float(_required(cells, "longitude"))
        except ValueError:
            raise RowRefused("latitude and longitude must be numbers") from None
        place = LocationCreate(
            id=f"acled-place-{digest(place_name, latitude, longitude, geo)}",
            name=place_name[:300],
            country=country,
            admin_area=_text(cells, "admin1"),
            feature=feature,
            latitude=latitude,
            longitude=longitude,
            precision=coordinates,
            coordinates_from=GAZETTEER,
        )
        attributes: dict[str, Any] = {name: _text(cells, name) for name in ATTRIBUTES}
        attributes |= {
            "event_date": day.isoformat(),  # either form of the export, as one
            "inter1": inter1,
            "inter2": inter2,
            "interaction": interaction,
            "timestamp": int(stamp) if stamp else None,
            "fatalities": fatalities,
        }
        if fatalities == 0:
            attributes["fatalities_note"] = (
                "ACLED records 0 where no fatalities are known: no figure is stated"
            )
        event_id = f"acled-{acled_id.lower()}"
        date_note = f"ACLED time_precision {prec}: {prec_words} ({day})."
        if prec == "2":
            week = (day - timedelta(days=3), day + timedelta(days=3))
            date_note += f" The event lies in the week around it ({week[0]} to {week[1]})."
        event = EventDoc(
            id=event_id,
            title=f"{sub_type or main_type} in {place_name}"[:500],
            summary=_text(cells, "notes"),
            event_type=event_type,
            status=EventStatus.occurred,
            start_date=start,
            end_date=end,
            date_precision=precision,
            date_note=date_note,
            actors=links,
            locations=[place.id],
            provenance=provenance,
            attributes={k: v for k, v in attributes.items() if v is not None},
        )
        # fatalities is ACLED's most conservative figure: "at least"; its 0 can mean that
        # nothing is known, so it states no figure at all.
        figures = (
            [
                QuantityCreate(
                    label="deaths",
                    value=fatalities,
                    unit="people",
                    qualifier=Qualifier.at_least,
                    as_reported=fatalities_cell,
                )
            ]
            if fatalities > 0
            else []
        )
        claims = [
            ClaimDoc(
                id=f"{event_id}-acled",
                statement=f"ACLED records {main_type.lower()}"
                + (f" ({sub_type.lower()})" if sub_type else "")
                + f" in {place_name} on {day}"
                + (f", with at least {fatalities} deaths." if fatalities else "."),
                hedging=Hedging.reported,
                evidence=None,
                quantities=figures,
                provenance=provenance,
                source_id=SOURCE_ID,
                event_id=event_id,
            )
        ]
        sources = [SOURCE]
        names = [s.strip() for s in (_text(cells, "source") or "").split(";") if s.strip()]
        for n, name in enumerate(dict.fromkeys(names), start=1):
            cited = SourceDoc(
                id=f"acled-source-{slug(name, 80)}-{digest(name)[:6]}",
                kind=SourceKind.other,
                title=name,
                publisher=name[:300],
                published_date_precision=DatePrecision.unknown,
                description="A source ACLED names for its events (source).",
            )
            sources.append(cited)
            claims.append(
                citing_claim(
                    f"{event_id}-source-{n}",
                    "Reports this event, as ACLED's source column says.",
                    cited,
                    event_id,
                    provenance,
                )
            )
        return RowRecords(
            file=row.file,
            line=row.line,
            event=event,
            claims=claims,
            actors=row_actors,
            locations=[place],
            sources=sources,
        )


def event_key(row: Row) -> str | None:
    """The event id a row names, when it names one (refused rows too)."""
    value = _text(row.cells, "event_id_cnty")
    valid = value is not None and re.fullmatch(r"[A-Za-z]{2,4}[0-9]+", value)
    return f"acled-{value.lower()}" if value is not None and valid else None


def rows(path: Path) -> Iterator[Row]:
    """The data rows of an ACLED CSV export (or of a deletion list), each with the line it
    starts on."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            return
        end = reader.line_num
        for cells in reader:
            yield Row(path.name, end + 1, cells)
            end = reader.line_num


DELETION_COLUMNS = {"event_id_cnty", "deleted_timestamp"}


def is_deletion_list(path: Path) -> bool:
    """Whether this CSV is one of ACLED's deletion lists (`event_id_cnty`,
    `deleted_timestamp`: the ids ACLED withdrew, with the Unix time of each withdrawal)
    rather than an export of events."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    names = {h.strip() for h in header}
    return names >= DELETION_COLUMNS and "event_date" not in names


def deletion(row: Row) -> Deletion:
    """The event a deletion list's row withdraws and when, or RowRefused saying why not."""
    key = event_key(row)
    if key is None:
        raise RowRefused(f"event_id_cnty {_text(row.cells, 'event_id_cnty')!r} is not an ACLED id")
    stamp = _text(row.cells, "deleted_timestamp")
    if stamp is None or not stamp.isdigit():
        raise RowRefused(f"deleted_timestamp {stamp!r} is not a Unix time")
    return Deletion(file=row.file, line=row.line, event_id=key, at=int(stamp))
