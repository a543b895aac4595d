"""GET /v1/stats/summary: what its counts count, and the names beside them."""

from __future__ import annotations

import pycountry
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Claim


def test_countries_are_named(client: TestClient) -> None:
    body = client.get("/v1/stats/summary").json()
    assert body["by_country"]
    for count in body["by_country"]:
        country = pycountry.countries.get(alpha_3=count["key"])
        assert country is not None
        assert count["name"] == (getattr(country, "common_name", None) or country.name)
    names = {c["key"]: c["name"] for c in body["by_country"]}
    assert names["UKR"] == "Ukraine"
    assert names["ARE"] == "United Arab Emirates"


def test_claims_count_those_about_the_events(client: TestClient, session: Session) -> None:
    stored = session.scalar(select(func.count()).select_from(Claim))
    about_events = session.scalar(
        select(func.count()).select_from(Claim).where(Claim.event_id.is_not(None))
    )
    body = client.get("/v1/stats/summary").json()
    assert body["claims"] == about_events
    assert body["claims"] + body["claims_without_event"] == stored
    listed = client.get("/v1/claims", params={"limit": 1000}).json()["data"]
    assert sum(1 for c in listed if c["event_id"] is not None) == body["claims"]
    filtered = client.get("/v1/stats/summary", params={"actor": "xi-jinping"}).json()
    events = client.get("/v1/events", params={"actor": "xi-jinping"}).json()["data"]
    per_event = sum(
        len(client.get("/v1/claims", params={"event": e["id"]}).json()["data"]) for e in events
    )
    assert filtered["claims"] == per_event
    assert filtered["claims_without_event"] == body["claims_without_event"]


def test_the_summary_says_which_claims_it_counts(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Summary"]
    assert "no event" in schema["properties"]["claims"]["description"]
    assert "claims_without_event" in schema["properties"]
