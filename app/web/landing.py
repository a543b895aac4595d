"""The landing page at `/`: where the documentation and the resources are, as a small HTML
page for a browser and as JSON links for a client (RFC 8631 `service-desc`/`service-doc`)."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.core.errors import problem
from app.web.exports import EXPORTS
from app.web.formats import MEDIA_TYPES, preferred

OFFERED = ("application/json", "text/html")
# Pages beside the API that the landing links to when the app serves them.
PAGES = {
    "/docs": ("service-doc", "Interactive documentation (Swagger UI)", "text/html"),
    "/redoc": ("service-doc", "Reference documentation (ReDoc)", "text/html"),
    "/explore": ("related", "Explore the events in a browser", "text/html"),
    "/openapi.json": ("service-desc", "The OpenAPI document", "application/vnd.oai.openapi+json"),
}


def _links(app: FastAPI) -> list[dict[str, str]]:
    """The pages the app serves, then every public GET resource without a path parameter,
    as the OpenAPI document lists them."""
    paths = {getattr(route, "path", None) for route in app.routes}
    links = [
        {"rel": rel, "href": path, "title": title, "type": media}
        for path, (rel, title, media) in PAGES.items()
        if path in paths
    ]
    for path, item in app.openapi().get("paths", {}).items():
        operation = item.get("get")
        if operation is None or not path.startswith("/v1/") or "{" in path:
            continue
        title = str(operation.get("summary") or path)
        export = EXPORTS.get(path)
        media = MEDIA_TYPES[export.fmt].split(";")[0] if export else "application/json"
        links.append({"rel": "item", "href": path, "title": title, "type": media})
    return links


def _html(app: FastAPI, links: list[dict[str, str]]) -> str:
    items = "\n".join(
        f'    <li><a href="{escape(link["href"])}">{escape(link["href"])}</a> '
        f"— {escape(link['title'])}</li>"
        for link in links
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escape(app.title)}</title>
  <style>body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
    padding: 0 1rem; }} code {{ background: #f3f3f3; padding: 0 .2em; }}</style>
</head>
<body>
  <h1>{escape(app.title)} <small>{escape(app.version)}</small></h1>
  <p>Structured, evidence-backed events from news reporting about world politics. Every
  list below answers JSON, and also, with <code>format=</code> or at the operations ending in
  <code>.csv</code>, <code>.ndjson</code> and <code>.geojson</code>, CSV, NDJSON and (events
  and figures) GeoJSON.</p>
  <ul>
{items}
  </ul>
</body>
</html>
"""


def install_landing(app: FastAPI) -> None:
    """Serve `/`: HTML to a browser, JSON links to a client, 406 to neither."""

    @app.get("/", include_in_schema=False)
    def landing(request: Request) -> Response:
        links = _links(app)
        headers = {
            "Vary": "Accept",
            "Link": ", ".join(
                f'<{link["href"]}>; rel="{link["rel"]}"'
                for link in links
                if link["rel"] in {"service-desc", "service-doc"}
            ),
        }
        media = preferred(request.headers.get("accept", ""), OFFERED)
        if media == "text/html":
            return HTMLResponse(_html(app, links), headers=headers)
        if media == "application/json":
            body: dict[str, Any] = {"name": app.title, "version": app.version, "links": links}
            return JSONResponse(body, headers=headers)
        return problem(
            406,
            "/problems/not-acceptable",
            "Not acceptable",
            f"Accept: {request.headers.get('accept', '')[:200]} matches none of "
            f"{', '.join(OFFERED)}",
            request.url.path,
            "accept",
        )
