"""GET /: a small landing page for a browser, links for a client."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_a_page_that_links_the_docs(client: TestClient) -> None:
    page = client.get("/", headers={"Accept": BROWSER})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "accept" in page.headers["vary"].lower()
    hrefs = re.findall(r'href="([^"]+)"', page.text)
    assert {"/docs", "/openapi.json", "/v1/events", "/v1/stats/summary"} <= set(hrefs)
    # Nothing from outside: no absolute or protocol-relative URL, no script, no stylesheet.
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    assert "<script" not in page.text
    for href in hrefs:
        assert client.get(href).status_code == 200, href


def test_a_client_gets_json_links(client: TestClient) -> None:
    for accept in ("application/json", "*/*", ""):
        answer = client.get("/", headers={"Accept": accept})
        assert answer.status_code == 200, accept
        assert answer.headers["content-type"] == "application/json"
        body = answer.json()
        assert body["name"] == "geoevents"
        rels = {link["href"]: link["rel"] for link in body["links"]}
        assert rels["/openapi.json"] == "service-desc"
        assert rels["/docs"] == "service-doc"
        assert rels["/v1/events"] == "item"
        for link in body["links"]:
            assert client.get(link["href"]).status_code == 200, link
    link_header = client.get("/").headers["link"]
    assert '</openapi.json>; rel="service-desc"' in link_header


def test_html_ranked_first_wins_and_neither_is_a_406(client: TestClient) -> None:
    html = client.get("/", headers={"Accept": "application/json;q=0.5, text/html"})
    assert html.headers["content-type"].startswith("text/html")
    refused = client.get("/", headers={"Accept": "image/png"})
    assert refused.status_code == 406
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["param"] == "accept"
