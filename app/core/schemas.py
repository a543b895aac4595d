"""The base every request and response schema shares, and validators used across domains."""

import calendar
import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from app.core.errors import FieldError
from app.core.vocab import Dataset


class Format(StrEnum):
    """Output formats, chosen by `format=` or the Accept header."""

    json = "json"
    csv = "csv"
    ndjson = "ndjson"
    geojson = "geojson"


class Schema(BaseModel):
    """Base of all schemas: reads ORM objects, rejects unknown fields on input, and rejects
    control characters (NUL and the like, which no text of ours holds and PostgreSQL cannot
    store) in any string of a request body."""

    model_config = ConfigDict(
        from_attributes=True,
        extra="forbid",
        json_schema_extra=lambda schema, _: _document_printable(schema),
    )

    @model_validator(mode="before")
    @classmethod
    def _printable(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and not (info.context or {}).get("stored"):
            _check_strings(data, "")
        return data


# The validation context of a document read back from the tables (`model_validate(…,
# context=STORED)`): its strings were checked when it was written, and are not again.
STORED: dict[str, Any] = {"stored": True}


# What `_printable` accepts, said in the JSON Schema of every free-text string.
PRINTABLE = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"


def _document_printable(schema: dict[str, Any]) -> None:
    """Give every free-text string property (no pattern, format or enum of its own) the
    pattern that says control characters other than tab and line breaks are refused."""

    def mark(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(node):
            node["pattern"] = PRINTABLE
        for key in ("anyOf", "oneOf", "allOf"):
            for option in node.get(key, []):
                mark(option)
        mark(node.get("items"))
        if isinstance(node.get("additionalProperties"), dict):
            mark(node["additionalProperties"])

    for prop in schema.get("properties", {}).values():
        mark(prop)


_CONTROL = re.compile(PRINTABLE.replace("^[^", "[").removesuffix("]*$") + "]")


def _check_strings(value: Any, where: str) -> None:
    if isinstance(value, str):
        if _CONTROL.search(value):
            message = "control characters (other than tab and line breaks) are not allowed"
            raise FieldError(where, message) if where else ValueError(message)
    elif isinstance(value, dict):
        for key, item in value.items():
            # Only a string with a control character or a container goes further: a bulk
            # import validates millions of values, nearly all plain.
            if isinstance(item, str) and _CONTROL.search(item) is None:
                continue
            if isinstance(item, str | dict | list):
                _check_strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            if isinstance(item, str) and _CONTROL.search(item) is None:
                continue
            if isinstance(item, str | dict | list):
                _check_strings(item, f"{where}.{n}")


def to_alpha3(value: str) -> str:
    """Normalise an ISO 3166-1 alpha-2 or alpha-3 code (any case) to alpha-3, or raise."""
    code = value.strip().upper()
    country = None
    if len(code) == 3:
        country = pycountry.countries.get(alpha_3=code)
    elif len(code) == 2:
        country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 country code")
    return str(country.alpha_3)


def no_control_characters(value: str) -> str:
    """Reject NUL and other C0 control characters, which no name or text of ours contains."""
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(no_control_characters)]

# The days events, filters and ranges may name: wide enough for any reporting, narrow enough
# that a period or a date bound computed from them never leaves the calendar.
FIRST_DAY, LAST_DAY = date(1000, 1, 1), date(8999, 12, 31)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]

# A day as people write it in a filter: a whole date, a month or a year.
CALENDAR_FORM = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
CALENDAR_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
CALENDAR_WORDS = "a date as YYYY-MM-DD, a month as YYYY-MM or a year as YYYY"


def calendar_day(value: object, *, last: bool) -> object:
    """The day a filter bound names: a date is itself; a month or a year is its first day
    (`last=False`, for where a period starts) or its last (`last=True`, where it ends)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    form = CALENDAR_FORM.fullmatch(text)
    if form is None:
        raise ValueError(
            f"must be {CALENDAR_WORDS}, e.g. 2026-02-05, 2026-02 or 2026; not {text[:40]!r}"
        )
    year, month, day = (int(part) if part else None for part in form.groups())
    assert year is not None
    try:
        if day is not None and month is not None:
            return date(year, month, day)
        if month is not None:
            return date(year, month, calendar.monthrange(year, month)[1] if last else 1)
        return date(year, 12, 31) if last else date(year, 1, 1)
    except ValueError:
        raise ValueError(f"must be a day of the calendar; {text!r} is not") from None


def _from(value: object) -> object:
    return calendar_day(value, last=False)


def _through(value: object) -> object:
    return calendar_day(value, last=True)


_CALENDAR_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": CALENDAR_PATTERN, "examples": ["2026-02-05", "2026-02", "2026"]}
)
# The lower bound of a date filter: 2026-02 and 2026 are from their first day on.
FromDay = Annotated[
    date, BeforeValidator(_from), Field(ge=FIRST_DAY, le=LAST_DAY), _CALENDAR_SCHEMA
]
# The upper bound of a date filter, inclusive: 2026-02 and 2026 run through their last day.
ThroughDay = Annotated[
    date, BeforeValidator(_through), Field(ge=FIRST_DAY, le=LAST_DAY), _CALENDAR_SCHEMA
]

CountryCode = Annotated[
    str,
    AfterValidator(no_control_characters),
    AfterValidator(to_alpha3),
    Field(
        description="ISO 3166-1 alpha-3 country code (alpha-2 accepted on input).",
        examples=["RUS"],
    ),
]

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120),
]
# Names, aliases and tags as the columns that store them allow.
Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Provenance(Schema):
    """Where an imported record comes from: the dataset, its release and the row."""

    dataset: Dataset = Field(description="The dataset the record was imported from.")
    release: str = Field(
        min_length=1,
        max_length=100,
        description="The release or file it was last changed by (`--release`, else the file's "
        "name); a later import that changes nothing leaves it as it is.",
        examples=["ucdp-ged-23.1"],
    )
    row: int = Field(
        ge=1,
        le=2**31 - 1,
        description="Where in that release the record is: the line its row starts on (CSV, "
        "header included) or its position among the results (JSON pages).",
        examples=[2],
    )


PageSize = Annotated[int, Field(ge=1, le=1000)]
# Offsets and lengths as the INTEGER columns that store them allow.
Offset = Annotated[int, Field(ge=0, le=2**31 - 1)]


AS_OF_DESCRIPTION = (
    "Answer with the data as it stood at this moment (RFC 3339 with a UTC offset, e.g. "
    "2026-02-01T00:00:00Z), rebuilt from the change feed."
)


class AsOfQuery(Schema):
    """The point in time every read can be asked at; the base of every query model."""

    @model_validator(mode="before")
    @classmethod
    def _printable(cls, data: Any) -> Any:
        return data  # query parameters are checked one by one (the Text type), naming each

    as_of: datetime | None = Field(
        default=None, description=AS_OF_DESCRIPTION, examples=["2026-02-01T00:00:00Z"]
    )


class PageQuery(AsOfQuery):
    """Paging and output parameters every list endpoint takes."""

    limit: PageSize | Literal["all"] = Field(
        default=50,
        description="Page size, from 1 to the documented maximum (1000 unless the deployment "
        "sets less); or `all` to stream every match in one response (an export: no cursor, "
        "bounded memory), unless the deployment turns exports off.",
    )
    cursor: Text | None = Field(
        default=None, max_length=1000, description="Opaque cursor from `meta.next_cursor`."
    )
    format: Format | None = Field(
        default=None,
        description="Output format: json, csv, ndjson (and geojson for events). Overrides the "
        "Accept header, for links pasted into a browser. Each format is also an operation of "
        "its own at the list's path with the format's extension (`/v1/events.csv`), which a "
        "generated client reads as that format.",
    )
    fields: Text | None = Field(
        default=None,
        max_length=1000,
        description="Comma-separated top-level fields to return (JSON, NDJSON, CSV, and the "
        "properties of GeoJSON features); all when absent.",
        examples=["id,title,start_date"],
    )
