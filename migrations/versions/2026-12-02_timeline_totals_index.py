"""timeline totals index: timeline_days' sums read off an index that covers them

Revision ID: 5d1f7a3c9b20
Revises: cb1c85269059
Create Date: 2026-12-02 05:00:00

A list's exact total is a sum over every day of its scope up to the `end` date (the events
started by then less those ended before `start`): `ix_timeline_days_totals` on (scope, day,
starts, ends) answers it from the index alone, without a lookup of each day's row. Its
versions' twin gets the same index with the validity interval after it, as every twin's
indexes follow its live table's (app.core.temporal.versioned). An earlier migration that
makes the twins from the models may have made it already: each is made if missing.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5d1f7a3c9b20"
down_revision: str | None = "cb1c85269059"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["scope", "day", "starts", "ends"]


def upgrade() -> None:
    op.create_index("ix_timeline_days_totals", "timeline_days", COLUMNS, if_not_exists=True)
    op.create_index(
        "hx_ix_timeline_days_totals",
        "timeline_days_history",
        [*COLUMNS, "valid_from", "valid_to"],
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("hx_ix_timeline_days_totals", table_name="timeline_days_history")
    op.drop_index("ix_timeline_days_totals", table_name="timeline_days")
