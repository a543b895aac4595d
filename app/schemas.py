"""The base every request and response schema shares, and validators used across domains."""

from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


class Schema(BaseModel):
    """Base of all schemas: reads ORM objects, rejects unknown fields on input."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")


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
    StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=160),
]


class PageQuery(Schema):
    """Paging parameters every list endpoint takes."""

    limit: int = Field(default=50, ge=1, le=1000, description="Page size, 1 to 1000.")
    cursor: Text | None = Field(
        default=None, max_length=1000, description="Opaque cursor from `meta.next_cursor`."
    )
