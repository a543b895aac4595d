"""GDELT 2.0 event exports (tab-separated, 61 columns, no header; `.CSV` or `.CSV.zip`)
mapped to events, claims, actors, places and sources (docs/datasets.md has the tables).
CAMEO codes map to PLOVER through CAMEO2PLOVER-2021.txt (CC BY-SA 4.0, see data/NOTICE.md).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pycountry

from app.actors.schemas import ActorCreate
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
    SourceKind,
)
from app.curation.datasets.common import (
    Row,
    RowRecords,
    RowRefused,
    States,
    actor,
    citing_claim,
    digest,
    slug,
)
from app.curation.datasets.countries import fips
from app.curation.schemas import ClaimDoc, SourceDoc
from app.events.schemas import EventActorCreate, EventDoc
from app.locations.schemas import LocationCreate

COLUMNS = (
    "GLOBALEVENTID",
    "SQLDATE",
    "MonthYear",
    "Year",
    "FractionDate",
    "Actor1Code",
    "Actor1Name",
    "Actor1CountryCode",
    "Actor1KnownGroupCode",
    "Actor1EthnicCode",
    "Actor1Religion1Code",
    "Actor1Religion2Code",
    "Actor1Type1Code",
    "Actor1Type2Code",
    "Actor1Type3Code",
    "Actor2Code",
    "Actor2Name",
    "Actor2CountryCode",
    "Actor2KnownGroupCode",
    "Actor2EthnicCode",
    "Actor2Religion1Code",
    "Actor2Religion2Code",
    "Actor2Type1Code",
    "Actor2Type2Code",
    "Actor2Type3Code",
    "IsRootEvent",
    "EventCode",
    "EventBaseCode",
    "EventRootCode",
    "QuadClass",
    "GoldsteinScale",
    "NumMentions",
    "NumSources",
    "NumArticles",
    "AvgTone",
    "Actor1Geo_Type",
    "Actor1Geo_FullName",
    "Actor1Geo_CountryCode",
    "Actor1Geo_ADM1Code",
    "Actor1Geo_ADM2Code",
    "Actor1Geo_Lat",
    "Actor1Geo_Long",
    "Actor1Geo_FeatureID",
    "Actor2Geo_Type",
    "Actor2Geo_FullName",
    "Actor2Geo_CountryCode",
    "Actor2Geo_ADM1Code",
    "Actor2Geo_ADM2Code",
    "Actor2Geo_Lat",
    "Actor2Geo_Long",
    "Actor2Geo_FeatureID",
    "ActionGeo_Type",
    "ActionGeo_FullName",
    "ActionGeo_CountryCode",
    "ActionGeo_ADM1Code",
    "ActionGeo_ADM2Code",
    "ActionGeo_Lat",
    "ActionGeo_Long",
    "ActionGeo_FeatureID",
    "DATEADDED",
    "SOURCEURL",
)
assert len(COLUMNS) == 61

SOURCE_ID = "gdelt"
GAZETTEER = "GDELT 2.0"
SOURCE = SourceDoc(
    id=SOURCE_ID,
    kind=SourceKind.report,
    title="The GDELT Project: GDELT 2.0 Event Database",
    publisher="The GDELT Project",
    url="https://www.gdeltproject.org/",
    published_date_precision=DatePrecision.unknown,
    language="en",
    description="Events coded by machine from news coverage worldwide, every 15 minutes "
    "(free for any use with attribution: The GDELT Project, gdeltproject.org).",
)
TABLE = Path(__file__).parent / "data" / "CAMEO2PLOVER-2021.txt"

# ActionGeo_Type → what the place is and what its coordinates stand for (1, 2 and 5 are
# centroids).
GEO_TYPES = {
    "1": (LocationFeature.country, CoordinatePrecision.country_centroid),
    "2": (LocationFeature.region, CoordinatePrecision.region_centroid),
    "3": (LocationFeature.city, CoordinatePrecision.city),
    "4": (LocationFeature.city, CoordinatePrecision.city),
    "5": (LocationFeature.region, CoordinatePrecision.region_centroid),
}
# CAMEO actor types that make an actor part of its country's state.
STATE_TYPES = {"GOV", "MIL", "COP", "JUD", "LEG", "SPY"}
ACTORS_KEPT = 20_000  # distinct actor cells a mapper remembers (a few KiB each)
COVERAGE = ("NumMentions", "NumSources", "NumArticles", "AvgTone", "GoldsteinScale")
CODES = ("EventCode", "EventBaseCode", "EventRootCode", "QuadClass", "IsRootEvent")


@dataclass(frozen=True)
class Plover:
    """A PLOVER 0.8 category with its mode and context, as the table gives a CAMEO code."""

    event: str
    mode: str | None
    context: str | None


@cache
def cameo_table() -> dict[str, Plover]:
    """CAMEO2PLOVER-2021.txt: `CODE: EVENT, mode, context # description`, by code."""
    table = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        body = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"(\d{2,4}):\s*(.*)", body)
        if match is None:
            continue
        parts = [p.strip() for p in match.group(2).split(",")]
        parts += [""] * (3 - len(parts))
        table[match.group(1)] = Plover(parts[0], parts[1] or None, parts[2] or None)
    return table


def plover(code: str) -> tuple[EventType, Plover, str]:
    """The vocabulary's type of a CAMEO code (the code itself, else its base and root code
    in the table), the table's entry and the code it was found under."""
    table = cameo_table()
    for key in (code, code[:3], code[:2]):
        entry = table.get(key)
        if entry is not None:
            return vocabulary_type(entry), entry, key
    raise RowRefused(
        f"EventCode {code!r} has no PLOVER category in CAMEO2PLOVER-2021 (PLOVER does not "
        "code CAMEO's 01 public statements and 02 appeals)"
    )


def vocabulary_type(entry: Plover) -> EventType:
    """PLOVER 0.8's category in the vocabulary's terms (docs/datasets.md)."""
    if entry.event == "ASSAULT":
        return EventType.FIGHT if "military" in (entry.context or "") else EventType.ASSAULT
    if entry.event == "ACCUSE":
        return EventType.INVESTIGATE if entry.mode == "investigate" else EventType.DISAPPROVE
    if entry.event == "REQUEST":
        return EventType.DEMAND
    return EventType(entry.event)


def _text(cells: dict[str, Any], name: str) -> str | None:
    value = cells.get(name)
    value = None if value is None else str(value).strip()
    return value or None


def _required(cells: dict[str, Any], name: str) -> str:
    value = _text(cells, name)
    if value is None:
        raise RowRefused(f"{name} is empty")
    return value


def _number(cells: dict[str, Any], name: str) -> float | None:
    value = _text(cells, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise RowRefused(f"{name} {value!r} is not a number") from None


def _iso(code: str | None) -> str | None:
    """A CAMEO country code (GDELT's actor country) as ISO alpha-3, when it is one."""
    if code is None or len(code) != 3:
        return None
    found = pycountry.countries.get(alpha_3=code)
    return None if found is None else str(found.alpha_3)


class Mapper:
    """Maps GDELT 2.0 export rows to records; holds the state actors met so far."""

    def __init__(self, states: States, release: str) -> None:
        self.states = states
        self.release = release
        # The actors of the cells that make one, as (id, records a row gives): GDELT names
        # the same few thousand actors in row after row, each validated once (bounded).
        self.actors: dict[tuple[str | None, ...], tuple[str | None, list[ActorCreate]]] = {}

    def _actor(self, cells: dict[str, Any], n: int, row_actors: list[ActorCreate]) -> str | None:
        """One actor per GDELT actor code and name; an unnamed actor stays unnamed (none)."""
        key = tuple(
            _text(cells, f"Actor{n}{part}")
            for part in ("Name", "Code", "CountryCode", "Type1Code", "Type2Code", "Type3Code")
        )
        if key not in self.actors:
            if len(self.actors) >= ACTORS_KEPT:
                self.actors.clear()
            made: list[ActorCreate] = []
            self.actors[key] = (self._new_actor(cells, n, made), made)
        actor_id, made = self.actors[key]
        row_actors.extend(made)
        return actor_id

    def _new_actor(
        self, cells: dict[str, Any], n: int, row_actors: list[ActorCreate]
    ) -> str | None:
        name = _text(cells, f"Actor{n}Name")
        code = _text(cells, f"Actor{n}Code") or ""
        if name is None:
            return None
        country = _iso(_text(cells, f"Actor{n}CountryCode"))
        types = {_text(cells, f"Actor{n}Type{k}Code") for k in (1, 2, 3)}
        bare_state = country is not None and code == country
        links = []
        if country is not None and (bare_state or types & STATE_TYPES):
            state_id, made = self.states.of(country)
            links.append(state_id)
            if made is not None:
                row_actors.append(made)
        kind = (
            ActorKind.state
            if bare_state
            else ActorKind.organization
            if types & STATE_TYPES
            else ActorKind.group
        )
        actor_id = f"gdelt-actor-{slug(code or 'x', 30)}-{slug(name, 40)}-{digest(code, name)[:6]}"
        row_actors.append(
            actor(
                actor_id,
                name.title()[:300],
                kind,
                aliases=[name[:300], *([f"GDELT {code}"] if code else [])],
                country=country,
                states=links,
                description="An actor of GDELT 2.0 (its CAMEO actor code and name).",
            )
        )
        return actor_id

    def __call__(self, row: Row) -> RowRecords:
        """The records of one GDELT row; RowRefused says why it cannot be mapped."""
        cells = row.cells
        if len(cells) != len(COLUMNS):
            raise RowRefused(f"the row has {len(cells)} columns, not GDELT 2.0's 61")
        gdelt_id = _required(cells, "GLOBALEVENTID")
        if not gdelt_id.isdigit():
            raise RowRefused(f"GLOBALEVENTID {gdelt_id!r} is not a number")
        sqldate = _required(cells, "SQLDATE")
        try:
            day = datetime.strptime(sqldate, "%Y%m%d").date()
        except ValueError:
            raise RowRefused(f"SQLDATE {sqldate!r} is not a date (YYYYMMDD)") from None
        code = _required(cells, "EventCode")
        if not re.fullmatch(r"\d{2,4}", code):
            raise RowRefused(f"EventCode {code!r} is not a CAMEO code")
        event_type, entry, found_as = plover(code)
        provenance = Provenance(dataset=Dataset.gdelt, release=self.release, row=row.line)
        row_actors: list[ActorCreate] = []
        links = []
        for n, role in ((1, ActorRole.initiator), (2, ActorRole.target)):
            actor_id = self._actor(cells, n, row_actors)
            if actor_id is not None:
                links.append(EventActorCreate(actor=actor_id, role=role))
        places = []
        geo_type = _text(cells, "ActionGeo_Type") or "0"
        if geo_type in GEO_TYPES:
            feature, coordinates = GEO_TYPES[geo_type]
            name = _required(cells, "ActionGeo_FullName")
            latitude, longitude = (
                _number(cells, "ActionGeo_Lat"),
                _number(cells, "ActionGeo_Long"),
            )
            if latitude is None or longitude is None:
                raise RowRefused("ActionGeo_Lat and ActionGeo_Long are needed with a place")
            places.append(
                LocationCreate(
                    id=f"gdelt-place-{digest(name, latitude, longitude, geo_type)}",
                    name=name[:300],
                    country=fips(_text(cells, "ActionGeo_CountryCode")),
                    admin_area=_text(cells, "ActionGeo_ADM1Code"),
                    feature=feature,
                    latitude=latitude,
                    longitude=longitude,
                    precision=coordinates,
                    coordinates_from=GAZETTEER,
                )
            )
        elif geo_type != "0":
            raise RowRefused(f"ActionGeo_Type {geo_type!r} is not 0 to 5")
        attributes: dict[str, Any] = {name: _text(cells, name) for name in CODES}
        for name in COVERAGE:
            value = _number(cells, name)
            counted = name.startswith("Num") and value is not None and value.is_integer()
            attributes[name] = int(value) if counted and value is not None else value
        attributes |= {
            "plover_version": "0.8",
            "plover_event": entry.event,
            "plover_mode": entry.mode,
            "plover_context": entry.context,
            "plover_from_code": found_as,
            "ActionGeo_Type": geo_type,
            "ActionGeo_CountryCode": _text(cells, "ActionGeo_CountryCode"),
            "ActionGeo_FeatureID": _text(cells, "ActionGeo_FeatureID"),
            "DATEADDED": _text(cells, "DATEADDED"),
            "coverage_note": "NumMentions, NumSources, NumArticles and AvgTone cover the first "
            "15 minutes of coverage; GoldsteinScale is set per event type",
        }
        for n in (1, 2):
            attributes[f"Actor{n}Code"] = _text(cells, f"Actor{n}Code")
        event_id = f"gdelt-{gdelt_id}"
        names = [a.name for a in row_actors if a.id in {link.actor for link in links}]
        event = EventDoc(
            id=event_id,
            title=f"CAMEO {code}: " + (" / ".join(names) or "unnamed actors"),
            summary=None,
            event_type=event_type,
            status=EventStatus.occurred,
            start_date=day,
            end_date=None,
            date_precision=DatePrecision.day,
            date_note="GDELT SQLDATE: the day of the event as coded.",
            actors=links,
            locations=[p.id for p in places],
            provenance=provenance,
            attributes={k: v for k, v in attributes.items() if v is not None},
        )
        claims = [
            ClaimDoc(
                id=f"{event_id}-gdelt",
                statement=f"GDELT 2.0 codes CAMEO event {code} on {day}.",
                hedging=Hedging.reported,
                evidence=None,
                provenance=provenance,
                source_id=SOURCE_ID,
                event_id=event_id,
            )
        ]
        sources = [SOURCE]
        url = _text(cells, "SOURCEURL")
        if url is not None:
            article = SourceDoc(
                id=f"gdelt-source-{digest(url)}",
                kind=SourceKind.news_article,
                url=url,
                published_date_precision=DatePrecision.unknown,
                description="The first article GDELT saw for its events (SOURCEURL).",
            )
            sources.append(article)
            claims.append(
                citing_claim(
                    f"{event_id}-article",
                    "Reports this event, as GDELT's SOURCEURL says.",
                    article,
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
            locations=places,
            sources=sources,
        )


def event_key(row: Row) -> str | None:
    """The event id a row names, when it names one (refused rows too)."""
    value = _text(row.cells, "GLOBALEVENTID")
    return f"gdelt-{value}" if value is not None and value.isdigit() else None


def _lines(path: Path) -> Iterator[Any]:
    if path.name.lower().endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise ValueError(f"{path.name} holds {len(members)} files, not one export")
            with archive.open(members[0]) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
    else:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            yield fh


def rows(path: Path) -> Iterator[Row]:
    """The rows of a GDELT 2.0 export (no header: line n is row n), streamed."""
    for fh in _lines(path):
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        for n, cells in enumerate(reader, start=1):
            mapped = dict(zip(COLUMNS, cells, strict=False))
            if len(cells) != len(COLUMNS):
                mapped = {f"column {i}": v for i, v in enumerate(cells)}
            yield Row(path.name, n, mapped)
