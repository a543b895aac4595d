"""timeline rollups

Revision ID: 2c53751bc9e4
Revises: 169de7ff7fa6
Create Date: 2026-11-27 16:12:44.789555
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2c53751bc9e4"
down_revision: str | None = "169de7ff7fa6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Per scope ("*" for every event, else an actor id) and day: dated events starting that day
# and dated events whose last day it is. Kept in step with the application's rebuild.
BACKFILL = """
INSERT INTO timeline_days (scope, day, starts, ends)
SELECT scope, day, sum(starts), sum(ends) FROM (
    SELECT '*' AS scope, start_date AS day, 1 AS starts, 0 AS ends
      FROM events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT '*', last_date, 0, 1
      FROM events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
    UNION ALL
    SELECT actor_id, start_date, 1, 0
      FROM actor_events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT actor_id, last_date, 0, 1
      FROM actor_events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
) AS contributions
GROUP BY scope, day
"""


def upgrade() -> None:
    op.create_table(
        "timeline_days",
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts", sa.Integer(), nullable=False),
        sa.Column("ends", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "day", name=op.f("pk_timeline_days")),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("timeline_days")
