"""What a person checks on /explore, in a real browser, against what the API answers."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.explore.conftest import Explorer
from tests.fixtures.servers import Server


def api(server: Server, path: str, **params: str | list[str]) -> dict:  # type: ignore[type-arg]
    """A JSON answer of the API the page reads."""
    answer = httpx.get(f"{server.base}{path}", params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    body: dict = answer.json()  # type: ignore[type-arg]
    return body


def all_ids(server: Server, **params: str | list[str]) -> list[str]:
    """Ids of every event the list API gives for these filters, in its order."""
    return [e["id"] for e in api(server, "/v1/events", limit="1000", **params)["data"]]


def test_timeline_bars_add_up_to_the_api(page: Explorer, server: Server) -> None:
    page.open("?group=status")
    interval = page.js("return document.querySelector('#timeline svg').dataset.interval")
    answer = api(server, "/v1/stats/timeline", interval=interval, group_by="status")
    bars = page.js(
        "return [...document.querySelectorAll('#timeline .bar')].map(g => ({"
        "start: g.dataset.start, count: +g.dataset.count,"
        "segments: [...g.querySelectorAll('rect.segment')].map(r => +r.dataset.value)}))"
    )
    assert [(b["start"], b["count"]) for b in bars] == [
        (row["period_start"], row["count"]) for row in answer["data"]
    ]
    for bar in bars:
        assert sum(bar["segments"]) == bar["count"]
    assert sum(b["count"] for b in bars) == sum(row["count"] for row in answer["data"])
    undated = page.js("return +document.querySelector('#timeline .undated').dataset.count")
    assert undated == answer["meta"]["undated"] > 0
    totals = page.js("return document.getElementById('timeline-totals').textContent")
    assert f"{answer['meta']['total']} matching events" in totals
    assert f"{answer['meta']['undated']} undated" in totals

    # A period chosen from the keyboard filters to it: the list is the API's for that period.
    # The chart is one tab stop; the arrow keys move between its periods.
    busiest = max(answer["data"], key=lambda row: row["count"])
    page.js("document.querySelector('#timeline .bar').focus()")
    keys = ActionChains(page.driver)
    for _ in range(answer["data"].index(busiest)):
        keys.send_keys(Keys.ARROW_RIGHT)
    keys.perform()
    focused = page.js("return document.activeElement.dataset.start")
    assert focused == busiest["period_start"]
    assert page.js("return document.querySelectorAll('#timeline .bar[tabindex=\"0\"]').length") == 1
    before = page.settled()
    ActionChains(page.driver).send_keys(Keys.ENTER).perform()
    page.wait_for(lambda: page.settled() not in ("", before))
    expected = all_ids(server, start=busiest["period_start"], end=busiest["period_end"])
    assert page.listed() == expected[:20]
    assert len(expected) == busiest["count"]
    assert page.js("return document.getElementById('f-start').value") == busiest["period_start"]


def test_map_shows_every_place_of_the_geojson(page: Explorer, server: Server) -> None:
    page.open()
    collection = api(server, "/v1/events.geojson", limit="all")
    places: set[tuple[float, float]] = set()
    for feature in collection["features"]:
        geometry = feature["geometry"]
        point = geometry["type"] == "Point"
        points = [geometry["coordinates"]] if point else geometry["coordinates"]
        places.update((lon, lat) for lon, lat in points)
    page.wait_for(lambda: page.js("return document.getElementById('map').dataset.places"))
    # Every place is drawn, alone or in a group of places close together at this zoom; the
    # counts are /v1/stats/places's, which agree with the GeoJSON export.
    drawn = sum(int(n) for n in page.all("#map path.place", "places"))
    assert drawn == len(places) > 0
    counted = api(server, "/v1/stats/places")
    assert counted["meta"]["places"] == len(places)
    singles = page.js(
        "return Object.fromEntries([...document.querySelectorAll('#map path.place')]"
        ".filter(p => p.dataset.places === '1').map(p => [p.dataset.place, +p.dataset.events]))"
    )
    assert singles == {row["location_id"]: row["events"] for row in counted["data"]}
    assert (
        page.js("return +document.getElementById('map').dataset.without")
        == (collection["meta"]["excluded_without_coordinates"])
    )
    # A place known only by a centroid is drawn hollow and dashed, not as a point.
    centroids = page.js(
        "return [...document.querySelectorAll('#map path.place.centroid')].map(p =>"
        "[p.getAttribute('fill'), p.getAttribute('stroke-dasharray'), p.dataset.place])"
    )
    expected = {
        location["id"]
        for feature in collection["features"]
        for location in feature["properties"]["locations"]
        if location["precision"] in ("country_centroid", "continent_centroid")
    }
    assert {place for _, _, place in centroids} == expected
    assert all(fill == "none" and dash for fill, dash, _ in centroids)
    events = sum(int(n) for n in page.all("#map path.place", "events"))
    points = sum(
        1 if f["geometry"]["type"] == "Point" else len(f["geometry"]["coordinates"])
        for f in collection["features"]
    )
    assert events == points


def test_evidence_is_highlighted_inside_the_source_text(page: Explorer, server: Server) -> None:
    event = api(server, "/v1/events/russian-strike-five-regions")
    claims = [c for c in event["claims"] if c["evidence"]]
    claim = claims[-1]
    page.open("?event=russian-strike-five-regions")
    page.wait_for(lambda: page.js("return !!document.querySelector('#evidence mark')"))
    page.act(
        "document.querySelector(`li[data-claim='${arguments[0]}'] button.show-evidence`).click()",
        claim["id"],
    )
    evidence = api(server, f"/v1/claims/{claim['id']}/evidence")
    mark = page.js("return document.querySelector('#evidence mark')")
    assert mark.get_attribute("data-claim") == claim["id"]
    assert mark.text == evidence["text"]
    source = httpx.get(f"{server.base}/v1/sources/{evidence['source_id']}/text").text
    shown = page.js("return document.querySelector('#evidence .source-text').textContent")
    assert shown == source
    # The text is scrolled to the span: the mark is inside the visible part of its box.
    inside = page.js(
        "const m = document.querySelector('#evidence mark').getBoundingClientRect();"
        "const b = document.querySelector('#evidence .source-text').getBoundingClientRect();"
        "return m.top >= b.top && m.top < b.bottom"
    )
    assert inside
    # The corroborating sources are the event's.
    assert page.all("#event .sources li", "source") == event["source_ids"]
    # The claim says who speaks, its hedging in words, and its figures with their bounds.
    texts = " ".join(page.texts("#event .claims > li"))
    assert "(states as fact)" in texts
    assert "(reportedly)" in texts
    over = [q for q in event["quantities"] if q["qualifier"] == "more_than"]
    assert over
    for q in over:
        assert f"more than {int(q['low']):,}" in texts
        assert q["as_reported"] in texts


def test_filters_back_and_a_shared_url_restore_the_view(page: Explorer, server: Server) -> None:
    page.open()
    everything = page.listed()
    assert everything == all_ids(server)[:20]
    page.act(
        "const f = document.getElementById('filters');"
        "for (const o of document.getElementById('f-type').options)"
        " o.selected = o.value === 'CONSULT';"
        "f.elements.q.value = 'talks'; f.requestSubmit()"
    )
    filtered = page.listed()
    assert filtered == all_ids(server, type="CONSULT", q="talks")
    assert 0 < len(filtered) < len(everything)
    shared = page.driver.current_url
    assert "type=CONSULT" in shared
    assert "q=talks" in shared

    page.back()
    assert page.listed() == everything
    assert page.js("return document.getElementById('f-q').value") == ""

    page.driver.get(shared)
    page.wait_for(lambda: page.settled() != "")
    assert page.listed() == filtered
    assert page.js("return document.getElementById('f-q').value") == "talks"
    assert page.js(
        "return [...document.getElementById('f-type').selectedOptions].map(o => o.value)"
    ) == ["CONSULT"]

    # An actor chosen in the network filters to it, and the type-ahead finds it by an alias.
    nodes = api(server, "/v1/network", type="CONSULT", q="talks", node_limit="30")["nodes"]
    actor = min(nodes, key=lambda n: (n["events"], n["id"]))["id"]
    page.wait_for(lambda: page.js("return document.querySelectorAll('#network .node').length") > 0)
    page.act(
        "document.querySelector(`#network .node[data-actor='${arguments[0]}']`)"
        ".dispatchEvent(new MouseEvent('click'))",
        actor,
    )
    assert page.listed() == all_ids(server, type="CONSULT", q="talks", actor=actor)
    assert page.all("#actor-chips button", "actor") == [actor]


def test_actor_type_ahead_finds_aliases(page: Explorer, server: Server) -> None:
    page.open()
    page.js(
        "const i = document.getElementById('f-actor'); i.focus(); i.value = 'President Put';"
        "i.dispatchEvent(new Event('input'))"
    )
    page.wait_for(lambda: not page.js("return document.getElementById('actor-options').hidden"))
    options = page.all("#actor-options li", "actor")
    found = api(server, "/v1/actors", q="President Put", limit="8")["data"]
    assert options == [a["id"] for a in found]
    assert options
    page.act(
        "const i = document.getElementById('f-actor');"
        "i.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowDown'}));"
        "i.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'}))"
    )
    assert page.listed() == all_ids(server, actor=options[0])[:20]


def test_as_of_shows_the_older_title(page: Explorer, server: Server) -> None:
    url = "/v1/events/putin-xi-video-summit"
    old = api(server, url)["title"]
    before = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    time.sleep(1.1)  # revisions are kept to the second
    key = server.key("explore-test")
    answer = httpx.patch(
        f"{server.base}{url}",
        json={"title": "Putin and Xi Jinping talk by video (edited)"},
        headers={"Authorization": f"Bearer {key}", "If-Match": "*"},
    )
    assert answer.status_code == 200, answer.text
    page.open("?event=putin-xi-video-summit")
    assert page.js("return document.getElementById('event-title').textContent") == (
        "Putin and Xi Jinping talk by video (edited)"
    )
    page.open("?" + urlencode({"event": "putin-xi-video-summit", "as_of": before}))
    assert page.js("return document.getElementById('event-title').textContent") == old
    titles = page.texts("#list li a.title")
    assert old in titles
    assert "Putin and Xi Jinping talk by video (edited)" not in titles
    assert page.js("return document.getElementById('as-of-banner').hidden") is False
    # The history offers each revision's moment.
    moments = page.all("#event button.as-of", "at")
    assert len(moments) == len(api(server, f"{url}/history")["data"]) >= 2


def test_no_request_leaves_the_server(page: Explorer, server: Server) -> None:
    page.console()  # what earlier tests left there
    page.open("?event=abu-dhabi-talks-round-1")
    page.wait_for(lambda: page.js("return document.querySelectorAll('#map path').length") > 0)
    entries = page.js(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))"
    )
    assert len(entries) > 10
    assert all(name.startswith(server.base + "/") for name in entries), entries
    assert page.js("return performance.getEntriesByName('explore:ready').length") == 1
    # No request failed and no script broke (a blocked foreign request would say so here).
    assert [e["message"] for e in page.console() if e["level"] == "SEVERE"] == []
    policy = httpx.get(f"{server.base}/explore").headers["content-security-policy"]
    assert "default-src 'self'" in policy


def test_usable_at_390_pixels(page: Explorer, server: Server) -> None:
    page.driver.set_window_size(390, 1400)
    page.open("?event=abu-dhabi-talks-round-1")
    width = page.js("return window.innerWidth")
    assert page.js("return document.documentElement.scrollWidth") <= width
    assert page.listed() == all_ids(server)[:20]
    for selector in ("#list-panel", "#event-panel", "#timeline-panel", "#map-panel"):
        box = page.js(f"return document.querySelector('{selector}').getBoundingClientRect()")
        assert box["right"] <= width + 1
        assert box["width"] > width * 0.8
    # The filters fold away on a phone; opened, they fit the screen too.
    assert page.js("return document.getElementById('filters-box').open") is False
    page.js("document.querySelector('#filters-box > summary').click()")
    form = page.js("return document.getElementById('filters').getBoundingClientRect()")
    assert 0 < form["width"] <= width
    assert page.js("return document.documentElement.scrollWidth") <= width
    labels = page.js(
        "return [...document.querySelectorAll('input, select')].filter(e =>"
        " e.type !== 'hidden' && !e.closest('.leaflet-container') &&"
        " !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id)"
    )
    assert labels == []


def test_the_landing_page_links_the_explorer(server: Server) -> None:
    landing = httpx.get(f"{server.base}/", headers={"Accept": "text/html"}).text
    assert 'href="/explore"' in landing
    page = httpx.get(f"{server.base}/explore")
    assert page.status_code == 200
    assert "/static/explore/js/main.js" in page.text


def test_network_sizes_actors_by_events_and_links_by_shared_events(
    page: Explorer, server: Server
) -> None:
    page.open("?mode=directed")
    network = api(server, "/v1/network", mode="directed", node_limit="30")
    page.wait_for(lambda: page.js("return document.querySelectorAll('#network .node').length"))
    nodes = page.js(
        "return [...document.querySelectorAll('#network .node')].map(g =>"
        "[g.dataset.actor, +g.querySelector('circle').getAttribute('r')])"
    )
    assert sorted(actor for actor, _ in nodes) == sorted(n["id"] for n in network["nodes"])
    radius = dict(nodes)
    events = {n["id"]: n["events"] for n in network["nodes"]}
    ordered = sorted(events, key=lambda actor: events[actor])
    assert [radius[a] for a in ordered] == sorted(radius[a] for a in ordered)
    edges = page.js(
        "return [...document.querySelectorAll('#network line.edge')].map(l =>"
        "[+l.getAttribute('stroke-width'), l.getAttribute('marker-end')])"
    )
    assert len(edges) == len(network["edges"]) > 0
    assert all(marker == "url(#arrow)" for _, marker in edges)
    assert page.js("return document.getElementById('n-directed').checked") is True
    # Undirected, from the checkbox: the API's undirected edges, without arrows.
    page.act("document.getElementById('n-directed').click()")
    undirected = api(server, "/v1/network", node_limit="30")
    lines = page.all("#network line.edge", "none")
    assert len(lines) == len(undirected["edges"])
    assert page.js("return document.querySelectorAll('#network line[marker-end]').length") == 0
    assert "mode=" not in page.driver.current_url


def test_exports_are_of_the_current_selection(page: Explorer, server: Server) -> None:
    page.open("?status=ongoing&group=status")
    links = page.js(
        "return Object.fromEntries(['csv', 'geojson', 'ndjson'].map(f =>"
        "[f, document.getElementById('export-' + f).href]))"
    )
    ongoing = all_ids(server, status="ongoing")
    assert ongoing
    ndjson = httpx.get(links["ndjson"]).text.splitlines()
    assert [json.loads(line)["id"] for line in ndjson] == ongoing
    rows = list(csv.DictReader(io.StringIO(httpx.get(links["csv"]).text)))
    assert [row["id"] for row in rows] == ongoing
    geojson = httpx.get(links["geojson"]).json()
    assert geojson["meta"]["total"] == len(ongoing)
    assert page.js("return document.getElementById('api-link').href") == (
        f"{server.base}/v1/events?status=ongoing"
    )


def test_the_map_area_filters_and_a_shared_area_opens_on_it(page: Explorer, server: Server) -> None:
    page.open("?bbox=20,40,40,60")  # Kyiv's part of Europe
    expected = all_ids(server, bbox="20,40,40,60")
    assert page.listed() == expected[:20]
    assert 0 < len(expected) < len(all_ids(server))
    page.wait_for(lambda: page.js("return document.getElementById('map').dataset.places"))
    assert page.all("#map path.place", "place") == ["kyiv"]
    assert page.js("return document.getElementById('f-bbox').textContent") == "box 20,40,40,60"
    # The button takes the visible area as the filter; the list follows it.
    page.act("document.getElementById('map-filter').click()")
    bbox = parse_qs(urlsplit(page.driver.current_url).query)["bbox"][0]
    west, south, east, north = (float(v) for v in bbox.split(","))
    assert west <= 20
    assert south <= 40
    assert east >= 40
    assert north >= 60
    assert page.listed() == all_ids(server, bbox=bbox)[:20]
    page.act("document.getElementById('clear-bbox').click()")
    assert page.listed() == all_ids(server)[:20]

    # Zooming filters too, once "filter as the map moves" is on.
    page.act("document.getElementById('map-follow').click()")
    wide = parse_qs(urlsplit(page.driver.current_url).query)["bbox"][0]
    page.act("document.querySelector('#map .leaflet-control-zoom-in').click()")
    query = parse_qs(urlsplit(page.driver.current_url).query)
    narrow = query["bbox"][0]
    assert query["follow"] == ["1"]
    span = [
        float(b) - float(a) for a, b in zip(wide.split(",")[:2], wide.split(",")[2:], strict=True)
    ]
    zoomed = [
        float(b) - float(a)
        for a, b in zip(narrow.split(",")[:2], narrow.split(",")[2:], strict=True)
    ]
    assert zoomed[0] < span[0]
    assert zoomed[1] < span[1]
    assert page.listed() == all_ids(server, bbox=narrow)[:20]


def test_a_refused_filter_is_said_in_the_apis_words(page: Explorer, server: Server) -> None:
    page.open("?start=2026-13")
    problem = httpx.get(f"{server.base}/v1/events", params={"start": "2026-13"}).json()
    assert page.js("return document.getElementById('error').hidden") is False
    assert problem["detail"] in page.js("return document.getElementById('error').textContent")
    assert page.js("return document.getElementById('f-start').getAttribute('aria-invalid')") == (
        "true"
    )
