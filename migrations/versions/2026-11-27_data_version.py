"""data version

Revision ID: 5774778eae82
Revises: 8ca89ba94718
Create Date: 2026-11-27 13:44:09.827449
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "5774778eae82"
down_revision: str | None = "8ca89ba94718"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_data_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.bulk_insert(
        table, [{"id": 1, "version": 0, "changed_at": datetime.now(UTC).replace(microsecond=0)}]
    )


def downgrade() -> None:
    op.drop_table("data_version")
