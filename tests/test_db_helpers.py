"""The helpers that bind many values as one parameter (app.core.db.among, key_rows) answer
as `IN` lists do, on the store the suite runs on, and look each value up in an index."""

from datetime import date

import pytest
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.actors.models import Actor
from app.core.db import among, dialect_name, key_rows
from app.events.models import ActorPeriod, Event


def test_among_answers_as_an_in_list(session: Session) -> None:
    ids = list(session.scalars(select(Event.id).order_by(Event.id)))
    assert len(ids) >= 3
    wanted = [ids[0], ids[-1], "no-such-event", 'quote\'s "and" comma, [x]']
    got = session.scalars(select(Event.id).where(among(Event.id, wanted)).order_by(Event.id))
    expected = session.scalars(select(Event.id).where(Event.id.in_(wanted)).order_by(Event.id))
    assert list(got) == list(expected) == sorted([ids[0], ids[-1]])
    assert session.scalars(select(Event.id).where(among(Event.id, []))).all() == []
    # Two lists of different lengths through one statement: compiled once, bound anew.
    assert len(session.scalars(select(Actor.id).where(among(Actor.id, ["x"] * 3))).all()) == 0


def test_key_rows_join_as_a_row_value_in_list(session: Session) -> None:
    table = ActorPeriod.__table__
    key = [table.c.actor_id, table.c.grain, table.c.period]
    held = [tuple(r) for r in session.execute(select(*key).order_by(*key).limit(5))]
    assert held, "the seed has actor periods"
    asked = [*held, ("no-such-actor", "day", date(2000, 1, 1))]
    keys = key_rows(session, key, asked)
    got = session.execute(
        select(*key)
        .select_from(keys)
        .join(table, and_(*(c == keys.c[c.name] for c in key)))
        .order_by(*key)
    ).all()
    assert [tuple(r) for r in got] == held


def test_the_index_is_used_on_sqlite(session: Session) -> None:
    if dialect_name(session) != "sqlite":
        pytest.skip("SQLite's query plan (PostgreSQL plans a seed this small by cost)")
    statement = select(Event.id).where(among(Event.id, ["a", "b"]))
    compiled = statement.compile(session.get_bind())
    plan = session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())
    )
    details = " ".join(row[3] for row in plan)
    assert "SEARCH events USING" in details
    assert "SCAN events" not in details
