"""actor events index

Revision ID: 08b17f308869
Revises: 5774778eae82
Create Date: 2026-11-27 13:59:56.688746
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op




revision: str = '08b17f308869'
down_revision: str | None = '5774778eae82'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('actor_events',
    sa.Column('actor_id', sa.String(length=120), nullable=False),
    sa.Column('event_id', sa.String(length=160), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('last_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_actor_events_actor_id_actors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_actor_events_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id', 'event_id', name=op.f('pk_actor_events'))
    )
    with op.batch_alter_table('actor_events', schema=None) as batch_op:
        batch_op.create_index('ix_actor_events_actor_date', ['actor_id', 'start_date', 'event_id', 'last_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_actor_events_event_id'), ['event_id'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('span_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_date', sa.Date(), nullable=True))
        batch_op.create_index('ix_events_span_days', ['span_days'], unique=False)
        batch_op.create_index('ix_events_last_date_start_date', ['last_date', 'start_date'], unique=False)

    # Backfill the derived columns from what is there.
    if op.get_bind().dialect.name == "sqlite":
        span = "CAST(julianday(end_date) - julianday(start_date) AS INTEGER)"
    else:
        span = "end_date - start_date"
    op.execute(
        f"UPDATE events SET span_days = {span} "
        "WHERE start_date IS NOT NULL AND end_date IS NOT NULL"
    )
    op.execute(
        "UPDATE events SET span_days = 0 WHERE start_date IS NOT NULL AND end_date IS NULL"
    )
    op.execute(
        "UPDATE events SET last_date = COALESCE(end_date, start_date) "
        "WHERE NOT (end_date IS NULL AND status = 'ongoing')"
    )
    op.execute(
        "INSERT INTO actor_events (actor_id, event_id, start_date, last_date) "
        "SELECT DISTINCT ea.actor_id, ea.event_id, e.start_date, e.last_date "
        "FROM event_actors ea JOIN events e ON e.id = ea.event_id"
    )



def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_last_date_start_date')
        batch_op.drop_index('ix_events_span_days')
        batch_op.drop_column('last_date')
        batch_op.drop_column('span_days')

    with op.batch_alter_table('actor_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actor_events_event_id'))
        batch_op.drop_index('ix_actor_events_actor_date')

    op.drop_table('actor_events')
