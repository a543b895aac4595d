"""UCDP GED: its CSV download and its API's JSON pages, mapped to events, claims, actors,
places and sources (docs/datasets.md has the tables)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
    Row,
    RowRecords,
    RowRefused,
    States,
    actor,
    citing_claim,
    digest,
)
from app.curation.datasets.common import cell_text as _text
from app.curation.datasets.common import required_cell as _required
from app.curation.datasets.countries import gleditsch_ward
from app.curation.schemas import ClaimDoc, SourceDoc
from app.events.schemas import EventActorCreate, EventDoc
from app.locations.schemas import LocationCreate

SOURCE_ID = "ucdp-ged"
GAZETTEER = "UCDP GED"
SOURCE = SourceDoc(
    id=SOURCE_ID,
    kind=SourceKind.report,
    title="UCDP Georeferenced Event Dataset (GED)",
    publisher="Uppsala Conflict Data Program",
    url="https://ucdp.uu.se/downloads/",
    published_date_precision=DatePrecision.unknown,
    language="en",
    description="Events of organised violence with at least one death, coded by UCDP from "
    "news and reports (CC BY 4.0). Cite: Sundberg & Melander (2013), Journal of Peace "
    "Research 50(4); Davies, Pettersson & Öberg (2023).",
)

# type_of_violence → PLOVER (the vocabulary's FIGHT is PLOVER 0.8's ASSAULT in a military
# context; one-sided violence against civilians is ASSAULT).
TYPES = {
    "1": (EventType.FIGHT, "state-based conflict"),
    "2": (EventType.FIGHT, "non-state conflict"),
    "3": (EventType.ASSAULT, "one-sided violence"),
}
DATE_PRECISION = {
    "1": (DatePrecision.day, "the exact day is known"),
    "2": (DatePrecision.approximate, "the event falls within 2 to 6 days"),
    "3": (DatePrecision.approximate, "only the week is known"),
    "4": (DatePrecision.approximate, "within 8 to 30 days, or only the month, is known"),
    "5": (DatePrecision.approximate, "only a period of more than a month is known"),
}
# where_prec → what the place is, and what its coordinates stand for.
WHERE_PRECISION = {
    "1": (LocationFeature.city, CoordinatePrecision.point),
    "2": (LocationFeature.city, CoordinatePrecision.city),
    "3": (LocationFeature.region, CoordinatePrecision.region),
    "4": (LocationFeature.region, CoordinatePrecision.region_centroid),
    "5": (LocationFeature.other, CoordinatePrecision.region),
    "6": (LocationFeature.country, CoordinatePrecision.country_centroid),
    "7": (LocationFeature.other, CoordinatePrecision.region),
}
PARTIES = (
    ("deaths_a", "deaths: side A"),
    ("deaths_b", "deaths: side B"),
    ("deaths_civilians", "deaths: civilians"),
    ("deaths_unknown", "deaths: unknown"),
)
ATTRIBUTES = (
    "relid",
    "code_status",
    "type_of_violence",
    "conflict_new_id",
    "conflict_name",
    "dyad_new_id",
    "dyad_name",
    "number_of_sources",
    "source_original",
    "where_prec",
    "where_description",
    "adm_2",
    "priogrid_gid",
    "event_clarity",
    "date_prec",
    "active_year",
)


def _day(cells: dict[str, Any], name: str) -> date:
    """A UCDP date: `YYYY-MM-DD HH:MM:SS.000` (CSV) or `YYYY-MM-DDTHH:MM:SS` (API)."""
    value = _required(cells, name)
    try:
        return datetime.fromisoformat(value.replace(" ", "T")).date()
    except ValueError:
        raise RowRefused(f"{name} {value!r} is not a date") from None


def _count(cells: dict[str, Any], name: str) -> int | None:
    value = _text(cells, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise RowRefused(f"{name} {value!r} is not a number") from None
    if not number.is_integer() or number < 0:
        raise RowRefused(f"{name} {value!r} is not a count of deaths")
    return int(number)


def _coordinate(cells: dict[str, Any], name: str) -> float:
    value = _required(cells, name)
    try:
        return float(value)
    except ValueError:
        raise RowRefused(f"{name} {value!r} is not a number") from None


def citations(cell: str | None) -> list[str]:
    """The citations of a `source_article` cell: joined by `;`, each usually in double
    quotes (a `;` inside quotes belongs to the citation)."""
    if not cell:
        return []
    parts = next(csv.reader([cell.replace("\r", " ").replace("\n", " ")], delimiter=";"))
    found = [" ".join(p.replace('"', " ").split()) for p in parts]
    return list(dict.fromkeys(p for p in found if p))


def _states(states: States, cell: str | None, row_actors: list[ActorCreate]) -> list[str]:
    ids = []
    for code in re.split(r"[,\s]+", cell or ""):
        iso = gleditsch_ward(code)
        if iso is None:
            continue
        state_id, made = states.of(iso)
        ids.append(state_id)
        if made is not None:
            row_actors.append(made)
    return ids


def _side(cells: dict[str, Any], side: str, states: States, row_actors: list[ActorCreate]) -> str:
    """The actor of side `a` or `b`: one per `side_<x>_new_id`, its UCDP spelling and id
    kept as aliases; a government is linked to its state(s) (`gwno<x>`)."""
    name = _required(cells, f"side_{side}")
    new_id = _required(cells, f"side_{side}_new_id")
    if not new_id.isdigit():
        raise RowRefused(f"side_{side}_new_id {new_id!r} is not a UCDP actor id")
    government = name.startswith("Government of")
    links = _states(states, _text(cells, f"gwno{side}"), row_actors) if government else []
    kind = ActorKind.organization if government else ActorKind.group
    if name == "Civilians":
        kind = ActorKind.group
    row_actors.append(
        actor(
            f"ucdp-actor-{new_id}",
            name,
            kind,
            aliases=[name, f"UCDP actor {new_id}"],
            states=links,
            description="An actor of the UCDP Georeferenced Event Dataset."
            + (" A government: linked to its state." if government else ""),
        )
    )
    return f"ucdp-actor-{new_id}"


class Mapper:
    """Maps UCDP GED rows (CSV or API) to records; holds the state actors met so far."""

    def __init__(self, states: States, release: str) -> None:
        self.states = states
        self.release = release

    def __call__(self, row: Row) -> RowRecords:
        """The records of one UCDP GED row; RowRefused says why it cannot be mapped."""
        cells = row.cells
        ged_id = _required(cells, "id")
        if not ged_id.isdigit():
            raise RowRefused(f"id {ged_id!r} is not a UCDP GED event id")
        violence = _required(cells, "type_of_violence")
        if violence not in TYPES:
            raise RowRefused(f"type_of_violence {violence!r} is not 1, 2 or 3")
        event_type, violence_words = TYPES[violence]
        prec = _required(cells, "date_prec")
        if prec not in DATE_PRECISION:
            raise RowRefused(f"date_prec {prec!r} is not 1 to 5")
        start, end = _day(cells, "date_start"), _day(cells, "date_end")
        if end < start:
            raise RowRefused(f"date_end ({end}) is before date_start ({start})")
        where = _required(cells, "where_prec")
        if where not in WHERE_PRECISION:
            raise RowRefused(f"where_prec {where!r} is not 1 to 7")
        best, low, high = (_count(cells, n) for n in ("best", "low", "high"))
        if best is None:
            raise RowRefused("best is empty")
        # low above high gives no interval: the best figure stands alone, and the bounds
        # stay in the attributes as published.
        coherent = low is None or high is None or low <= high
        provenance = Provenance(dataset=Dataset.ucdp, release=self.release, row=row.line)
        row_actors: list[ActorCreate] = []
        side_a = _side(cells, "a", self.states, row_actors)
        side_b = _side(cells, "b", self.states, row_actors)
        one_sided = violence == "3"
        roles = (
            (ActorRole.initiator, ActorRole.target)
            if one_sided
            else (ActorRole.participant, ActorRole.participant)
        )
        place_name = _text(cells, "where_coordinates") or _required(cells, "country")
        feature, coordinates = WHERE_PRECISION[where]
        latitude, longitude = _coordinate(cells, "latitude"), _coordinate(cells, "longitude")
        country = gleditsch_ward(_text(cells, "country_id"))
        place = LocationCreate(
            id=f"ucdp-place-{digest(place_name, latitude, longitude, where)}",
            name=place_name[:300],
            country=country,
            admin_area=_text(cells, "adm_1"),
            feature=feature,
            latitude=latitude,
            longitude=longitude,
            precision=coordinates,
            coordinates_from=GAZETTEER,
        )
        precision, prec_words = DATE_PRECISION[prec]
        attributes: dict[str, Any] = {name: _text(cells, name) for name in ATTRIBUTES}
        attributes["country_id"] = _text(cells, "country_id")
        if not coherent:
            attributes |= {"low": low, "high": high}
            attributes["figures_note"] = (
                f"low ({low}) is above high ({high}) as UCDP publishes them: the deaths "
                "figure is given without bounds"
            )
        elif (low is not None and low > best) or (high is not None and high < best):
            attributes["figures_note"] = (
                f"best ({best}) lies outside low-high ({low}-{high}), as UCDP publishes it"
            )
        event_id = f"ucdp-{ged_id}"
        event = EventDoc(
            id=event_id,
            title=f"{_required(cells, 'dyad_name')} in {place_name}"[:500],
            summary=None,
            event_type=event_type,
            status=EventStatus.occurred,
            start_date=start,
            end_date=end if end != start else None,
            date_precision=precision,
            date_note=f"UCDP date_prec {prec}: {prec_words}; the event lies between "
            f"date_start {start} and date_end {end}.",
            actors=[
                EventActorCreate(actor=side_a, role=roles[0]),
                EventActorCreate(actor=side_b, role=roles[1]),
            ],
            locations=[place.id],
            provenance=provenance,
            attributes={k: v for k, v in attributes.items() if v is not None},
        )
        figures = [
            QuantityCreate(
                label="deaths",
                value=best,
                unit="people",
                qualifier=Qualifier.estimate if coherent else Qualifier.approximately,
                low=low if coherent else None,
                high=high if coherent else None,
                as_reported=f"best {best}, low {low}, high {high}",
            )
        ]
        for column, label in PARTIES:
            value = _count(cells, column)
            if value is not None:
                figures.append(
                    QuantityCreate(
                        label=label,
                        value=value,
                        unit="people",
                        qualifier=Qualifier.approximately,
                        as_reported=str(value),
                    )
                )
        claims = [
            ClaimDoc(
                id=f"{event_id}-ged",
                statement=f"UCDP GED records {violence_words} between "
                f"{_required(cells, 'side_a')} and {_required(cells, 'side_b')} in "
                f"{place_name}, with {best} deaths as its best estimate "
                f"(low {low}, high {high}).",
                hedging=Hedging.reported,
                evidence=None,
                quantities=figures,
                provenance=provenance,
                source_id=SOURCE_ID,
                event_id=event_id,
            )
        ]
        sources = [SOURCE]
        for n, citation in enumerate(citations(_text(cells, "source_article")), start=1):
            cited = SourceDoc(
                id=f"ucdp-cited-{digest(citation)}",
                kind=SourceKind.other,
                title=citation,
                published_date_precision=DatePrecision.unknown,
                description="A source UCDP GED cites for its events (source_article).",
            )
            sources.append(cited)
            claims.append(
                citing_claim(
                    f"{event_id}-cited-{n}",
                    "Reports this event, as UCDP GED's citation of it says.",
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
    value = _text(row.cells, "id")
    return f"ucdp-{value}" if value is not None and value.isdigit() else None


def csv_rows(path: Path) -> Iterator[Row]:
    """The data rows of a UCDP GED CSV download, each with the line it starts on."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            return
        end = reader.line_num  # the header's last line
        for cells in reader:
            yield Row(path.name, end + 1, cells)
            end = reader.line_num


def json_rows(path: Path) -> Iterator[Row]:
    """The results of a page of UCDP's API (`{"TotalCount", …, "Result": [...]}`), each
    with its position in the page."""
    with path.open(encoding="utf-8") as fh:
        page = json.load(fh)
    results = page.get("Result") if isinstance(page, dict) else None
    if not isinstance(results, list):
        raise ValueError(f"{path.name} is not a page of UCDP's API: it has no Result list")
    for n, cells in enumerate(results, start=1):
        if isinstance(cells, dict):
            yield Row(path.name, n, {k: "" if v is None else v for k, v in cells.items()})
        else:
            yield Row(path.name, n, {})


def rows(path: Path) -> Iterator[Row]:
    """The rows of a UCDP file: JSON pages by their content, CSV otherwise."""
    with path.open("rb") as fh:
        head = fh.read(64).lstrip()
    return json_rows(path) if head.startswith(b"{") else csv_rows(path)
