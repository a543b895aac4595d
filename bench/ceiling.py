"""The framework ceiling: a bare Starlette app answering each URL with a precomputed body.

CEILING_MANIFEST names a JSON file mapping "path?query" to {"file": ..., "content_type": ...};
run with `uvicorn ceiling:app --app-dir bench`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def _load(manifest: Path) -> dict[str, tuple[bytes, str]]:
    entries = json.loads(manifest.read_text())
    return {
        target: ((manifest.parent / entry["file"]).read_bytes(), entry["content_type"])
        for target, entry in entries.items()
    }


BODIES = _load(Path(os.environ["CEILING_MANIFEST"]))


async def readyz(request: Request) -> Response:
    """Readiness probe."""
    return PlainTextResponse("ok")


async def answer(request: Request) -> Response:
    """The stored body of this exact path and query string, or 404."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    found = BODIES.get(target)
    if found is None:
        return PlainTextResponse("not a benchmarked URL", status_code=404)
    body, content_type = found
    return Response(body, media_type=content_type)


app = Starlette(
    routes=[Route("/readyz", readyz), Route("/{path:path}", answer)],
)
