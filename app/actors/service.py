"""Queries and rules for actors."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from app import search
from app.actors.models import Actor, ActorAlias, ActorDocument
from app.actors.schemas import ActorQuery
from app.core.db import Prepared, Reader, prepared_rows
from app.core.errors import InvalidParameter, NotFound
from app.core.pagination import (
    EXPORT_BATCH,
    Count,
    counted,
    decode_cursor,
    encode_cursor,
    keyset_after,
)


def normalise(name: str) -> str:
    """The case- and space-folded form names and aliases are matched on."""
    return " ".join(name.casefold().split())


def resolve(session: Session, refs: list[str], param: str = "actor") -> list[str]:
    """Map actor ids, names or aliases to actor ids in one query; unknown or ambiguous is 422."""
    if not refs:
        return []
    known = set(session.connection().scalars(select(Actor.id).where(Actor.id.in_(refs))))
    if known.issuperset(refs):  # the common case: ids, found by primary key
        return list(dict.fromkeys(refs))
    norms = {normalise(ref) for ref in refs}
    rows = session.execute(
        select(Actor.id, Actor.name_norm, ActorAlias.alias_norm)
        .outerjoin(ActorAlias, ActorAlias.actor_id == Actor.id)
        .where(
            or_(Actor.id.in_(refs), Actor.name_norm.in_(norms), ActorAlias.alias_norm.in_(norms))
        )
    ).all()
    by_key: dict[str, set[str]] = {}
    for actor_id, name_norm, alias_norm in rows:
        for key in (actor_id, name_norm, alias_norm):
            if key is not None:
                by_key.setdefault(key, set()).add(actor_id)
    resolved: list[str] = []
    unknown = [
        ref
        for ref in dict.fromkeys(refs)
        if not (ref in by_key and ref in by_key[ref]) and not by_key.get(normalise(ref))
    ]
    if unknown:
        raise unknown_actors(unknown, param)
    for ref in refs:
        exact = ref if ref in by_key and ref in by_key[ref] else None
        matches = {exact} if exact else by_key.get(normalise(ref), set())
        if len(matches) > 1:
            raise InvalidParameter(
                f"{ref!r} names more than one actor ({', '.join(sorted(matches))}); use an id",
                param=param,
                value=ref,
            )
        resolved.append(next(iter(matches)))
    return list(dict.fromkeys(resolved))


def unknown_actors(refs: list[str], param: str) -> InvalidParameter:
    """The 422 of actor references that match nothing, naming every one of them."""
    hint = "GET /v1/actors?q= finds actors"
    if len(refs) == 1:
        return InvalidParameter(
            f"{param} names {refs[0]!r}, which matches no actor's id, name or alias; {hint}",
            param=param,
            value=refs[0],
        )
    listed = ", ".join(repr(ref) for ref in refs[:-1]) + f" and {refs[-1]!r}"
    return InvalidParameter(
        f"{param} names {listed}, which match no actor's id, name or alias; {hint}",
        param=param,
        errors=[
            {"param": param, "in": "query", "message": f"{ref!r} matches no actor"} for ref in refs
        ],
    )


def _conditions(filters: ActorQuery) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if filters.q is not None:
        found = select(ActorDocument.actor_id).where(
            search.matching(ActorDocument.words, filters.q)
        )
        conds.append(Actor.id.in_(found))
    if filters.kind:
        conds.append(Actor.kind.in_([k.value for k in filters.kind]))
    if filters.country:
        conds.append(Actor.country.in_(filters.country))
    return conds


def _documents(conds: list[ColumnElement[bool]]) -> Select[str, str]:
    """The matching actors' stored list items, in id order."""
    return (
        select(ActorDocument.item, Actor.id)
        .join(ActorDocument, ActorDocument.actor_id == Actor.id)
        .where(*conds)
        .order_by(Actor.id)
    )


def get_all(
    session: Session, filters: ActorQuery, limit: int, count: Count | None = None
) -> tuple[list[str], int | None, str | None, dict[str, str]]:
    """A page of actors' stored list items ordered by id, the total (counted as `count`
    asks), the next cursor and extra meta."""
    conds = _conditions(filters)
    total, how = counted(session, select(Actor.id).where(*conds), count)
    stmt = _documents(conds).limit(limit + 1)
    if filters.cursor:
        (last_id,) = decode_cursor(filters.cursor, "actors", 1)
        stmt = stmt.where(keyset_after([Actor.id], [last_id], descending=False))
    rows = session.connection().execute(stmt).all()
    next_cursor = encode_cursor("actors", [rows[limit - 1].id]) if len(rows) > limit else None
    extra = {"count": how.value} if count is not None else {}
    return [row.item for row in rows[:limit]], total, next_cursor, extra


def export(session: Session, filters: ActorQuery) -> tuple[int, Iterator[str]]:
    """Every matching actor's stored list item, streamed in batches."""
    conds = _conditions(filters)
    total = session.scalar(select(func.count()).select_from(Actor).where(*conds)) or 0
    connection = session.connection()

    def items() -> Iterator[str]:
        stmt = _documents(conds).execution_options(yield_per=EXPORT_BATCH)
        for row in connection.execute(stmt):
            yield row.item

    return total, items()


# The detail: the stored item, continued with the stored members and the live event count
# (the actor index holds one row per event the actor takes part in).
DETAIL = Prepared(
    "SELECT actor_documents.item, actor_documents.members, actors.version, "
    "(SELECT count(*) FROM actor_events WHERE actor_events.actor_id = :actor_id) "
    "FROM actors JOIN actor_documents ON actor_documents.actor_id = actors.id "
    "WHERE actors.id = :actor_id"
)


def get(session: Reader, actor_id: str) -> tuple[bytes, int]:
    """One actor's detail (its stored item, members and event count) and version, or 404."""
    rows = prepared_rows(session, DETAIL, {"actor_id": actor_id})
    if not rows:
        raise NotFound(f"no actor with id {actor_id!r}", param="actor_id")
    item, members, version, event_count = rows[0]
    return f'{item[:-1]},"members":{members},"event_count":{event_count}}}'.encode(), version


def exists_by_id(session: Session, actor_id: str) -> bool:
    """Whether an actor with this exact id exists."""
    return session.scalar(select(exists().where(Actor.id == actor_id))) or False
