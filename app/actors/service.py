"""Queries and rules for actors."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.actors.models import Actor, ActorAlias, Affiliation
from app.actors.schemas import ActorQuery
from app.core.errors import InvalidParameter, NotFound
from app.core.pagination import (
    Count,
    counted,
    decode_cursor,
    encode_cursor,
    keyset_after,
    stream_rows,
)
from app.events.models import EventActor


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
    for ref in refs:
        exact = ref if ref in by_key and ref in by_key[ref] else None
        matches = {exact} if exact else by_key.get(normalise(ref), set())
        if not matches:
            raise InvalidParameter(f"unknown actor {ref!r}", param=param, value=ref)
        if len(matches) > 1:
            raise InvalidParameter(
                f"{ref!r} names more than one actor ({', '.join(sorted(matches))}); use an id",
                param=param,
                value=ref,
            )
        resolved.append(next(iter(matches)))
    return list(dict.fromkeys(resolved))


def _conditions(filters: ActorQuery) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if filters.q:
        term = normalise(filters.q)
        conds.append(
            or_(
                Actor.name_norm.contains(term, autoescape=True),
                Actor.id.contains(term, autoescape=True),
                exists().where(
                    ActorAlias.actor_id == Actor.id,
                    ActorAlias.alias_norm.contains(term, autoescape=True),
                ),
            )
        )
    if filters.kind:
        conds.append(Actor.kind.in_([k.value for k in filters.kind]))
    if filters.country:
        conds.append(Actor.country.in_(filters.country))
    return conds


def _with_links() -> list[object]:
    return [
        selectinload(Actor.alias_rows),
        selectinload(Actor.affiliations).joinedload(Affiliation.organization),
    ]


def get_all(
    session: Session, filters: ActorQuery, limit: int, count: Count | None = None
) -> tuple[list[Actor], int | None, str | None, dict[str, str]]:
    """A page of actors ordered by id, the total (counted as `count` asks), the next cursor
    and extra meta."""
    conds = _conditions(filters)
    total, how = counted(session, select(Actor.id).where(*conds), count)
    stmt = select(Actor).where(*conds).order_by(Actor.id).limit(limit + 1)
    if filters.cursor:
        (last_id,) = decode_cursor(filters.cursor, "actors", 1)
        stmt = stmt.where(keyset_after([Actor.id], [last_id], descending=False))
    actors = list(session.scalars(stmt.options(*_with_links())))  # type: ignore[arg-type]
    next_cursor = encode_cursor("actors", [actors[limit - 1].id]) if len(actors) > limit else None
    return actors[:limit], total, next_cursor, {"count": how.value} if count is not None else {}


def export(session: Session, filters: ActorQuery) -> tuple[int, Iterator[Actor]]:
    """Every matching actor, streamed in batches."""
    conds = _conditions(filters)
    total = session.scalar(select(func.count()).select_from(Actor).where(*conds)) or 0
    stmt = select(Actor).where(*conds).order_by(Actor.id).options(*_with_links())  # type: ignore[arg-type]
    return total, stream_rows(session, stmt)


def get(session: Session, actor_id: str) -> tuple[Actor, list[Affiliation], int]:
    """One actor with its members (reverse affiliations) and event count, or 404."""
    actor = session.scalar(
        select(Actor).where(Actor.id == actor_id).options(*_with_links())  # type: ignore[arg-type]
    )
    if actor is None:
        raise NotFound(f"no actor with id {actor_id!r}", param="actor_id")
    members = list(
        session.scalars(
            select(Affiliation)
            .where(Affiliation.organization_id == actor_id)
            .options(joinedload(Affiliation.member))
            .order_by(Affiliation.actor_id)
        )
    )
    event_count = (
        session.scalar(
            select(func.count(func.distinct(EventActor.event_id))).where(
                EventActor.actor_id == actor_id
            )
        )
        or 0
    )
    return actor, members, event_count


def exists_by_id(session: Session, actor_id: str) -> bool:
    """Whether an actor with this exact id exists."""
    return session.scalar(select(exists().where(Actor.id == actor_id))) or False
