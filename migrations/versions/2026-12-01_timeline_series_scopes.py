"""timeline_days scopes per event type and per status

Revision ID: 5b2e8d4f7a19
Revises: 4d8b2f6a0c13
Create Date: 2026-12-01 22:00:00

A timeline split by type or by status (and one filtered to a single type or status) is read
off `timeline_days` rows of the scopes `type:<TYPE>` and `status:<status>`, kept by the write
path from this revision on, instead of counting every matching event. The upgrade fills them
from the events and opens their versions where the every-event scope's begin: as for the
network rollups, a moment before the upgrade reads these scopes as they stand at it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b2e8d4f7a19"
down_revision: str | None = "4d8b2f6a0c13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPES = """
INSERT INTO timeline_days (scope, day, starts, ends)
SELECT scope, day, sum(starts), sum(ends) FROM (
    SELECT 'type:' || event_type AS scope, start_date AS day, 1 AS starts, 0 AS ends
      FROM events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT 'type:' || event_type, last_date, 0, 1
      FROM events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
    UNION ALL
    SELECT 'status:' || status, start_date, 1, 0
      FROM events WHERE start_date IS NOT NULL
    UNION ALL
    SELECT 'status:' || status, last_date, 0, 1
      FROM events WHERE start_date IS NOT NULL AND last_date IS NOT NULL
) AS contributions
GROUP BY scope, day
"""

VERSIONS = """
INSERT INTO timeline_days_history (scope, day, starts, ends, valid_from)
SELECT t.scope, t.day, t.starts, t.ends,
       COALESCE((SELECT min(h.valid_from) FROM timeline_days_history AS h WHERE h.scope = '*'),
                (SELECT min(e.created_at) FROM events AS e))
  FROM timeline_days AS t
 WHERE t.scope LIKE 'type:%' OR t.scope LIKE 'status:%'
"""

REMOVE = "DELETE FROM {table} WHERE scope LIKE 'type:%' OR scope LIKE 'status:%'"


def upgrade() -> None:
    # Recomputed whole: rows of these scopes already there (written by a newer write path
    # into a database at an older revision) are replaced, not added to.
    op.execute(REMOVE.format(table="timeline_days_history"))
    op.execute(REMOVE.format(table="timeline_days"))
    op.execute(SCOPES)
    op.execute(VERSIONS)


def downgrade() -> None:
    op.execute(REMOVE.format(table="timeline_days_history"))
    op.execute(REMOVE.format(table="timeline_days"))
