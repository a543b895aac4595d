"""Event lists of the common shapes answered by prepared statements (app.events.prepared)
give what the planner gives: the same items, total, cursor and meta, page after page, and
the same refusals, for every combination of actor, dates, order, page size and count
preference below, on the seed (with its undated and open-ended events) and on a generated
corpus (a popular actor over years)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.bench.generate import generate
from app.core.db import Prepared, make_engine, prepared_rows
from app.core.errors import InvalidParameter
from app.core.pagination import Count
from app.events import prepared, service
from app.events.schemas import EventQuery
from tests.conftest import scratch_database

DATES = [
    {},
    {"start": "2022"},
    {"end": "2026-02"},
    {"start": "2026-01-23", "end": "2026-02-05"},
    {"start": "2026-02-05", "end": "2026-01-23"},  # refused: end before start
]


def _answers(session: Session, query: dict[str, Any], use: bool, pages: int) -> list[Any]:
    """Each page's (items, total, cursor, extra) following the cursor, or the refusal."""
    out: list[Any] = []
    cursor = None
    count = query.pop("count", None)
    for _ in range(pages):
        f = EventQuery.model_validate(query | ({"cursor": cursor} if cursor else {}))
        assert isinstance(f.limit, int)
        try:
            answer = service.get_all(session, f, f.limit, count, use_prepared=use)
        except InvalidParameter as exc:
            out.append(("refused", str(exc), exc.param))
            break
        out.append(answer)
        cursor = answer[2]
        if cursor is None:
            break
    return out


def _compare(session: Session, query: dict[str, Any], pages: int = 6) -> list[Any]:
    got = _answers(session, dict(query), True, pages)
    want = _answers(session, dict(query), False, pages)
    assert got == want, query
    return got


def test_the_seed_lists_read_the_same_both_ways(session: Session) -> None:
    answered = 0
    actors = [[], ["russia"], ["vladimir-putin"], ["Russia"], ["nobody-at-all"]]
    for actor, dates, sort, limit in itertools.product(actors, DATES, ["-date", "date"], [1, 4]):
        query = {"actor": actor, **dates, "sort": sort, "limit": limit}
        pages = _compare(session, query)
        answered += isinstance(pages[0], tuple) and pages[0][0] != "refused"
    assert answered > 60  # most combinations give pages, not refusals
    # The count preferences, on one shape each way.
    for count in Count:
        for actor in ([], ["russia"]):
            _compare(session, {"actor": actor, "limit": 3, "count": count})
            _compare(session, {"actor": actor, "start": "2026", "limit": 3, "count": count})


def test_what_the_seed_lists_hold_is_what_it_states(session: Session) -> None:
    """Not only the same both ways: undated events come last, a name resolves, a cursor from
    another order is refused with the parameter named."""
    (first, *rest) = _compare(session, {"actor": ["russia"], "limit": 50})
    items, total, cursor, _ = first
    assert total == len(items) == 14
    assert cursor is None
    assert not rest
    dated = [i for i in items if '"start_date":null' not in i]
    assert items[: len(dated)] == dated  # the undated ones follow the dated ones
    by_name = _compare(session, {"actor": ["Russia"], "limit": 50})
    assert by_name[0][:2] == (items, 14)
    cursor = _compare(session, {"limit": 2})[0][2]
    refused = _compare(session, {"limit": 2, "sort": "date", "cursor": cursor}, pages=1)
    assert refused[0][0] == "refused"
    assert refused[0][2] == "cursor"


@pytest.fixture(scope="module")
def corpus(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A generated corpus of 1,500 events on the suite's store, in a database of its own."""
    urls = scratch_database(database_url, tmp_path_factory.mktemp("prepared"), "prepared")
    url = next(urls)
    generate(url, 1500, seed=5, echo=lambda _: None)
    engine = make_engine(url)
    with sessionmaker(bind=engine)() as session:
        yield session
    engine.dispose()
    next(urls, None)


def test_a_generated_corpus_reads_the_same_both_ways(corpus: Session) -> None:
    popular = "actor-000001"
    assert prepared.covers(EventQuery.model_validate({"actor": [popular]}))
    first, last = corpus.execute(text("SELECT min(start_date), max(start_date) FROM events")).one()
    year = (int(str(first)[:4]) + int(str(last)[:4])) // 2
    shapes = [
        {"actor": [popular], "start": f"{year}", "end": f"{year}", "limit": 20},
        {"actor": [popular], "limit": 50, "sort": "date"},
        {"start": f"{year}-02-10", "end": f"{year}-11-20", "limit": 25},
        {"end": f"{year}-03", "limit": 100},
        {"limit": 250, "sort": "date"},
    ]
    for query in shapes:
        pages = _compare(corpus, query, pages=4)
        assert len(pages) > 1, query
        assert all(len(p[0]) == query["limit"] for p in pages[:-1]), query
        assert pages[0][1] is not None
        assert pages[0][1] > query["limit"]


def test_a_prepared_statement_fails_as_any_statement_does(session: Session) -> None:
    """A driver's error comes out as SQLAlchemy raises it for every statement (the app maps
    those to 503 or 504), with the driver's own error kept."""
    with pytest.raises(DBAPIError) as raised:
        prepared_rows(session, Prepared("SELECT id FROM no_such_table WHERE id = :id"), {"id": 1})
    assert raised.value.orig is not None
    assert "no_such_table" in str(raised.value.orig)
    with pytest.raises(ValueError, match="no %"):
        Prepared("SELECT 1 WHERE 'a' LIKE 'a%'")
