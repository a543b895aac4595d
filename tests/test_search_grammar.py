"""One search grammar on every `q`, the same answers on both stores.

Each query of the table is answered by the API (events, claims, actors, and the stats and
network endpoints through the event filters) and by a small reference evaluator written here
from the rules the README states, over the records' texts as the API shows them. Passing on
SQLite and on PostgreSQL means the two stores answer alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.db import make_engine, session_scope
from app.core.migrations import alembic_config
from app.curation.seed import service as seeding
from app.main import create_app
from app.web.state import state_of
from tests.curation.conftest import bearer, etag

# --- the reference: the README's rules, written out plainly --------------------------------

# Letters without a Unicode decomposition that fold to a base letter (README, "Search").
BASE_LETTERS = {
    "\u0131": "i",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "ħ": "h",
    "ŧ": "t",
    "ŋ": "n",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ĸ": "k",
}


def reference_words(value: str | None) -> list[str]:
    """Case-folded words, without marks: runs of letters and digits."""
    folded = unicodedata.normalize("NFKD", value or "").casefold()
    folded = unicodedata.normalize("NFKD", "".join(BASE_LETTERS.get(c, c) for c in folded))
    found, current = [], ""
    for char in folded:
        if unicodedata.category(char).startswith("M"):
            continue
        if char.isalnum():
            current += char
        elif current:
            found.append(current)
            current = ""
    return [*found, current] if current else found


@dataclass
class Term:
    words: list[str]
    prefix: bool
    negated: bool


def reference_parse(q: str) -> list[list[Term]]:
    """Groups (separated by OR) of terms, read a character at a time."""
    groups: list[list[Term]] = [[]]
    n = 0
    while n < len(q):
        if q[n].isspace():
            n += 1
            continue
        negated = q[n] == "-" and n + 1 < len(q) and not q[n + 1].isspace()
        if negated:
            n += 1
        if q[n] == '"':
            end = q.find('"', n + 1)
            end = len(q) if end < 0 else end
            body, prefix, n = q[n + 1 : end], False, end + 1
        else:
            start = n
            while n < len(q) and not q[n].isspace() and q[n] != '"':
                n += 1
            body, prefix = q[start:n], True
            if not negated and body.lower() == "or":
                groups.append([])
                continue
        words = reference_words(body)
        if words:
            groups[-1].append(Term(words, prefix, negated))
    return [g for g in groups if g]


def occurs(term: Term, texts: list[list[str]]) -> bool:
    """Whether the term's words occur in a row in one of the texts."""
    size = len(term.words)
    for words in texts:
        for start in range(len(words) - size + 1):
            window = words[start : start + size]
            if window[:-1] != term.words[:-1]:
                continue
            last, wanted = window[-1], term.words[-1]
            if last.startswith(wanted) if term.prefix else last == wanted:
                return True
    return False


def reference_match(q: str, texts: list[str | None]) -> bool:
    folded = [w for w in (reference_words(t) for t in texts) if w]
    return any(all(occurs(t, folded) != t.negated for t in group) for group in reference_parse(q))


# --- the records as the API shows them -----------------------------------------------------


def listed(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(path, params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["total"] == len(body["data"]), (path, params)
    return list(body["data"])


@dataclass
class Corpus:
    events: dict[str, list[str | None]]
    claims: dict[str, list[str | None]]
    actors: dict[str, list[str | None]]


def corpus_of(client: TestClient) -> Corpus:
    """Each record's searchable texts, fetched through the API."""
    names: dict[str, list[str | None]] = {
        a["id"]: [a["name"], *a["aliases"]] for a in listed(client, "/v1/actors")
    }

    def spoken(claim: dict[str, Any]) -> list[str | None]:
        speaker = names[claim["speaker"]["id"]] if claim["speaker"] else []
        return [claim["statement"], claim["quote"], claim["evidence"]["text"], *speaker]

    events: dict[str, list[str | None]] = {}
    for item in listed(client, "/v1/events"):
        detail = client.get(f"/v1/events/{item['id']}").json()
        texts = [detail["title"], detail["summary"]]
        for actor_id in dict.fromkeys(a["id"] for a in detail["actors"]):
            texts += names[actor_id]
        for claim in detail["claims"]:
            texts += spoken(claim)
        events[item["id"]] = texts
    claims = {c["id"]: spoken(c) for c in listed(client, "/v1/claims")}
    return Corpus(events, claims, names)


LONG_TITLE = (
    "Warning that Putin might deploy soldiers and criminals across Europe in hybrid warfare"
)
QUERIES = [
    # words, prefixes and case
    "putin",
    "Putin",
    "PUTIN",
    "put",
    "xi",
    "barb",
    "arbaric",
    "visa bans",
    "russia china",
    "kyiv drones",
    "trilateral abu dhabi",
    "rutte nato",
    "2025",
    "290 million",
    "zzzz",
    # phrases
    '"video summit"',
    '"abu dhabi"',
    '"summit video"',
    '"putin"',
    '"barb"',
    '"new start" inspections',
    f'"{LONG_TITLE}"',
    # OR
    "putin OR xi",
    "putin or xi",
    "barbaric OR grandiose OR visa",
    "rutte OR",
    "OR rutte",
    "kyiv OR abu dhabi",
    '"video summit" OR "new start"',
    # exclusions
    "putin -xi",
    "-xi",
    "russia -ukraine -china",
    'putin -"video summit"',
    "-xi OR barbaric",
    "- putin",
    "putin - xi",
    "--xi putin",
    "-OR putin",
    # accents, case folding, İ
    "Ukraïne",
    "UKRAINE",
    "Zelenský",
    "zélensky",
    "İ",
    "\u0131",
    "Straße",
    "\uff30\uff35\uff34\uff29\uff2e",  # full-width PUTIN
    # aliases
    "Zelenskyy",
    "US",
    "U.S.",
    "EU",
    "president putin",
    '"President Putin"',
    "western",
    # punctuation and hyphens
    "putin-xi",
    "Russia\u2013China",  # an en dash
    "energy-infrastructure",
    "“barbaric”",
    "putin's",
    "(kyiv)",
    'abu"dhabi"',
    "!!!",
    "%",
    "_",
    "*",
    "barbaric*",
    'NEAR("a" "b")',
    # quotes left open
    '"video summ',
    '"video',
    'putin "',
    '"',
    # empty and only operators
    "",
    "   ",
    "OR",
    "OR OR -",
    "-",
    '""',
    '-""',
    # very long
    ("putin " * 33).strip(),
    " OR ".join(["barbaric", "grandiose", "visa", "kyiv", "rutte", "sweden", "summit"] * 2),
    "a" * 200,
]


@pytest.fixture(scope="module")
def corpus_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The app on the seeded database, read only (the table's many reads share it)."""
    app = create_app(settings)
    state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(bind=engine)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def corpus(corpus_client: TestClient) -> Corpus:
    return corpus_of(corpus_client)


def test_the_table_is_wide_enough() -> None:
    assert len(QUERIES) >= 50
    assert all(len(q) <= 200 for q in QUERIES)


def expected(corpus: Corpus, q: str) -> dict[str, set[str]]:
    return {
        kind: {key for key, texts in getattr(corpus, kind).items() if reference_match(q, texts)}
        for kind in ("events", "claims", "actors")
    }


@pytest.mark.parametrize("q", QUERIES)
def test_every_q_answers_as_the_reference(
    corpus_client: TestClient, corpus: Corpus, q: str
) -> None:
    want = expected(corpus, q)
    for kind in ("events", "claims", "actors"):
        found = {r["id"] for r in listed(corpus_client, f"/v1/{kind}", q=q)}
        assert found == want[kind], (kind, q)
    summary = corpus_client.get("/v1/stats/summary", params={"q": q}).json()
    assert summary["total"] == len(want["events"]), q
    network = corpus_client.get("/v1/network", params={"q": q}).json()
    assert network["meta"]["total_events"] == len(want["events"]), q


def test_the_table_tells_records_apart(corpus: Corpus) -> None:
    """Most queries find some records and not all: the answers say something."""
    for kind in ("events", "claims", "actors"):
        everything = len(getattr(corpus, kind))
        sizes = [len(expected(corpus, q)[kind]) for q in QUERIES]
        assert sum(0 < n < everything for n in sizes) >= (25 if kind == "actors" else 40), kind
        assert sum(n == 0 for n in sizes) >= 10, kind


# --- the examples of the issue ---------------------------------------------------------------


def ids(client: TestClient, path: str, q: str) -> set[str]:
    return {r["id"] for r in listed(client, path, q=q)}


def test_actors_match_words_not_substrings(corpus_client: TestClient) -> None:
    found = ids(corpus_client, "/v1/actors", "US")
    assert "former-russian-soldiers" not in found
    assert "united-states" in found
    assert ids(corpus_client, "/v1/actors", "rus") >= {"russia", "russians"}
    assert "former-russian-soldiers" in ids(corpus_client, "/v1/actors", "russian soldiers")


def test_claims_fold_accents_and_search_the_speakers_aliases(corpus_client: TestClient) -> None:
    plain = ids(corpus_client, "/v1/claims", "Zelensky")
    assert plain
    assert ids(corpus_client, "/v1/claims", "Zelenský") == plain
    spoken = {c["id"] for c in listed(corpus_client, "/v1/claims", speaker="zelensky")}
    assert spoken
    assert spoken <= ids(corpus_client, "/v1/claims", "Zelenskyy")
    assert ids(corpus_client, "/v1/events", "Zelenskyy") >= {"zelensky-condemns-strike"}


def test_or_and_exclusion(corpus_client: TestClient) -> None:
    putin = ids(corpus_client, "/v1/events", "putin")
    xi = ids(corpus_client, "/v1/events", "xi")
    assert "putin-xi-video-summit" in putin & xi
    assert ids(corpus_client, "/v1/events", "putin OR xi") == putin | xi
    assert ids(corpus_client, "/v1/events", "putin -xi") == putin - xi
    assert "putin-xi-video-summit" not in ids(corpus_client, "/v1/events", "putin -xi")
    everything = ids(corpus_client, "/v1/events", "-zzzz")
    assert len(everything) == 22  # an exclusion alone: every event lacking the word
    assert ids(corpus_client, "/v1/events", "-xi") == everything - xi


def test_accents_and_dotted_capital_i_fold(corpus_client: TestClient) -> None:
    ukraine = ids(corpus_client, "/v1/events", "ukraine")
    assert len(ukraine) >= 4
    assert ids(corpus_client, "/v1/events", "Ukraïne") == ukraine
    assert ids(corpus_client, "/v1/claims", "İ") == ids(corpus_client, "/v1/claims", "i")
    assert ids(corpus_client, "/v1/claims", "İ")


def test_no_words_find_nothing(corpus_client: TestClient) -> None:
    for q in ("", "OR", "-", '""', "!!!"):
        for path in ("/v1/events", "/v1/claims", "/v1/actors"):
            assert ids(corpus_client, path, q) == set(), (path, q)


def test_q_too_long_is_refused(corpus_client: TestClient) -> None:
    for path in ("/v1/events", "/v1/claims", "/v1/actors"):
        answer = corpus_client.get(path, params={"q": "a" * 201})
        assert answer.status_code == 422
        assert answer.json()["param"] == "q"


# --- the write path keeps the search text exact --------------------------------------------


def test_renaming_an_actor_and_adding_an_alias_reach_every_search(
    client: TestClient, keys: dict[str, str]
) -> None:
    writer = bearer(keys["write"])
    assert ids(client, "/v1/claims", "Oleksandrovych") == set()
    before_events = ids(client, "/v1/events", "Zelensky")
    answer = client.patch(
        "/v1/actors/zelensky",
        json={"name": "Volodymyr Zelenskyy", "aliases": ["Zelensky", "Oleksandrovych"]},
        headers=writer | {"If-Match": etag(client, "/v1/actors/zelensky")},
    )
    assert answer.status_code == 200, answer.text
    spoken = {c["id"] for c in listed(client, "/v1/claims", speaker="zelensky")}
    assert spoken
    assert ids(client, "/v1/claims", "Oleksandrovych") == spoken
    assert "zelensky-condemns-strike" in ids(client, "/v1/events", "Oleksandrovych")
    assert ids(client, "/v1/actors", "Oleksandrovych") == {"zelensky"}
    assert ids(client, "/v1/events", "volodymyr") >= {"zelensky-condemns-strike"}
    assert ids(client, "/v1/events", "Zelensky") == before_events
    answer = client.patch(
        "/v1/actors/zelensky",
        json={"aliases": []},
        headers=writer | {"If-Match": etag(client, "/v1/actors/zelensky")},
    )
    assert answer.status_code == 200, answer.text
    assert ids(client, "/v1/claims", "Oleksandrovych") == set()
    assert ids(client, "/v1/events", "Oleksandrovych") == set()


def test_an_events_search_row_is_found_by_its_key_and_follows_every_write(
    client: TestClient, keys: dict[str, str], connection: Connection
) -> None:
    """Each write replaces the search rows of the events it touched: on both stores the row
    is reached by the event's id (a key, not a scan of every row), and what a search finds
    follows the event through an edit and a deletion."""
    table = inspect(connection)
    keys_of_rows = [table.get_pk_constraint("event_search")["constrained_columns"]]
    keys_of_rows += [u["column_names"] for u in table.get_unique_constraints("event_search")]
    assert ["event_id"] in keys_of_rows
    writer = bearer(keys["write"])
    url = "/v1/events/putin-xi-video-summit"
    assert ids(client, "/v1/events", "quinquereme") == set()
    answer = client.patch(
        url,
        json={"summary": "A quinquereme sailed."},
        headers=writer | {"If-Match": etag(client, url)},
    )
    assert answer.status_code == 200, answer.text
    assert ids(client, "/v1/events", "quinquereme") == {"putin-xi-video-summit"}
    held = text("SELECT count(*) FROM event_search WHERE event_id = 'putin-xi-video-summit'")
    assert connection.execute(held).scalar_one() == 1
    answer = client.delete(url, headers=writer | {"If-Match": etag(client, url)})
    assert answer.status_code == 204, answer.text
    assert ids(client, "/v1/events", "quinquereme") == set()
    assert connection.execute(held).scalar_one() == 0


# --- the migration rebuilds the search rows of a database that holds records --------------


BEFORE_WORDS = "7e3a9c51d2b4"  # the revision before the search words


def test_the_migration_rebuilds_existing_search_rows(
    scratch_url: str, settings: Settings, corpus_client: TestClient
) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    engine = make_engine(scratch_url)
    try:
        for session in session_scope(sessionmaker(bind=engine)):
            seeding.seed(session, settings.seed_dir)
        # Back to the search of before (raw text, no words columns), then up again.
        command.downgrade(config, BEFORE_WORDS)
        with engine.connect() as conn:
            raw = conn.execute(text("SELECT body FROM event_search")).scalars().all()
        assert any("Zelensky" in body for body in raw)
        command.upgrade(config, "head")
        app = create_app(settings.model_copy(update={"database_url": scratch_url}))
        state_of(app).sessionmaker = state_of(app).read_sessionmaker = sessionmaker(bind=engine)
        with TestClient(app) as migrated:
            for q in ("Zelenskyy", "Ukraïne", "putin -xi", '"video summit" OR rutte', "US"):
                for path in ("/v1/events", "/v1/claims", "/v1/actors"):
                    assert ids(migrated, path, q) == ids(corpus_client, path, q), (path, q)
        with Session(bind=engine) as session:
            open_versions = session.execute(
                text(
                    "SELECT count(*) FROM event_search_history AS h JOIN event_search AS s"
                    " ON s.event_id = h.event_id WHERE h.valid_to IS NULL AND h.body = s.body"
                )
            ).scalar()
            assert open_versions == 22
    finally:
        engine.dispose()


def test_a_very_long_word_is_stored_and_found(client: TestClient, keys: dict[str, str]) -> None:
    """PostgreSQL refuses lexemes over 2047 bytes: stored words are cut, and still found."""
    url = "/v1/events/putin-xi-video-summit"
    answer = client.patch(
        url,
        json={"summary": f"A {'ж' * 3000} word and a {'q' * 300}z one."},
        headers=bearer(keys["write"]) | {"If-Match": etag(client, url)},
    )
    assert answer.status_code == 200, answer.text
    assert ids(client, "/v1/events", "ж" * 200) == {"putin-xi-video-summit"}
    assert ids(client, "/v1/events", f"{'Q' * 190} -zzzz") == {"putin-xi-video-summit"}
    assert ids(client, "/v1/events", f'"{"q" * 198}"') == set()
