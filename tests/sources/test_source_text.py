"""A source's text: stored with the seed, served, and the one every evidence span is checked
against, on every path that writes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.changes.models import Revision
from app.core.config import Settings
from app.core.errors import InvalidParameter
from app.curation import revisions
from app.curation.seed import service as seeding
from app.sources.models import Source
from tests.curation.conftest import bearer, etag, new_event
from tests.test_error_shape import assert_problem

SEED_SOURCE = "putin-roundup-article"
SHIPPED = Settings().seed_dir / "article.txt"


def stored_text(client: TestClient, source_id: str = SEED_SOURCE) -> str:
    answer = client.get(f"/v1/sources/{source_id}/text")
    assert answer.status_code == 200, answer.text
    return str(answer.text)


def test_the_seed_ships_the_article_unchanged() -> None:
    shipped = SHIPPED.read_bytes()
    (bundle_path,) = seeding.bundle_paths(Settings().seed_dir)
    source = seeding.load_bundle(bundle_path).source
    assert hashlib.sha256(shipped).hexdigest() == source.sha256
    assert len(shipped.decode("utf-8")) == source.text_length
    original = Settings().article_path
    if not original.is_file():
        pytest.skip(f"the user's original article is not at {original}; the copy is checked")
    assert original.read_bytes() == shipped


def test_the_stored_text_is_the_article(client: TestClient) -> None:
    answer = client.get(f"/v1/sources/{SEED_SOURCE}/text")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.content == SHIPPED.read_bytes()
    source = client.get(f"/v1/sources/{SEED_SOURCE}").json()
    assert hashlib.sha256(answer.content).hexdigest() == source["sha256"]
    assert len(answer.text) == source["text_length"]
    # Cached like every read: a 304 for the ETag it answered with.
    again = client.get(
        f"/v1/sources/{SEED_SOURCE}/text", headers={"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304
    assert "last-modified" in answer.headers


def test_every_seed_span_is_the_stored_text_at_its_offsets(client: TestClient) -> None:
    text = stored_text(client)
    claims = client.get("/v1/claims", params={"source": SEED_SOURCE, "limit": "all"}).json()
    assert len(claims["data"]) == 77
    for claim in claims["data"]:
        span = claim["evidence"]
        assert text[span["start"] : span["end"]] == span["text"], claim["id"]


def test_a_source_without_text_is_a_404(client: TestClient, keys: dict[str, str]) -> None:
    assert_problem(client.get("/v1/sources/no-such-source/text"), 404, "source_id")
    source = {"id": "untexted", "kind": "report", "published_date_precision": "unknown"}
    assert client.post("/v1/sources", json=source, headers=bearer(keys["write"])).status_code == 201
    problem = assert_problem(client.get("/v1/sources/untexted/text"), 404, "source_id")
    assert "no stored text" in str(problem["detail"])


def claim_body(claim_id: str, source_id: str, start: int, end: int, text: str) -> dict[str, Any]:
    return {
        "id": claim_id,
        "source_id": source_id,
        "event_id": None,
        "statement": "A statement.",
        "hedging": "asserted",
        "evidence": {"start": start, "end": end, "text": text},
    }


def test_a_span_that_is_not_the_text_is_refused(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    text = stored_text(client)
    wrong = claim_body("wrong-span", SEED_SOURCE, 653, 661, "Zelensky")
    problem = assert_problem(
        client.post("/v1/claims", json=wrong, headers=writer), 422, "evidence.text"
    )
    assert "Ukrainia" in str(problem["detail"])
    right = claim_body("right-span", SEED_SOURCE, 653, 661, text[653:661])
    assert client.post("/v1/claims", json=right, headers=writer).status_code == 201
    url = "/v1/claims/right-span"
    moved = {"evidence": {"start": 654, "end": 662, "text": text[653:661]}}
    assert_problem(
        client.patch(url, json=moved, headers=writer | {"If-Match": etag(client, url)}),
        422,
        "evidence.text",
    )
    in_event = {k: v for k, v in wrong.items() if k != "event_id"} | {"id": "wrong-span-2"}
    body = new_event("wrong-span-event", claims=[in_event])
    assert_problem(client.post("/v1/events", json=body, headers=writer), 422, "evidence.text")
    assert client.get("/v1/claims/wrong-span").status_code == 404


def test_a_text_is_set_once(client: TestClient, keys: dict[str, str]) -> None:
    writer = bearer(keys["write"])
    source = {"id": "later-text", "kind": "report", "published_date_precision": "unknown"}
    assert client.post("/v1/sources", json=source, headers=writer).status_code == 201
    text = "The ministry said talks would resume next week."
    cited = claim_body("cites-later-text", "later-text", 4, 12, "ministry")
    assert client.post("/v1/claims", json=cited, headers=writer).status_code == 201
    url = "/v1/sources/later-text"
    # A text the claim already citing the source does not quote is refused.
    other = "The minister said talks would resume next week."
    problem = assert_problem(
        client.patch(url, json={"text": other}, headers=writer | {"If-Match": etag(client, url)}),
        422,
        "text",
    )
    assert "cites-later-text" in str(problem["detail"])
    answer = client.patch(
        url, json={"text": text}, headers=writer | {"If-Match": etag(client, url)}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert answer.json()["text_length"] == len(text)
    assert stored_text(client, "later-text") == text
    # Once stored, it is neither replaced nor removed, and claims are checked against it.
    for change in ({"text": text + " More."}, {"text": None}):
        assert_problem(
            client.patch(url, json=change, headers=writer | {"If-Match": etag(client, url)}),
            422,
            "text",
        )
    assert stored_text(client, "later-text") == text
    wrong = claim_body("miscites-later-text", "later-text", 4, 12, "minister")
    assert_problem(client.post("/v1/claims", json=wrong, headers=writer), 422, "evidence.text")
    # Metadata still changes, the text staying.
    titled = client.patch(
        url, json={"title": "T"}, headers=writer | {"If-Match": etag(client, url)}
    )
    assert titled.status_code == 200
    assert stored_text(client, "later-text") == text


def test_a_text_that_is_not_the_described_one_is_refused(
    client: TestClient, keys: dict[str, str]
) -> None:
    writer = bearer(keys["write"])
    text = "Some words."
    described = {
        "id": "described",
        "kind": "report",
        "published_date_precision": "unknown",
        "sha256": hashlib.sha256(b"other words").hexdigest(),
    }
    assert client.post("/v1/sources", json=described, headers=writer).status_code == 201
    url = "/v1/sources/described"
    assert_problem(
        client.patch(url, json={"text": text}, headers=writer | {"If-Match": etag(client, url)}),
        422,
        "text",
    )
    mismatched = described | {"id": "described-2", "text": text}
    assert_problem(client.post("/v1/sources", json=mismatched, headers=writer), 422, "text")


def test_an_ingest_cannot_replace_a_stored_text(client: TestClient, keys: dict[str, str]) -> None:
    text = "A different article."
    bundle = {
        "source": {
            "id": SEED_SOURCE,
            "kind": "news_article",
            "published_date_precision": "unknown",
            "text": text,
        },
        "claims": [
            {
                "id": "ingested-remark",
                "statement": "A remark.",
                "hedging": "asserted",
                "evidence": {"start": 0, "end": 1, "text": "A"},
            }
        ],
    }
    answer = client.post("/v1/ingest", json=bundle, headers=bearer(keys["write"]))
    assert_problem(answer, 422, "source.text")
    assert stored_text(client) == SHIPPED.read_text(encoding="utf-8")


def test_the_seed_checks_its_text_and_spans(session: Session) -> None:
    (path,) = seeding.bundle_paths(Settings().seed_dir)
    bundle = seeding.load_bundle(path)
    text = seeding.source_text(path)
    assert text is not None
    with pytest.raises(InvalidParameter) as refused:
        seeding.apply(session, bundle, text=text.replace("Putin", "Xi", 1))
    assert refused.value.param == "text"
    session.rollback()
    event = bundle.events[0]
    claim = event.claims[0]
    span = claim.evidence
    assert span is not None
    # A span that lies in the text but is not the claim's words there.
    shifted = span.model_copy(update={"start": span.start + 1, "end": span.end + 1})
    broken = bundle.model_copy(
        update={
            "events": [
                event.model_copy(
                    update={"claims": [claim.model_copy(update={"evidence": shifted})]}
                ),
                *bundle.events[1:],
            ]
        }
    )
    with pytest.raises(InvalidParameter) as refused:
        seeding.apply(session, broken, text=text)
    assert refused.value.param == "evidence.text"
    assert claim.id in refused.value.detail


def test_a_replayed_feed_is_checked(session: Session) -> None:
    doc = claim_body("replayed-wrong", SEED_SOURCE, 653, 661, "Zelensky") | {
        "quote": None,
        "speaker": None,
        "quantities": [],
    }
    revision = Revision(
        at=datetime.now(UTC),
        kind="claim",
        record_id="replayed-wrong",
        event_id=None,
        op="created",
        version=1,
        author="test",
        before=None,
        after=revisions.dump(doc),
    )
    with pytest.raises(InvalidParameter) as refused:
        revisions.replay(session, [revision])
    assert refused.value.param == "evidence.text"
    session.rollback()
    stored = session.scalar(select(Source.text).where(Source.id == SEED_SOURCE))
    assert stored == SHIPPED.read_text(encoding="utf-8")


def test_a_seed_without_its_text_keeps_the_stored_one(session: Session) -> None:
    (path,) = seeding.bundle_paths(Settings().seed_dir)
    report = seeding.apply(session, seeding.load_bundle(path), text=None)
    assert report.changed is False
    stored = session.scalar(select(Source.text).where(Source.id == SEED_SOURCE))
    assert stored == SHIPPED.read_text(encoding="utf-8")
