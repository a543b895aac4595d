"""initial schema

Revision ID: 8ca89ba94718
Revises:
Create Date: 2026-11-27 13:37:41.564690
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '8ca89ba94718'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('actors',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_norm', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('wikidata_id', sa.String(length=20), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actors'))
    )
    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actors_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_actors_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_actors_name_norm'), ['name_norm'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.String(length=160), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('event_type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('date_precision', sa.String(length=20), nullable=False),
    sa.Column('date_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_events_date_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_end_date', ['end_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_event_type'), ['event_type'], unique=False)
        batch_op.create_index('ix_events_start_date_id', ['start_date', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_status'), ['status'], unique=False)

    op.create_table('locations',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_norm', sa.String(length=300), nullable=False),
    sa.Column('feature', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('admin_area', sa.String(length=300), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('precision', sa.String(length=30), nullable=True),
    sa.Column('gazetteer', sa.String(length=100), nullable=True),
    sa.Column('gazetteer_id', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_locations_name_norm'), ['name_norm'], unique=False)

    op.create_table('sources',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('publisher', sa.String(length=300), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('author', sa.String(length=300), nullable=True),
    sa.Column('published_date', sa.Date(), nullable=True),
    sa.Column('published_date_precision', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('text_length', sa.Integer(), nullable=True),
    sa.Column('retrieved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources'))
    )
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sources_kind'), ['kind'], unique=False)

    op.create_table('actor_aliases',
    sa.Column('actor_id', sa.String(length=120), nullable=False),
    sa.Column('alias', sa.String(length=300), nullable=False),
    sa.Column('alias_norm', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_actor_aliases_actor_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id', 'alias', name=op.f('pk_actor_aliases'))
    )
    with op.batch_alter_table('actor_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actor_aliases_alias_norm'), ['alias_norm'], unique=False)

    op.create_table('affiliations',
    sa.Column('id', sa.String(length=250), nullable=False),
    sa.Column('actor_id', sa.String(length=120), nullable=False),
    sa.Column('organization_id', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('current', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_affiliations_actor_id_actors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['actors.id'], name=op.f('fk_affiliations_organization_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_affiliations'))
    )
    with op.batch_alter_table('affiliations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_affiliations_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_affiliations_organization_id', ['organization_id'], unique=False)

    op.create_table('claims',
    sa.Column('id', sa.String(length=160), nullable=False),
    sa.Column('event_id', sa.String(length=160), nullable=True),
    sa.Column('source_id', sa.String(length=120), nullable=False),
    sa.Column('speaker_id', sa.String(length=120), nullable=True),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('hedging', sa.String(length=20), nullable=False),
    sa.Column('evidence_start', sa.Integer(), nullable=False),
    sa.Column('evidence_end', sa.Integer(), nullable=False),
    sa.Column('evidence_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('evidence_start >= 0 AND evidence_end > evidence_start', name=op.f('ck_claims_span')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_claims_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_claims_source_id_sources'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['speaker_id'], ['actors.id'], name=op.f('fk_claims_speaker_id_actors'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_claims_source_span', ['source_id', 'evidence_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_speaker_id'), ['speaker_id'], unique=False)

    op.create_table('event_actors',
    sa.Column('event_id', sa.String(length=160), nullable=False),
    sa.Column('actor_id', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_event_actors_actor_id_actors'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_actors_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'actor_id', 'role', name=op.f('pk_event_actors'))
    )
    with op.batch_alter_table('event_actors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_actors_actor_id'), ['actor_id'], unique=False)

    op.create_table('event_locations',
    sa.Column('event_id', sa.String(length=160), nullable=False),
    sa.Column('location_id', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_locations_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_event_locations_location_id_locations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('event_id', 'location_id', name=op.f('pk_event_locations'))
    )
    with op.batch_alter_table('event_locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_locations_location_id'), ['location_id'], unique=False)

    op.create_table('event_relations',
    sa.Column('event_id', sa.String(length=160), nullable=False),
    sa.Column('related_event_id', sa.String(length=160), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_relations_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['related_event_id'], ['events.id'], name=op.f('fk_event_relations_related_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'related_event_id', 'relation', name=op.f('pk_event_relations'))
    )
    with op.batch_alter_table('event_relations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_relations_related_event_id'), ['related_event_id'], unique=False)

    op.create_table('event_tags',
    sa.Column('event_id', sa.String(length=160), nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_tags_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'tag', name=op.f('pk_event_tags'))
    )
    with op.batch_alter_table('event_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_tags_tag'), ['tag'], unique=False)

    op.create_table('quantities',
    sa.Column('id', sa.String(length=180), nullable=False),
    sa.Column('claim_id', sa.String(length=160), nullable=False),
    sa.Column('event_id', sa.String(length=160), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('qualifier', sa.String(length=20), nullable=False),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('low_inclusive', sa.Boolean(), nullable=True),
    sa.Column('high_inclusive', sa.Boolean(), nullable=True),
    sa.Column('as_reported', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_quantities_claim_id_claims'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_quantities_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quantities'))
    )
    with op.batch_alter_table('quantities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quantities_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quantities_event_id'), ['event_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quantities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quantities_event_id'))
        batch_op.drop_index(batch_op.f('ix_quantities_claim_id'))

    op.drop_table('quantities')
    with op.batch_alter_table('event_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_tags_tag'))

    op.drop_table('event_tags')
    with op.batch_alter_table('event_relations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_relations_related_event_id'))

    op.drop_table('event_relations')
    with op.batch_alter_table('event_locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_locations_location_id'))

    op.drop_table('event_locations')
    with op.batch_alter_table('event_actors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_actors_actor_id'))

    op.drop_table('event_actors')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claims_speaker_id'))
        batch_op.drop_index('ix_claims_source_span')
        batch_op.drop_index(batch_op.f('ix_claims_event_id'))

    op.drop_table('claims')
    with op.batch_alter_table('affiliations', schema=None) as batch_op:
        batch_op.drop_index('ix_affiliations_organization_id')
        batch_op.drop_index(batch_op.f('ix_affiliations_actor_id'))

    op.drop_table('affiliations')
    with op.batch_alter_table('actor_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actor_aliases_alias_norm'))

    op.drop_table('actor_aliases')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sources_kind'))

    op.drop_table('sources')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_name_norm'))
        batch_op.drop_index(batch_op.f('ix_locations_country'))

    op.drop_table('locations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_status'))
        batch_op.drop_index('ix_events_start_date_id')
        batch_op.drop_index(batch_op.f('ix_events_event_type'))
        batch_op.drop_index('ix_events_end_date')

    op.drop_table('events')
    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actors_name_norm'))
        batch_op.drop_index(batch_op.f('ix_actors_kind'))
        batch_op.drop_index(batch_op.f('ix_actors_country'))

    op.drop_table('actors')
