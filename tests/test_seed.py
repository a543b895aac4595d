"""The seed: faithful to the article, complete, and idempotent."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.db import Base
from app.curation.seed import service as seeding

SEED_DIR = Settings().seed_dir


def bundle() -> Any:
    """The seed bundle of the article."""
    (path,) = seeding.bundle_paths(SEED_DIR)
    return seeding.load_bundle(path)


def test_every_span_and_quote_matches_the_article(article: str) -> None:
    seed = bundle()
    assert seeding.span_errors(seed, article) == []
    assert seed.source.text_length == len(article)
    for _, claim in seed.all_claims():
        ev = claim.evidence
        assert article[ev.start : ev.end] == ev.text
        if claim.quote is not None:
            assert claim.quote in ev.text
            # A quote is the source's words: it appears in quotation marks in the article.
            assert f"“{claim.quote}" in article or f"“{claim.quote}”" in article
        for quantity in claim.quantities:
            assert quantity.as_reported is None or quantity.as_reported in ev.text
        # Evidence is short: a sentence at most.
        assert len(ev.text) <= 400
        assert "\n" not in ev.text


def test_span_checker_catches_a_shifted_span(article: str) -> None:
    seed = bundle()
    claim = seed.events[0].claims[0]
    shifted = claim.evidence.model_copy(
        update={"start": claim.evidence.start + 1, "end": claim.evidence.end + 1}
    )
    claim_copy = claim.model_copy(update={"evidence": shifted})
    event = seed.events[0].model_copy(update={"claims": [claim_copy]})
    broken = seed.model_copy(update={"events": [event]})
    assert seeding.span_errors(broken, article) == [
        f"claim {claim.id}: text[{shifted.start}:{shifted.end}] differs from evidence"
    ]


def test_every_quoted_phrase_of_the_article_is_a_claim_quote(article: str) -> None:

    quoted = {q.rstrip(",.;:") for q in re.findall(r"“([^”]+)”", article)}
    quotes = {c.quote for _, c in bundle().all_claims() if c.quote}
    assert quoted <= quotes


def dump(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    out = {}
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        out[table.name] = [tuple(row) for row in session.execute(select(table).order_by(*pk))]
    return out


def test_seeding_twice_gives_the_same_database(session: Session) -> None:
    before = dump(session)
    report = seeding.seed(session, SEED_DIR)
    session.flush()
    assert dump(session) == before
    assert report.changed is False
    assert report.counts == {
        "actors": len(before["actors"]),
        "locations": len(before["locations"]),
        "events": len(before["events"]),
        "claims": len(before["claims"]),
        "quantities": len(before["quantities"]),
    }
    assert not session.new


def test_every_claim_is_findable_by_actor_date_and_text(client: TestClient) -> None:
    """Each claim is reachable from its event by the event's actors, dates and its own words."""
    seed = bundle()
    for event in seed.events:
        for claim in event.claims:
            words = " ".join(claim.evidence.text.split()[:3])
            found = client.get("/v1/claims", params={"q": words, "limit": 1000}).json()
            assert claim.id in {c["id"] for c in found["data"]}, words
            by_text = client.get("/v1/events", params={"q": words, "limit": 1000}).json()
            assert event.id in {e["id"] for e in by_text["data"]}, words
        for link in event.actors:
            response = client.get("/v1/events", params={"actor": link.actor, "limit": 1000})
            assert event.id in {e["id"] for e in response.json()["data"]}
        if event.start_date is not None:
            day = event.start_date.isoformat()
            response = client.get("/v1/events", params={"start": day, "end": day, "limit": 1000})
            assert event.id in {e["id"] for e in response.json()["data"]}
    for claim in seed.claims:
        response = client.get(
            "/v1/claims",
            params={"speaker": claim.speaker}
            if claim.speaker
            else {"q": claim.statement.split()[0]},
        )
        assert claim.id in {c["id"] for c in response.json()["data"]}


def test_seed_holds_no_invented_dates() -> None:
    """Undated events say so, and dated ones explain inferred years."""
    for event in bundle().events:
        if event.start_date is None:
            assert event.date_precision == "unknown"
        if (
            event.start_date is not None
            and event.start_date.year == 2026
            and "2026" not in " ".join(c.evidence.text for c in event.claims)
        ):
            assert event.date_note, event.id
