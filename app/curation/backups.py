"""Backups: the whole history (and the API keys' hashes) as NDJSON, and loading one into an
empty database by replaying it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session

from app.auth.models import ApiKey
from app.changes.models import Revision
from app.core import version as data_version
from app.core.errors import (
    Conflict,
    InvalidParameter,
)
from app.curation.revisions import dump, load, replay
from app.events.models import Event

EXPORT_HEADER = {"format": "geoevents-export", "version": 1}


def _line(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS) + b"\n"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def export_lines(session: Session) -> Iterator[bytes]:
    """The whole history as NDJSON: a header, the API keys (hashes only), then every revision
    in order. Importing it into an empty database rebuilds every record from the revisions;
    exporting that database again gives the same bytes."""
    yield _line(EXPORT_HEADER)
    for key in session.scalars(select(ApiKey).order_by(ApiKey.id)):
        yield _line(
            {
                "type": "api_key",
                "name": key.name,
                "scope": key.scope,
                "prefix": key.prefix,
                "key_hash": key.key_hash,
                "created_at": _iso(key.created_at),
                "revoked_at": _iso(key.revoked_at),
            }
        )
    revisions = session.scalars(select(Revision).order_by(Revision.seq)).yield_per(1000)
    for r in revisions:
        yield _line(
            {
                "type": "revision",
                "seq": r.seq,
                "at": _iso(r.at),
                "kind": r.kind,
                "record_id": r.record_id,
                "event_id": r.event_id,
                "op": r.op,
                "version": r.version,
                "author": r.author,
                "note": r.note,
                "before": load(r.before),
                "after": load(r.after),
            }
        )


def import_lines(session: Session, lines: Iterable[bytes]) -> dict[str, int]:
    """Load an export into an empty database: keys, revisions (with their numbers), and
    every record as the revisions leave it. 409 unless the database holds no revisions and
    no events."""
    if session.scalar(select(exists().where(Revision.seq > 0))) or session.scalar(
        select(exists().where(Event.id.is_not(None)))
    ):
        raise Conflict("import needs an empty database (no events, no history)", param="file")
    counts = {"api_keys": 0, "revisions": 0}
    rows = iter(lines)
    header = orjson.loads(next(rows, b"{}"))
    if header != EXPORT_HEADER:
        raise InvalidParameter("not a geoevents export (first line)", param="file")
    batch: list[Revision] = []
    for raw in rows:
        if not raw.strip():
            continue
        item = orjson.loads(raw)
        if item.get("type") == "api_key":
            session.add(
                ApiKey(
                    name=item["name"],
                    scope=item["scope"],
                    prefix=item["prefix"],
                    key_hash=item["key_hash"],
                    created_at=datetime.fromisoformat(item["created_at"]),
                    revoked_at=datetime.fromisoformat(item["revoked_at"])
                    if item["revoked_at"]
                    else None,
                )
            )
            counts["api_keys"] += 1
            continue
        batch.append(
            Revision(
                seq=item["seq"],
                at=datetime.fromisoformat(item["at"]),
                kind=item["kind"],
                record_id=item["record_id"],
                event_id=item["event_id"],
                op=item["op"],
                version=item["version"],
                author=item["author"],
                note=item["note"],
                before=dump(item["before"]),
                after=dump(item["after"]),
            )
        )
        counts["revisions"] += 1
    session.add_all(batch)
    session.flush()
    replay(session, batch)
    if session.get_bind().dialect.name == "postgresql":
        # Numbers were given explicitly: move the sequence past them for the next write.
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('revisions', 'seq'), "
                "(SELECT coalesce(max(seq), 1) FROM revisions))"
            )
        )
    data_version.bump(session)
    session.flush()
    return counts
