"""versions: every table a read consults keeps its rows' versions, with validity intervals;
claims, actors and sources get stored read documents

Revision ID: 9c4b7d2e1f60
Revises: 5e7d2a41c0b8
Create Date: 2026-12-01 15:40:00

Each versioned table gets a twin `<table>_history` (app.core.temporal); on PostgreSQL the
schema `past` holds a view of each twin at the moment a read asks for. The search rows'
twin has each store's full-text index, as the live search table has (app.search). Each
claim's, actor's and source's read documents are stored (`claim_documents`,
`actor_documents`, `source_documents`), filled by the write path's projector. An upgrade of a
database that holds records opens one version of each row from its record's `created_at`,
and gives every record without a revision its creation revision. Versions older than the
upgrade are not reconstructed: as of a moment before it, a record that existed then reads as
it reads at the upgrade.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.orm import Session

from app.core.temporal import PAST_SCHEMA, REGISTRY, postgresql_views
from app.curation import projections, revisions, versions
from app.models import HISTORY  # noqa: F401  (declares the twins)
from app.search import POSTGRESQL_HISTORY_DDL, SEARCH_HISTORY, SQLITE_HISTORY_DDL

revision: str = "9c4b7d2e1f60"
down_revision: str | None = "5e7d2a41c0b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_DOCUMENTS = ("claim", "actor", "source")
# The tables versioned by this revision; later revisions version their own. (Named here
# after it landed: it read every versioned table of the current code, which a later table
# broke; databases already past it are unaffected.)
TWINS = (
    "sources",
    "source_documents",
    "locations",
    "actors",
    "actor_aliases",
    "affiliations",
    "actor_documents",
    "events",
    "event_actors",
    "event_locations",
    "event_tags",
    "event_relations",
    "claims",
    "quantities",
    "claim_documents",
    "actor_events",
    "timeline_days",
    "event_documents",
    "event_search",
)


def upgrade() -> None:
    bind = op.get_bind()
    # The new stored documents, made from the metadata as the twins below are, and filled.
    for kind in NEW_DOCUMENTS:
        projections.STORED[kind].table.__table__.create(bind)
        projections.project_all(bind, kind)
    for name in TWINS:
        if REGISTRY[name].history is not SEARCH_HISTORY:
            REGISTRY[name].history.create(bind)
    postgres = bind.dialect.name == "postgresql"
    for statement in POSTGRESQL_HISTORY_DDL if postgres else SQLITE_HISTORY_DDL:
        op.execute(statement)
    if postgres:
        for statement in postgresql_views(TWINS):
            op.execute(statement)
    session = Session(bind=bind)
    revisions.creation_revisions(session, "migration")
    session.flush()
    versions.copy_all(bind, TWINS)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {PAST_SCHEMA} CASCADE")
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE event_search_history_fts")
    for name in TWINS:
        REGISTRY[name].history.drop(bind)
    for kind in NEW_DOCUMENTS:
        projections.STORED[kind].table.__table__.drop(bind)
