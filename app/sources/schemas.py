"""Pydantic schemas of sources."""

from datetime import date, datetime

from pydantic import Field

from app.core.pagination import Page
from app.core.schemas import Offset, Schema, Slug
from app.core.vocab import DatePrecision, SourceKind


class SourceBase(Schema):
    """Fields a source has on the way in and out."""

    kind: SourceKind = Field(description="What sort of document.", examples=["news_article"])
    title: str | None = Field(default=None, description="Headline or title; null when it has none.")
    publisher: str | None = Field(
        default=None, max_length=300, description="Who published it; null if unknown."
    )
    url: str | None = Field(default=None, description="Where it was published; null if unknown.")
    author: str | None = Field(default=None, max_length=300, description="Byline; null if unknown.")
    published_date: date | None = Field(
        default=None, description="Publication date; null if unknown."
    )
    published_date_precision: DatePrecision = Field(
        description="How precisely the publication date is known.", examples=["unknown"]
    )
    language: str | None = Field(
        default=None, max_length=20, description="BCP 47 language tag.", examples=["en"]
    )
    sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 (hex) of the UTF-8 text that evidence offsets point into.",
        examples=["ba2b3a05f9875c957a2f14f2419b51dcd3cc5028c713b343a1a68458fd6706dd"],
    )
    retrieved_at: datetime | None = Field(
        default=None, description="When the text was retrieved (RFC 3339); null if unknown."
    )
    description: str | None = Field(default=None, description="What the document is, briefly.")


class SourceCreate(SourceBase):
    """A source as written in a seed or ingest bundle."""

    id: Slug = Field(description="Stable slug of the source.", examples=["putin-roundup-article"])
    text_length: Offset | None = Field(
        default=None, description="Length of the text in characters, when known."
    )


class SourceRead(SourceBase):
    """A source document."""

    id: str = Field(description="Stable slug of the source.", examples=["putin-roundup-article"])
    text_length: int | None = Field(
        description="Length in Python str characters (Unicode code points) of the text."
    )
    claim_count: int = Field(default=0, description="How many claims cite this source.")
    created_at: datetime = Field(description="When the record was created (UTC).")
    updated_at: datetime = Field(description="When the record last changed (UTC).")


class SourcePage(Page[SourceRead]):
    """A page of sources."""
