"""Keys and helpers for the write API's tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {secret}"}


def new_event(event_id: str = "test-new-event", **changes: Any) -> dict[str, Any]:
    """A valid POST /v1/events body citing the seed source (span checked against its length)."""
    body: dict[str, Any] = {
        "id": event_id,
        "title": "A test event",
        "summary": None,
        "event_type": "CONSULT",
        "status": "occurred",
        "start_date": "2026-03-01",
        "end_date": "2026-03-02",
        "date_precision": "day",
        "date_note": None,
        "tags": ["test"],
        "actors": [{"actor": "russia", "role": "participant"}],
        "locations": ["kyiv"],
        "related": [],
        "claims": [
            {
                "id": f"{event_id}-claim",
                "source_id": "putin-roundup-article",
                "statement": "A test statement.",
                "quote": None,
                "speaker": None,
                "hedging": "asserted",
                "evidence": {"start": 0, "end": 4, "text": "News"},
                "quantities": [
                    {"label": "drones", "value": 3, "unit": "drones", "qualifier": "exact"}
                ],
            }
        ],
    }
    return body | changes


def etag(client: TestClient, url: str) -> str:
    """The ETag of a record as GET shows it."""
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    return str(answer.headers["etag"])
