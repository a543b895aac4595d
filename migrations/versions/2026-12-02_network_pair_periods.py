"""network pair periods: the network rollups' pairs summed per month and per year

Revision ID: 9ce378ae7e85
Revises: 6f2a9d4c8e15
Create Date: 2026-12-02 01:00:00

`network_pair_periods` holds, per pair of actors, month or year of the start day, and event
type, the events starting then with their least start and greatest last day, so the network
of a long range reads whole months and years instead of every day's rows. The upgrade fills
it from `network_pairs` in two set-based statements (months from days, years from months)
(replacing any rows a newer write path left at an older revision) and rebuilds its versions from the day rows' versions: at every moment a day row's version
begins or ends, each touched period's sums at that moment are a version, so a read of the
past gives what it gave before this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.temporal import PAST_SCHEMA, REGISTRY, postgresql_views
from app.models import HISTORY  # noqa: F401  (declares the twins)

revision: str = "9ce378ae7e85"
down_revision: str | None = "6f2a9d4c8e15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "network_pair_periods"
COLUMNS = "source, target, grain, period, event_type, events, first_date, last_date"

# The grains as this revision fills them (app.curation.projections keeps them from then on):
# per grain, the table it is summed from, that table's day and least/greatest day columns,
# and the condition that picks its rows.
LIVE = """
INSERT INTO network_pair_periods ({columns})
SELECT source, target, '{grain}', {period}, event_type, sum(events), min({first}), max(last_date)
  FROM {below} {where}
 GROUP BY source, target, {period}, event_type
"""

# Every moment one of a period's rows below began or ended a version, with the next such
# moment; the period's sums over the versions valid at each moment are its version then.
HISTORY_SQL = """
INSERT INTO network_pair_periods_history ({columns}, valid_from, valid_to)
WITH changes AS (
    SELECT source, target, {period} AS period, event_type, valid_from AS at
      FROM {below}_history {where}
    UNION
    SELECT source, target, {period}, event_type, valid_to
      FROM {below}_history {where_and} valid_to IS NOT NULL
), moments AS (
    SELECT source, target, period, event_type, at,
           lead(at) OVER (PARTITION BY source, target, period, event_type ORDER BY at) AS until
      FROM changes
)
SELECT m.source, m.target, '{grain}', m.period, m.event_type, sum(h.events), min(h.{first}),
       max(h.last_date), m.at, m.until
  FROM moments AS m
  JOIN {below}_history AS h
    ON h.source = m.source AND h.target = m.target AND h.event_type = m.event_type
   AND h.{day} >= m.period AND h.{day} < {after} {h_where}
   AND h.valid_from <= m.at AND (h.valid_to IS NULL OR h.valid_to > m.at)
 GROUP BY m.source, m.target, m.period, m.event_type, m.at, m.until
"""


def _statements(postgresql: bool) -> list[str]:
    def trunc(unit: str, day: str) -> str:
        if postgresql:
            return f"CAST(date_trunc('{unit}', {day}) AS DATE)"
        return f"date({day}, 'start of {unit}')"

    def after(unit: str) -> str:
        if postgresql:
            return f"CAST(m.period + interval '1 {unit}' AS DATE)"
        return f"date(m.period, '+1 {unit}')"

    grains = [
        {
            "grain": "month",
            "period": trunc("month", "start_date"),
            "after": after("month"),
            "below": "network_pairs",
            "day": "start_date",
            "first": "start_date",
            "where": "",
            "where_and": "WHERE",
            "h_where": "",
        },
        {
            "grain": "year",
            "period": trunc("year", "period"),
            "after": after("year"),
            "below": "network_pair_periods",
            "day": "period",
            "first": "first_date",
            "where": "WHERE grain = 'month'",
            "where_and": "WHERE grain = 'month' AND",
            "h_where": "AND h.grain = 'month'",
        },
    ]
    statements = []
    for grain in grains:
        statements.append(LIVE.format(columns=COLUMNS, **grain))
        statements.append(HISTORY_SQL.format(columns=COLUMNS, **grain))
    return statements


def upgrade() -> None:
    bind = op.get_bind()
    # Where absent, and recomputed whole: a database written by this code's write path at an
    # older revision already has the tables (app.core.migrations.add_dataset_columns) and
    # some rows in them.
    if not sa.inspect(bind).has_table(TABLE):
        op.create_table(
            TABLE,
            sa.Column("source", sa.String(120), nullable=False),
            sa.Column("target", sa.String(120), nullable=False),
            sa.Column("grain", sa.String(5), nullable=False),
            sa.Column("period", sa.Date(), nullable=False),
            sa.Column("event_type", sa.String(20), nullable=False),
            sa.Column("events", sa.Integer(), nullable=False),
            sa.Column("first_date", sa.Date(), nullable=False),
            sa.Column("last_date", sa.Date(), nullable=False),
            sa.PrimaryKeyConstraint(
                "source", "target", "grain", "period", "event_type", name=op.f(f"pk_{TABLE}")
            ),
        )
    REGISTRY[TABLE].history.create(bind, checkfirst=True)
    op.execute(f"DELETE FROM {TABLE}_history")
    op.execute(f"DELETE FROM {TABLE}")
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:
        for statement in postgresql_views([TABLE]):
            op.execute(statement)
    for statement in _statements(postgresql):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP VIEW IF EXISTS {PAST_SCHEMA}.{TABLE}")
    REGISTRY[TABLE].history.drop(bind)
    op.drop_table(TABLE)
