"""ORM model of a location."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class Location(Base):
    """A place named by reporting; coordinates come from a gazetteer, not from the source."""

    __tablename__ = "locations"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_norm: Mapped[str] = mapped_column(String(300), index=True)
    feature: Mapped[str] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(3), index=True)
    admin_area: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    precision: Mapped[str | None] = mapped_column(String(30))
    gazetteer: Mapped[str | None] = mapped_column(String(100))
    gazetteer_id: Mapped[str | None] = mapped_column(String(40))
