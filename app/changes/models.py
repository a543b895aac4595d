"""ORM model of the data version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class DataVersion(Base):
    """A single row whose counter every write bumps; it lives in the database so that every
    worker and host sharing the database agrees on it."""

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
