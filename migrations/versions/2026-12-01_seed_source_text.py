"""seed source text: the seed article stored as its source's text, where that is honest

Revision ID: 4d8b2f6a0c13
Revises: 7a3e5c1d9b24
Create Date: 2026-12-01 18:00:00

`sources.text` exists already (an ingest stores it); the seed did not fill it. The article
now ships beside its bundle (seed_data/article.txt). A database seeded before keeps its seed
source without text unless this migration fills it, through the write path, so that the
change has its revision, its versions and its documents like any write (author
`migration`): only when the file is there, is the text the stored source's sha256
describes, and holds every span that cites it. Otherwise the text stays NULL and the
upgrade says why; `geoevents seed` stores it later, once the file is there.

The seed directory is the settings' (SEED_DIR), or `seed_dir` in the Alembic config's
attributes. The downgrade leaves the text: the column was there before, and a text, once
stored, is never removed.
"""

import sys
from collections.abc import Sequence
from pathlib import Path

from alembic import op
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.migrations import add_dataset_columns
from app.curation import projections
from app.curation.seed import service as seeding

revision: str = "4d8b2f6a0c13"
down_revision: str | None = "7a3e5c1d9b24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    seed_dir = op.get_context().config.attributes.get("seed_dir") or get_settings().seed_dir
    # The write path of this code reads and writes the columns a later revision adds
    # (dataset_provenance); they are added first where absent, as that revision would.
    add_dataset_columns(op.get_bind())
    session = Session(bind=op.get_bind())
    for sentence in seeding.store_texts(session, Path(seed_dir)):
        print(f"geoevents: {sentence}", file=sys.stderr)
    projections.settle(session)
    session.flush()


def downgrade() -> None:
    pass
