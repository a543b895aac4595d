"""event documents: each event's list item and detail, stored as JSON text

Revision ID: 5e7d2a41c0b8
Revises: 3b1f0c9e7a21
Create Date: 2026-12-01 12:20:00

The documents are derived data. An upgrade of a database that already holds events fills
them with the application's projector, the one the write path uses, so they come out exactly
as a write would have left them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.curation import projections

revision: str = "5e7d2a41c0b8"
down_revision: str | None = "3b1f0c9e7a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_documents",
        sa.Column("event_id", sa.String(length=160), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_documents_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_documents")),
    )
    projections.project_all(op.get_bind())


def downgrade() -> None:
    op.drop_table("event_documents")
