"""Content negotiation and the four output formats: JSON, CSV, NDJSON and GeoJSON.

Every list endpoint renders through here, buffered for a page or streamed for an export, so
the formats, field selection and flattening rules are the same everywhere.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from types import UnionType
from typing import Any, Union, get_args, get_origin

import orjson
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import AppError, InvalidParameter
from app.core.pagination import Count
from app.core.schemas import Format as Format
from app.web.http_cache import http_date, not_modified, stream_etag
from app.web.limits import send_problem
from app.web.state import state_of

MEDIA_TYPES = {
    Format.json: "application/json",
    Format.csv: "text/csv; charset=utf-8",
    Format.ndjson: "application/x-ndjson",
    Format.geojson: "application/geo+json",
}
LIST_FORMATS = frozenset({Format.json, Format.csv, Format.ndjson})
EVENT_FORMATS = LIST_FORMATS | {Format.geojson}


class NotAcceptable(AppError):
    """The Accept header names no format this endpoint produces."""

    status = 406
    type = "/problems/not-acceptable"
    title = "Not acceptable"


def alternative_media(formats: Iterable[Format]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entry listing the non-JSON media types of a 200."""
    content: dict[str, Any] = {
        MEDIA_TYPES[f].split(";")[0]: {} for f in formats if f is not Format.json
    }
    return {200: {"content": content}}


def _accepted(accept: str) -> list[tuple[float, str]]:
    ranked = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranked.append((quality, media.lower()))
    return sorted(ranked, key=lambda item: -item[0])


def negotiate(request: Request, explicit: Format | None, allowed: frozenset[Format]) -> Format:
    """`format=` wins; otherwise the best acceptable media type; JSON when anything goes."""
    request.state.negotiated = True  # NegotiationMiddleware leaves the answer alone
    if explicit is not None:
        if explicit not in allowed:
            choices = ", ".join(sorted(allowed))
            raise InvalidParameter(
                f"format {explicit.value!r} is not offered here; use one of {choices}",
                param="format",
            )
        return explicit
    accept = request.headers.get("accept")
    if not accept:
        return Format.json
    by_media = {MEDIA_TYPES[f].split(";")[0]: f for f in allowed}
    for _, media in _accepted(accept):
        if media in {"*/*", "application/*"}:
            return Format.json
        if media == "text/*" and Format.csv in allowed:
            return Format.csv
        if media in by_media:
            return by_media[media]
    offered = ", ".join(sorted(MEDIA_TYPES[f].split(";")[0] for f in allowed))
    raise NotAcceptable(f"Accept: {accept} matches none of {offered}", param="accept")


def preferred(accept: str, offered: Sequence[str]) -> str | None:
    """The offered media type (`type/subtype`) an Accept header ranks first; the first
    offered when there is no header; None when it takes none of them. XHTML counts as HTML."""
    if not accept.strip():
        return offered[0] if offered else None
    for _, media in _accepted(accept):
        media = "text/html" if media == "application/xhtml+xml" else media
        if media in offered:
            return media
        if media == "*/*":
            return offered[0] if offered else None
        if media.endswith("/*"):
            kind = media.split("/", 1)[0]
            match = next((o for o in offered if o.split("/", 1)[0] == kind), None)
            if match is not None:
                return match
    return None


def acceptable(media: str, accept: str) -> bool:
    """Whether an Accept header takes this media type (`type/subtype`, no parameters)."""
    kind = media.split("/", 1)[0]
    return any(entry in (media, "*/*", f"{kind}/*") for _, entry in _accepted(accept))


class NegotiationMiddleware:
    """Content negotiation on every /v1 route alike: an answer the client's Accept does not
    take is a 406 problem+json.

    Routes that offer several formats negotiate themselves (`negotiate`); every other route
    answers JSON, and its answer is refused here when Accept excludes it. A write is
    refused before its body is read, so that nothing is stored for an answer nobody takes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        accept = Headers(scope=scope).get("accept")
        if not accept:
            await self.app(scope, receive, send)
            return
        if scope["method"] in {"POST", "PUT", "PATCH"}:
            if acceptable("application/json", accept):
                await self.app(scope, receive, send)
            else:
                detail = f"Accept: {accept[:200]} matches none of application/json"
                await send_problem(send, scope, 406, "not-acceptable", detail, "accept")
            return
        if scope["method"] not in {"GET", "HEAD"}:
            await self.app(scope, receive, send)
            return
        refused = False

        async def checked_send(message: Message) -> None:
            nonlocal refused
            if refused:
                return
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                media = Headers(raw=message.get("headers", [])).get("content-type", "")
                media = media.split(";")[0].strip().lower()
                negotiated = scope.get("state", {}).get("negotiated", False)
                if media and not negotiated and not acceptable(media, accept):
                    refused = True
                    what = f"Accept: {accept[:200]} matches none of {media}"
                    await send_problem(send, scope, 406, "not-acceptable", what, "accept")
                    return
            await send(message)

        await self.app(scope, receive, checked_send)


def parse_fields(fields: str | None, allowed: Iterable[str]) -> list[str] | None:
    """The selected top-level fields, in the order given, or None for all; 422 if unknown."""
    if fields is None:
        return None
    names = _field_names(fields)
    known = set(allowed)
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise InvalidParameter(
            f"{_unknown(unknown)}; choose from {', '.join(sorted(known))}", param="fields"
        )
    return list(dict.fromkeys(names))


def _field_names(fields: str) -> list[str]:
    return [name.strip() for name in fields.split(",") if name.strip()]


def _unknown(names: list[str]) -> str:
    if not names:
        return "fields names nothing; give at least one name"
    if len(names) == 1:
        return f"fields names {names[0]!r}, which is not a field here"
    return f"fields names {', '.join(repr(n) for n in names)}, which are not fields here"


def select_fields(
    fields: str | None, model: type[BaseModel], fmt: Format
) -> tuple[list[str] | None, list[str]]:
    """What `fields=` selects: the top-level fields to keep (None for all) and the CSV columns.

    In CSV a name is a field (all its columns: `locations` brings `locations_latitude` and
    the rest) or any one column; in the other formats it is a top-level field. Unknown names
    are a 422 naming `fields`."""
    if fields is None:
        return None, csv_columns(model, None)
    layout = csv_layout(model, None)
    names = _field_names(fields)
    if fmt is not Format.csv:
        columns_only = [n for n in names if n in layout.field_of and n not in model.model_fields]
        if columns_only:
            name = columns_only[0]
            raise InvalidParameter(
                f"fields names {name!r}, a column of the CSV format only; in {fmt.value} ask "
                f"for the field {layout.field_of[name]!r}, or use format=csv",
                param="fields",
            )
        selected = parse_fields(fields, model.model_fields)
        return selected, csv_columns(model, selected)
    unknown = [n for n in names if n not in model.model_fields and n not in layout.field_of]
    if unknown or not names:
        raise InvalidParameter(
            f"{_unknown(unknown)}; in CSV choose fields or columns among "
            f"{', '.join(layout.columns)}",
            param="fields",
        )
    columns: list[str] = []
    for name in names:
        columns += csv_columns(model, [name]) if name in model.model_fields else [name]
    columns = list(dict.fromkeys(columns))
    return list(dict.fromkeys(layout.field_of[column] for column in columns)), columns


def project(item: Mapping[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Keep only the selected fields (all when None)."""
    if fields is None:
        return dict(item)
    return {name: item[name] for name in fields}


def _unwrap(annotation: Any) -> Any:
    """The non-None member of an Optional annotation."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _model_of(annotation: Any) -> type[BaseModel] | None:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


# The companions of a list of records in CSV: beside the column of the records' keys, one
# column per field below, each holding that field of every record, in the same order.
QUANTITY_COLUMNS = ("value", "unit", "qualifier", "low", "high")
RECORD_COLUMNS = ("role", "latitude", "longitude", "precision")


def _record_columns(item: type[BaseModel]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """How a list of `item` records spreads over CSV columns: the path of each record's key,
    and the fields of its companion columns; None when it has no key (written as JSON).

    Quantities are keyed by label, with their value, unit, qualifier and bounds; a record
    pointing at another (an affiliation's organization) by that one's id, with its own
    fields; any other record by its id, with its role or its coordinates and their
    precision."""
    names = list(item.model_fields)
    if "label" in names and "value" in names:
        return ("label",), tuple(c for c in QUANTITY_COLUMNS if c in names)
    for name, info in item.model_fields.items():
        ref = _model_of(info.annotation)
        if ref is not None and "id" in ref.model_fields:
            rest = tuple(
                n
                for n, i in item.model_fields.items()
                if n != name and _model_of(i.annotation) is None
            )
            return (name, "id"), rest
    if "id" in names:
        return ("id",), tuple(c for c in RECORD_COLUMNS if c in names)
    return None


Cell = Callable[[Mapping[str, Any]], Any]


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        # A dict first: the abstract class's check costs several times the exact type's.
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _scalar_cell(path: tuple[str, ...]) -> Cell:
    if len(path) == 1:
        key = path[0]
        return lambda item: _cell(item.get(key))
    return lambda item: _cell(_dig(item, path))


def _joined_cell(path: tuple[str, ...], sub: tuple[str, ...]) -> Cell:
    """The list at `path` joined by ';', each element's `sub` field (the element itself when
    `sub` is empty); an element without it leaves its place empty."""
    if not sub:
        return lambda item: ";".join([_part(v) for v in _dig(item, path) or ()])
    if len(sub) == 1:
        key = sub[0]
        return lambda item: ";".join([_part(r.get(key)) for r in _dig(item, path) or ()])
    return lambda item: ";".join([_part(_dig(r, sub)) for r in _dig(item, path) or ()])


def _json_cell(path: tuple[str, ...]) -> Cell:
    return lambda item: dumps(value) if (value := _dig(item, path)) else ""


@dataclass(frozen=True)
class CsvLayout:
    """The CSV columns of a schema, the top-level field each comes from, and how each cell is
    made from a record in the schema's JSON shape."""

    columns: tuple[str, ...]
    field_of: Mapping[str, str]
    cells: tuple[Cell, ...]

    def row(self, item: Mapping[str, Any]) -> list[Any]:
        """One CSV row, in the layout's column order."""
        return [cell(item) for cell in self.cells]


def _field_layout(
    key: str, annotation: Any, prefix: str, path: tuple[str, ...]
) -> list[tuple[str, Cell]]:
    """The columns one field spreads over, named `prefix + key...`, with their cells."""
    name, where = f"{prefix}{key}", (*path, key)
    annotation = _unwrap(annotation)
    nested = _model_of(annotation)
    if nested is not None:
        return [
            column
            for sub, info in nested.model_fields.items()
            for column in _field_layout(sub, info.annotation, f"{name}_", where)
        ]
    if get_origin(annotation) is dict:
        return [(name, _json_cell(where))]
    if get_origin(annotation) is not list:
        return [(name, _scalar_cell(where))]
    item = _model_of(get_args(annotation)[0])
    if item is None:
        return [(name, _joined_cell(where, ()))]
    spread = _record_columns(item)
    if spread is None:
        return [(name, _json_cell(where))]
    key_path, companions = spread
    return [(name, _joined_cell(where, key_path))] + [
        (f"{name}_{c}", _joined_cell(where, (c,))) for c in companions
    ]


@functools.lru_cache(maxsize=256)
def csv_layout(model: type[BaseModel], columns: tuple[str, ...] | None) -> CsvLayout:
    """The CSV layout of a schema: every column, or those named, in the order named."""
    field_of: dict[str, str] = {}
    cells: dict[str, Cell] = {}
    for field, info in model.model_fields.items():
        for column, cell in _field_layout(field, info.annotation, "", ()):
            field_of[column] = field
            cells[column] = cell
    chosen = tuple(cells) if columns is None else columns
    return CsvLayout(chosen, field_of, tuple(cells[name] for name in chosen))


def csv_lines(model: type[BaseModel], records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each record (in its schema's JSON shape) as one line of a CSV answer with every column
    of `model`, line end included: the lines a stored export concatenates."""
    layout = csv_layout(model, None)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    lines = []
    for record in records:
        writer.writerow(layout.row(record))
        lines.append(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    return lines


def csv_header(model: type[BaseModel]) -> str:
    """The header line of a CSV answer with every column of `model`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(csv_layout(model, None).columns)
    return buffer.getvalue()


def csv_columns(model: type[BaseModel], fields: list[str] | None) -> list[str]:
    """The CSV header of a schema: the columns of its selected fields, in the order asked
    (every field when None), whatever the lists of a row hold."""
    layout = csv_layout(model, None)
    if fields is None:
        return list(layout.columns)
    wanted = set(fields)
    by_field: dict[str, list[str]] = {}
    for column in layout.columns:
        field = layout.field_of[column]
        if field in wanted:
            by_field.setdefault(field, []).append(column)
    return [column for field in fields for column in by_field.get(field, [])]


def _cell(value: Any) -> Any:
    if type(value) is str:  # most cells, first
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _part(value: Any) -> str:
    """One element of a ';'-joined list: `%` and `;` inside it are percent-encoded, so the
    list splits back into exactly its elements."""
    text = str(_cell(value))
    if "%" in text or ";" in text:
        text = text.replace("%", "%25").replace(";", "%3B")
    return text


def flatten(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One flat CSV row from a record without a schema (a statistics row): objects become
    `key_sub` columns, lists of scalars are joined by ';', other lists are JSON."""
    row: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            row |= flatten(value, f"{name}_")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            row[name] = dumps(value)
        elif isinstance(value, list):
            row[name] = ";".join(_part(v) for v in value)
        else:
            row[name] = _cell(value)
    return row


def geometry(item: Mapping[str, Any], allowed_precisions: set[str] | None) -> dict[str, Any] | None:
    """A Point or MultiPoint from an event's located places, or None when it has none."""
    points = [
        [loc["longitude"], loc["latitude"]]
        for loc in item.get("locations") or []
        if loc.get("latitude") is not None
        and (allowed_precisions is None or loc.get("precision") in allowed_precisions)
    ]
    if not points:
        return None
    if len(points) == 1:
        return {"type": "Point", "coordinates": points[0]}
    return {"type": "MultiPoint", "coordinates": points}


def feature(
    item: Mapping[str, Any], geom: dict[str, Any], fields: list[str] | None
) -> dict[str, Any]:
    """A GeoJSON Feature for one event."""
    return {
        "type": "Feature",
        "id": item["id"],
        "geometry": geom,
        "properties": project(item, fields),
    }


def point_collection(
    rows: Sequence[Mapping[str, Any]],
    meta: dict[str, Any],
    excluded: int,
    *,
    key: str,
    lon: str,
    lat: str,
) -> Response:
    """A GeoJSON FeatureCollection of one Point per row (`key` its id, the row its
    properties) for a buffered answer whose rows all have coordinates; `excluded` counts
    what no feature could show, in the header and the meta as every GeoJSON answer has it."""
    features = [
        {
            "type": "Feature",
            "id": row[key],
            "geometry": {"type": "Point", "coordinates": [row[lon], row[lat]]},
            "properties": dict(row),
        }
        for row in rows
    ]
    body = {
        "type": "FeatureCollection",
        "features": features,
        "meta": meta | {"excluded_without_coordinates": excluded},
    }
    headers = {"X-Excluded-Without-Coordinates": str(excluded)}
    return Response(dumps(body), media_type=MEDIA_TYPES[Format.geojson], headers=headers)


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 characters kept as they are (orjson: ~10x the standard module)."""
    return orjson.dumps(value).decode()


def _csv_writer(buffer: io.StringIO, columns: list[str]) -> csv.DictWriter[str]:
    return csv.DictWriter(
        buffer, fieldnames=columns, restval="", extrasaction="ignore", lineterminator="\r\n"
    )


GeoFilter = Callable[[Mapping[str, Any]], dict[str, Any] | None]
# A record to render: a dict in its schema's JSON shape, or that JSON as stored text.
Item = dict[str, Any] | str


def loaded(item: Item) -> dict[str, Any]:
    """An item as a dict (a stored document is parsed)."""
    return orjson.loads(item) if isinstance(item, str) else item


def render(
    fmt: Format,
    items: Sequence[Item],
    meta: dict[str, Any],
    fields: list[str] | None,
    headers: dict[str, str],
    columns: list[str] | None,
    geo: GeoFilter | None = None,
    model: type[BaseModel] | None = None,
) -> Response:
    """Render one page (or one buffered answer) in the chosen format; CSV columns come from
    the schema `model` (the `columns` of it), or from the rows themselves when there is
    none."""
    headers = dict(headers)
    if meta.get("total", len(items)) is not None:
        headers["X-Total-Count"] = str(meta.get("total", len(items)))
    if "count" in meta:
        headers["Preference-Applied"] = f"count={meta['count']}"
    stored = [item for item in items if isinstance(item, str)]
    if fields is None and len(stored) == len(items):
        if fmt is Format.json:
            text = '{"data":[' + ",".join(stored) + '],"meta":' + dumps(meta) + "}"
            return Response(text, media_type=MEDIA_TYPES[fmt], headers=headers)
        if fmt is Format.ndjson:
            text = "".join(item + "\n" for item in stored)
            return Response(text, media_type=MEDIA_TYPES[fmt], headers=headers)
    records = [loaded(item) for item in items]
    if fmt is Format.geojson:
        assert geo is not None
        features = []
        for item in records:
            geom = geo(item)
            if geom is not None:
                features.append(feature(item, geom, fields))
        excluded = len(records) - len(features)
        headers["X-Excluded-Without-Coordinates"] = str(excluded)
        body = {
            "type": "FeatureCollection",
            "features": features,
            "meta": meta | {"excluded_without_coordinates": excluded},
        }
        return Response(dumps(body), media_type=MEDIA_TYPES[fmt], headers=headers)
    if fmt is Format.csv:
        buffer = io.StringIO()
        if model is not None and columns is not None:
            layout = csv_layout(model, tuple(columns))
            plain = csv.writer(buffer, lineterminator="\r\n")
            plain.writerow(layout.columns)
            plain.writerows(layout.row(item) for item in records)
        else:
            rows = [flatten(project(item, fields)) for item in records]
            writer = _csv_writer(buffer, columns or list(dict.fromkeys(k for r in rows for k in r)))
            writer.writeheader()
            writer.writerows(rows)
        return Response(buffer.getvalue(), media_type=MEDIA_TYPES[fmt], headers=headers)
    projected = [project(item, fields) for item in records]
    if fmt is Format.ndjson:
        text = "".join(dumps(row) + "\n" for row in projected)
        return Response(text, media_type=MEDIA_TYPES[fmt], headers=headers)
    return Response(
        dumps({"data": projected, "meta": meta}), media_type=MEDIA_TYPES[fmt], headers=headers
    )


def stream(
    fmt: Format,
    items: Iterator[Item],
    meta: dict[str, Any],
    fields: list[str] | None,
    headers: dict[str, str],
    columns: list[str],
    geo: GeoFilter | None = None,
    model: type[BaseModel] | None = None,
) -> StreamingResponse:
    """Stream a whole result set row by row; memory stays bounded by the batch size. CSV
    rows follow the layout of `model` when given, else they are flattened as they come."""
    headers = dict(headers) | {"X-Total-Count": str(meta.get("total", ""))}
    if "excluded_without_coordinates" in meta:
        headers["X-Excluded-Without-Coordinates"] = str(meta["excluded_without_coordinates"])
    return StreamingResponse(
        _chunks(fmt, items, meta, fields, columns, geo, model),
        media_type=MEDIA_TYPES[fmt],
        headers=headers,
    )


CHUNK_ROWS = 250


def _chunks(
    fmt: Format,
    items: Iterator[Item],
    meta: dict[str, Any],
    fields: list[str] | None,
    columns: list[str],
    geo: GeoFilter | None,
    model: type[BaseModel] | None = None,
) -> Iterator[str]:
    """The body in pieces of CHUNK_ROWS records: each piece is one hop to the worker thread
    that reads the database and one write to the socket, so pieces are few and large."""
    if fmt is Format.csv:
        buffer = io.StringIO()
        if model is not None:
            layout = csv_layout(model, tuple(columns))
            plain = csv.writer(buffer, lineterminator="\r\n")
            plain.writerow(layout.columns)
            for batch in _batched(items):
                plain.writerows([layout.row(loaded(item)) for item in batch])
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
            if buffer.tell():
                yield buffer.getvalue()
            return
        writer = _csv_writer(buffer, columns)
        writer.writeheader()
        for n, item in enumerate(items, start=1):
            writer.writerow(flatten(project(loaded(item), fields)))
            if n % CHUNK_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
        return
    if fmt is Format.ndjson:
        for batch in _batched(items):
            yield "".join([_json(item, fields) + "\n" for item in batch])
        return
    if fmt is Format.geojson:
        assert geo is not None
        yield '{"type":"FeatureCollection","features":['
        sep, excluded = "", 0
        for batch in _batched(items):
            features = []
            for stored in batch:
                item = loaded(stored)
                geom = geo(item)
                if geom is None:
                    excluded += 1
                else:
                    features.append(dumps(feature(item, geom, fields)))
            if features:
                yield sep + ",".join(features)
                sep = ","
        yield '],"meta":' + dumps(meta | {"excluded_without_coordinates": excluded}) + "}"
        return
    yield '{"data":['
    sep = ""
    for batch in _batched(items):
        yield sep + ",".join([_json(item, fields) for item in batch])
        sep = ","
    yield '],"meta":' + dumps(meta) + "}"


LINE_CHUNK = 500  # stored CSV lines per piece of the body (a few hundred bytes each)


def _line_chunks(header: str, lines: Iterator[str]) -> Iterator[str]:
    """A CSV body from stored lines: the header, then the lines joined LINE_CHUNK at a time."""
    yield header
    while chunk := list(islice(lines, LINE_CHUNK)):
        yield "".join(chunk)


def _json(item: Item, fields: list[str] | None) -> str:
    """An item's JSON text: a stored document as it is, unless fields are picked from it."""
    if isinstance(item, str) and fields is None:
        return item
    return dumps(project(loaded(item), fields))


def _batched(items: Iterator[Item]) -> Iterator[list[Item]]:
    while batch := list(islice(items, CHUNK_ROWS)):
        yield batch


PageFetch = Callable[
    [int],
    tuple[Sequence[BaseModel] | Sequence[Item], int | None, str | None, Mapping[str, Any]],
]
ExportFetch = Callable[
    [Format], tuple[int, Mapping[str, Any], Iterator[BaseModel] | Iterator[Item]]
]
# An export's rows as stored CSV lines with every column (see `csv_lines`).
LinesFetch = Callable[[], tuple[int, Mapping[str, Any], Iterator[str]]]


def count_preference(request: Request) -> Count | None:
    """The `count=` of a `Prefer` header (RFC 7240), if it names one we know; a preference
    we do not know is ignored, as the RFC asks."""
    for header in request.headers.getlist("prefer"):
        for token in header.split(","):
            name, _, value = token.strip().partition("=")
            if name.strip().lower() == "count":
                try:
                    return Count(value.strip().strip('"').lower())
                except ValueError:
                    return None
    return None


def check_page_size(request: Request, limit: int | str) -> None:
    """The page size within what this deployment allows (MAX_PAGE_SIZE, EXPORTS)."""
    settings = state_of(request.app).settings
    if limit == "all" and not settings.exports:
        raise InvalidParameter("limit=all is turned off here; page with a cursor", param="limit")
    if isinstance(limit, int) and limit > settings.max_page_size:
        raise InvalidParameter(f"limit is at most {settings.max_page_size}", param="limit")


def list_response(
    request: Request,
    query: Any,
    *,
    model: type[BaseModel],
    allowed: frozenset[Format],
    page: PageFetch,
    export: ExportFetch,
    geo: GeoFilter | None = None,
    csv_export: LinesFetch | None = None,
) -> Response:
    """Answer a list request: a page, or with `limit=all` a streamed export, in any format.
    A CSV export of every column reads stored lines through `csv_export` when there is one."""

    check_page_size(request, query.limit)
    fmt = negotiate(request, query.format, allowed)
    fields, columns = select_fields(query.fields, model, fmt)
    if query.limit == "all":
        if query.cursor is not None:
            raise InvalidParameter("limit=all returns everything; drop the cursor", param="cursor")
        etag = stream_etag(request, MEDIA_TYPES[fmt])
        changed_at = request.state.data_changed_at
        validators = {"ETag": etag}
        if changed_at is not None:
            validators["Last-Modified"] = http_date(changed_at)
        if not_modified(request.headers, etag, changed_at):
            return Response(status_code=304, headers=validators)
        if fmt is Format.csv and fields is None and csv_export is not None:
            total, _, lines = csv_export()
            return StreamingResponse(
                _line_chunks(csv_header(model), lines),
                media_type=MEDIA_TYPES[fmt],
                headers=validators | {"X-Total-Count": str(total)},
            )
        total, extra, rows = export(fmt)
        meta = {"next_cursor": None, "total": total, "limit": None} | dict(extra)
        stream_items = (
            row.model_dump(mode="json") if isinstance(row, BaseModel) else row for row in rows
        )
        return stream(fmt, stream_items, meta, fields, validators, columns, geo, model)
    records, matches, next_cursor, extra = page(query.limit)
    headers = {}
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        headers["Link"] = f'<{url}>; rel="next"'
    meta = {"next_cursor": next_cursor, "total": matches, "limit": query.limit} | dict(extra)
    items = [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in records]
    return render(fmt, items, meta, fields, headers, columns, geo, model)
