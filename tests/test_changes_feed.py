"""The change feed and the histories share one numbering: `seq`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.core.pagination import encode_cursor


def test_since_takes_the_seq_a_history_shows(client: TestClient) -> None:
    history = client.get("/v1/events/putin-xi-video-summit/history").json()["data"]
    seq = history[0]["seq"]
    after = client.get("/v1/changes", params={"since": seq, "limit": 5}).json()
    assert [c["seq"] for c in after["data"]] == sorted(c["seq"] for c in after["data"])
    assert all(c["seq"] > seq for c in after["data"])
    everything = client.get("/v1/changes", params={"limit": 1000}).json()["data"]
    following = [c["seq"] for c in everything if c["seq"] > seq][:5]
    assert [c["seq"] for c in after["data"]] == following


def test_next_cursor_is_the_last_seq(client: TestClient) -> None:
    page = client.get("/v1/changes", params={"limit": 3}).json()
    assert page["meta"]["next_cursor"] == str(page["data"][-1]["seq"])
    more = client.get("/v1/changes", params={"limit": 3, "since": page["meta"]["next_cursor"]})
    assert more.json()["data"][0]["seq"] > page["data"][-1]["seq"]


def test_a_cursor_of_old_still_continues(client: TestClient) -> None:
    seq = client.get("/v1/changes", params={"limit": 2}).json()["data"][-1]["seq"]
    old = encode_cursor("changes", [str(seq)])
    by_cursor = client.get("/v1/changes", params={"since": old, "limit": 4}).json()["data"]
    by_seq = client.get("/v1/changes", params={"since": seq, "limit": 4}).json()["data"]
    assert by_cursor == by_seq


def test_past_the_end_is_empty(client: TestClient) -> None:
    page = client.get("/v1/changes", params={"since": 2**62}).json()
    assert page["data"] == []
    assert page["meta"]["next_cursor"] == str(2**62)


@pytest.mark.parametrize("since", ["-1", "1.5", "garbage", "9" * 25, "١٢"])
def test_a_since_that_is_no_seq_is_a_422(client: TestClient, since: str) -> None:
    answer = client.get("/v1/changes", params={"since": since})
    assert answer.status_code == 422
    assert answer.json()["param"] == "since"
    assert "seq" in answer.json()["detail"]
