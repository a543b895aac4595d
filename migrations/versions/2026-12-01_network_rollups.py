"""network rollups: the events each pair of actors shares, per start day, last day and type;
each actor's events per month and year

Revision ID: 7e3a9c51d2b4
Revises: 9c4b7d2e1f60
Create Date: 2026-12-01 18:00:00

`network_pairs` and `actor_periods` let the network of a date range be read from a few rows
per actor and pair instead of every matching event. Both are versioned like the other
tables a read consults (their twins, and on PostgreSQL their views in `past`); an upgrade
fills them from the events and opens their first versions.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.temporal import PAST_SCHEMA, REGISTRY, postgresql_views
from app.curation import versions
from app.models import HISTORY  # noqa: F401  (declares the twins)

revision: str = "7e3a9c51d2b4"
down_revision: str | None = "9c4b7d2e1f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("network_pairs", "actor_periods")
# The rollups as this revision fills them from the events (app.curation.projections keeps
# them from then on).
PAIRS = """
INSERT INTO network_pairs (source, target, start_date, last_date, event_type, events)
SELECT a.actor_id, b.actor_id, e.start_date, COALESCE(e.last_date, e.start_date), e.event_type,
       count(*)
  FROM actor_events AS a
  JOIN actor_events AS b ON b.event_id = a.event_id AND a.actor_id < b.actor_id
  JOIN events AS e ON e.id = a.event_id
 WHERE e.start_date IS NOT NULL
 GROUP BY a.actor_id, b.actor_id, e.start_date, COALESCE(e.last_date, e.start_date), e.event_type
"""
GRAINS = (("day", "start of day"), ("month", "start of month"), ("year", "start of year"))


def upgrade() -> None:
    op.create_table(
        "network_pairs",
        sa.Column("source", sa.String(120), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("event_type", sa.String(20), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "source",
            "target",
            "start_date",
            "last_date",
            "event_type",
            name=op.f("pk_network_pairs"),
        ),
    )
    op.create_table(
        "actor_periods",
        sa.Column("actor_id", sa.String(120), nullable=False),
        sa.Column("grain", sa.String(5), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("starts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("actor_id", "grain", "period", name=op.f("pk_actor_periods")),
    )
    op.create_index(
        "ix_actor_periods_period", "actor_periods", ["grain", "period", "actor_id", "starts"]
    )
    bind = op.get_bind()
    for name in TABLES:
        REGISTRY[name].history.create(bind)
    if bind.dialect.name == "postgresql":
        for statement in postgresql_views(TABLES):
            op.execute(statement)
    op.execute(PAIRS)
    for grain, sqlite_start in GRAINS:
        first = (
            f"CAST(date_trunc('{grain}', start_date) AS DATE)"
            if bind.dialect.name == "postgresql"
            else f"date(start_date, '{sqlite_start}')"
        )
        op.execute(
            f"INSERT INTO actor_periods (actor_id, grain, period, starts) "
            f"SELECT actor_id, '{grain}', {first}, count(*) FROM actor_events "
            f"WHERE start_date IS NOT NULL GROUP BY actor_id, {first}"
        )
    versions.copy_all(bind, TABLES)


def downgrade() -> None:
    bind = op.get_bind()
    for name in TABLES:
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP VIEW IF EXISTS {PAST_SCHEMA}.{name}")
        REGISTRY[name].history.drop(bind)
    op.drop_index("ix_actor_periods_period", table_name="actor_periods")
    op.drop_table("actor_periods")
    op.drop_table("network_pairs")
