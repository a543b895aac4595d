"""The versions of every table a read consults, kept by the write path (app.core.temporal).

A write says which records it touched (`touched`); when the transaction settles, the rows
those records own are compared with their open versions, table by table: a version whose
row changed or went is closed at the write's moment, and the row as it is now opens a new
one. The moment is the write's revisions' (`Changes.record` sets it), so a read as of a
revision's `at` sees exactly what that revision left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from app import (
    models,  # noqa: F401  (declares the versioned tables whose REGISTRY this reads)
    search,
)
from app.core.db import Base, UTCDateTime, among, key_rows
from app.core.temporal import REGISTRY, Versioned

TOUCHED = "geoevents.touched"
MOMENT = "geoevents.moment"
CHUNK = 500
CREATED_CHUNK = 5000  # ids one INSERT … SELECT of first versions copies (within SQLite's limit)

# For each versioned table: which of its columns name a record of which kind. A row is
# compared when any of them names a touched record.
OWNERS: dict[str, list[tuple[str, str]]] = {
    "sources": [("id", "source")],
    "locations": [("id", "location")],
    "actors": [("id", "actor")],
    "actor_aliases": [("actor_id", "actor")],
    "affiliations": [("actor_id", "actor"), ("organization_id", "actor")],
    "events": [("id", "event")],
    "event_actors": [("event_id", "event")],
    "event_locations": [("event_id", "event")],
    "event_tags": [("event_id", "event")],
    "event_relations": [("event_id", "event"), ("related_event_id", "event")],
    "claims": [("id", "claim"), ("event_id", "event")],
    "quantities": [("claim_id", "claim"), ("event_id", "event")],
    "actor_events": [("event_id", "event")],
    "event_documents": [("event_id", "event")],
    "event_lines": [("event_id", "event")],
    "claim_documents": [("claim_id", "claim")],
    "actor_documents": [("actor_id", "actor")],
    "source_documents": [("source_id", "source")],
    "event_search": [("event_id", "event")],
}
# The rollups, owned by their own keys: table -> the kind `touched` notes those keys under.
ROLLUPS = {
    "timeline_days": "day",
    "network_pairs": "pair",
    "network_pair_periods": "pair_period",
    "actor_periods": "period",
}


def touched(session: Session, kind: str, ids: Iterable[Any]) -> None:
    """Note records this transaction changed (or may have): their rows get compared."""
    keys = session.info.setdefault(TOUCHED, {}).setdefault(kind, set())
    keys.update(i for i in ids if i is not None)


def at_moment(session: Session, moment: datetime) -> None:
    """The moment this transaction's changes take effect (its revisions' `at`)."""
    session.info[MOMENT] = moment


def forget(session: Session) -> None:
    session.info.pop(TOUCHED, None)
    session.info.pop(MOMENT, None)


def _live(entry: Versioned) -> Any:
    if entry.name == "event_search":
        return search.SEARCH_TABLE
    return Base.metadata.tables[entry.name]


def settle(session: Session) -> None:
    """Close and open the versions of every row the touched records own."""
    keys: dict[str, set[Any]] = session.info.pop(TOUCHED, {})
    moment = session.info.pop(MOMENT, None) or datetime.now(UTC)
    if not any(keys.values()):
        return
    session.flush()
    for name, owners in OWNERS.items():
        entry = REGISTRY[name]
        for column, kind in owners:
            ids = sorted(keys.get(kind, ()))
            for start in range(0, len(ids), CHUNK):
                _compare(session, entry, _owned(column, ids[start : start + CHUNK]), moment)
    for name, kind in ROLLUPS.items():
        entry = REGISTRY[name]
        rows = sorted(keys.get(kind, ()))
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            _compare(session, entry, _keyed(session, entry, chunk), moment)


Restrict = Callable[[Any, Select[Any]], Select[Any]]  # (a table or its twin, a statement)


def _owned(column: str, ids: list[Any]) -> Restrict:
    """A statement's rows restricted to those whose `column` names one of these records."""

    def restrict(table: Any, q: Select[Any]) -> Select[Any]:
        return q.where(among(table.c[column], ids))

    return restrict


def _keyed(session: Session, entry: Versioned, keys: list[Any]) -> Restrict:
    """A statement's rows restricted to these keys (of a rollup), by a join of the keys on
    the table's key: one index lookup per key, where SQLite answers a row-value `IN` list
    by reading the whole table, history and all."""

    def restrict(table: Any, q: Select[Any]) -> Select[Any]:
        wanted = key_rows(session, [table.c[k] for k in entry.key], keys)
        on = and_(*(table.c[k] == wanted.c[k] for k in entry.key))
        return q.select_from(wanted).join(table, on)

    return restrict


def _compare(session: Session, entry: Versioned, rows: Restrict, moment: datetime) -> None:
    """Close the open versions of the rows `rows` selects (in a table and in its twin) that
    changed or went, and open versions of those that are new or changed."""
    live, history = _live(entry), entry.history
    key = [entry.columns.index(k) for k in entry.key]
    now: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in session.execute(rows(live, select(*(live.c[c] for c in entry.columns)))):
        values = tuple(row)
        now[tuple(values[i] for i in key)] = values
    kept: dict[tuple[Any, ...], tuple[tuple[Any, ...], datetime]] = {}
    for row in session.execute(
        rows(history, select(*(history.c[c] for c in entry.columns), history.c.valid_from)).where(
            history.c.valid_to.is_(None)
        )
    ):
        values = tuple(row)
        kept[tuple(values[i] for i in key)] = (values[:-1], values[-1])
    ended = [k for k, (values, _) in kept.items() if now.get(k) != values]
    begun = [values for k, values in now.items() if k not in kept or kept[k][0] != values]
    match = [history.c[k] == bindparam(f"k_{k}") for k in entry.key]
    same_moment = [k for k in ended if kept[k][1] == moment]  # changed twice in one moment
    if same_moment:
        session.execute(
            delete(history).where(*match, history.c.valid_from == moment),
            [dict(zip((f"k_{k}" for k in entry.key), k, strict=True)) for k in same_moment],
        )
    closing = [k for k in ended if kept[k][1] != moment]
    if closing:
        session.execute(
            update(history).where(*match, history.c.valid_to.is_(None)).values(valid_to=moment),
            [dict(zip((f"k_{k}" for k in entry.key), k, strict=True)) for k in closing],
        )
    if begun:
        session.execute(
            insert(history),
            [
                dict(zip(entry.columns, values, strict=True)) | {"valid_from": moment}
                for values in begun
            ],
        )


def copy_all(bind: Connection | Session, names: Iterable[str] | None = None) -> dict[str, int]:
    """Open one version of every row of these tables (all by default), from its record's
    creation on (after a bulk load, or in a database that kept no versions before): what the
    tables hold now, valid since."""
    counts: dict[str, int] = {}
    epoch = bindparam("epoch", EPOCH, type_=UTCDateTime())
    connection = bind.connection() if isinstance(bind, Session) else bind
    for entry in (REGISTRY[n] for n in names) if names is not None else REGISTRY.values():
        bind.execute(delete(entry.history))
        # The columns the live table has now: a migration older than some column copies
        # what there is (the twin, made from the models, leaves the newer ones NULL).
        present = {c["name"] for c in inspect(connection).get_columns(entry.name)}
        columns = [f'"{c}"' for c in entry.columns if c in present]
        statement = text(
            f"INSERT INTO {entry.history.name} ({', '.join(columns)}, valid_from) "
            f"SELECT {', '.join(f't.{c}' for c in columns)}, "
            f"COALESCE({_CREATED[entry.name]}, :epoch) FROM {entry.name} AS t"
        ).bindparams(epoch)
        bind.execute(statement)
        counts[entry.name] = bind.scalar(select(func.count()).select_from(entry.history)) or 0
    return counts


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OF_ACTOR = "(SELECT a.created_at FROM actors AS a WHERE a.id = t.actor_id)"
_OF_EVENT = "(SELECT e.created_at FROM events AS e WHERE e.id = t.event_id)"
# Where a row's first version starts: its record's created_at, or its owner's.
_CREATED = {
    "sources": "t.created_at",
    "locations": (
        "(SELECT min(e.created_at) FROM event_locations AS l JOIN events AS e "
        "ON e.id = l.event_id WHERE l.location_id = t.id)"
    ),
    "actors": "t.created_at",
    "actor_aliases": _OF_ACTOR,
    "affiliations": _OF_ACTOR,
    "events": "t.created_at",
    "event_actors": _OF_EVENT,
    "event_locations": _OF_EVENT,
    "event_tags": _OF_EVENT,
    "event_relations": _OF_EVENT,
    "claims": "t.created_at",
    "quantities": "(SELECT c.created_at FROM claims AS c WHERE c.id = t.claim_id)",
    "actor_events": _OF_EVENT,
    "event_documents": _OF_EVENT,
    "event_lines": _OF_EVENT,
    "claim_documents": "(SELECT c.created_at FROM claims AS c WHERE c.id = t.claim_id)",
    "actor_documents": "(SELECT a.created_at FROM actors AS a WHERE a.id = t.actor_id)",
    "source_documents": "(SELECT s.created_at FROM sources AS s WHERE s.id = t.source_id)",
    "event_search": _OF_EVENT,
    "timeline_days": "(SELECT min(e.created_at) FROM events AS e)",
    "network_pairs": "(SELECT min(e.created_at) FROM events AS e)",
    "network_pair_periods": "(SELECT min(e.created_at) FROM events AS e)",
    "actor_periods": "(SELECT min(e.created_at) FROM events AS e)",
}


def open_created(session: Session, created: dict[str, Iterable[str]], moment: datetime) -> None:
    """Open the first version, at `moment`, of every row that these records (by kind), all
    created in this transaction, own: one INSERT … SELECT per table and chunk of ids.

    The bulk path's stand-in for `touched` + `settle`, which compare each row with its open
    version in Python: a record that did not exist has no open version to compare with, and
    neither has any row it owns. A table's first owner column is the record's own (the id,
    or the parent a link row belongs to), so each row is copied once; rows of other records
    that a creation changes (documents that show the new records, the rollups) are left to
    `touched`."""
    for name, owners in OWNERS.items():
        column, kind = owners[0]
        ids = sorted(set(created.get(kind, ())))
        if not ids:
            continue
        entry = REGISTRY[name]
        live = _live(entry)
        names = [live.c[c] for c in entry.columns]
        at = bindparam("valid_from", moment, type_=UTCDateTime())
        for start in range(0, len(ids), CREATED_CHUNK):
            chunk = ids[start : start + CREATED_CHUNK]
            rows = select(*names, at).where(among(live.c[column], chunk))
            session.execute(insert(entry.history).from_select([*entry.columns, "valid_from"], rows))
