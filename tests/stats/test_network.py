"""GET /v1/network: edge weights are the shared-event counts of /v1/events."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def shared(client: TestClient, a: str, b: str, **params: Any) -> int:
    """Events involving both actors, by the event list."""
    body = client.get("/v1/events", params={"actor": [a, b], "limit": 1, **params}).json()
    total: int = body["meta"]["total"]
    return total


@pytest.mark.parametrize(
    "params", [{}, {"start": "2026-01-01", "end": "2026-12-31"}, {"type": "CONSULT"}]
)
def test_edge_weights_equal_shared_event_counts(client: TestClient, params: dict[str, str]) -> None:
    body = client.get("/v1/network", params={"node_limit": 1000, **params}).json()
    assert body["edges"]
    for edge in body["edges"]:
        assert edge["directed"] is False
        assert edge["source"] < edge["target"]
        assert edge["weight"] == shared(client, edge["source"], edge["target"], **params)
        assert sum(edge["types"].values()) == edge["weight"]
    nodes = {n["id"]: n["events"] for n in body["nodes"]}
    assert (
        nodes["russia"]
        == client.get("/v1/events", params={"actor": "russia", "limit": 1, **params}).json()[
            "meta"
        ]["total"]
    )


def test_min_weight_and_node_limit(client: TestClient) -> None:
    heavy = client.get("/v1/network", params={"min_weight": 3}).json()
    assert heavy["edges"]
    assert all(e["weight"] >= 3 for e in heavy["edges"])
    small = client.get("/v1/network", params={"node_limit": 3}).json()
    assert len(small["nodes"]) == 3
    assert small["meta"]["nodes_omitted"] > 0
    kept = {n["id"] for n in small["nodes"]}
    assert all(e["source"] in kept and e["target"] in kept for e in small["edges"])


def test_directed_edges_run_from_initiator_to_target(client: TestClient) -> None:
    body = client.get("/v1/network", params={"mode": "directed"}).json()
    edges = {(e["source"], e["target"]): e["weight"] for e in body["edges"]}
    assert edges[("russia", "ukraine")] >= 1
    assert ("ukraine", "russia") not in edges
    assert all(e["directed"] for e in body["edges"])


def test_heavier_edges_drop_the_actors_they_leave_alone(client: TestClient) -> None:
    every = client.get("/v1/network").json()
    assert every["meta"]["isolated_omitted"] == 0
    lonely = {n["id"] for n in every["nodes"]} - {
        end for e in every["edges"] for end in (e["source"], e["target"])
    }
    assert lonely  # min_weight=1 keeps actors without a co-actor
    for weight in (2, 3, 4):
        heavy = client.get("/v1/network", params={"min_weight": weight}).json()
        linked = {end for e in heavy["edges"] for end in (e["source"], e["target"])}
        shown = {n["id"] for n in heavy["nodes"]}
        assert shown == linked, weight
        assert heavy["meta"]["isolated_omitted"] == len(every["nodes"]) - len(shown)
    nothing = client.get("/v1/network", params={"min_weight": 1000}).json()
    assert nothing["nodes"] == nothing["edges"] == []
    assert nothing["meta"]["isolated_omitted"] == len(every["nodes"])


def test_node_limit_comes_before_the_isolated_are_dropped(client: TestClient) -> None:
    small = client.get("/v1/network", params={"node_limit": 5, "min_weight": 2}).json()
    assert len(small["nodes"]) + small["meta"]["isolated_omitted"] == 5
    assert small["meta"]["nodes_omitted"] > 0
