"""The explorer at `/explore`: one static page and its scripts, served from the package. The
page reads only the public API, with the requests any dashboard would make."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "explore"
ASSETS_URL = "/static/explore"
# Everything the page loads comes from this server: a stray remote reference fails loudly.
# Leaflet positions its panes with inline styles, hence 'unsafe-inline' for styles only.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)


def install_explore(app: FastAPI) -> None:
    """Mount the explorer's files and the page itself."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="explore-assets")
    page = (ASSETS / "index.html").read_text(encoding="utf-8")

    @app.get("/explore", include_in_schema=False)
    def explore() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": POLICY})
