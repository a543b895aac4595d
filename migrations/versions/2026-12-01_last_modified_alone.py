"""last modified alone: whether the data version's second belongs to it alone

Revision ID: 3b1f0c9e7a21
Revises: d02934ff622d
Create Date: 2026-12-01 10:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "3b1f0c9e7a21"
down_revision: str | None = "d02934ff622d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("data_version") as batch:
        batch.add_column(
            sa.Column("changed_alone", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    # An empty database has never changed: its first write is then alone in its second.
    table = sa.table(
        "data_version",
        sa.column("version", sa.BigInteger()),
        sa.column("changed_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        table.update()
        .where(table.c.version == 0)
        .values(changed_at=datetime(1970, 1, 1, tzinfo=UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("data_version") as batch:
        batch.drop_column("changed_alone")
