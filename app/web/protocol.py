"""Refusals made below the app, in the one problem+json shape: requests uvicorn cannot parse,
and CORS preflights the policy does not allow."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.core.errors import PROBLEM_MEDIA_TYPE
from app.web.limits import problem_body

# uvicorn reads a request line of any length into memory before the app can refuse it; the
# parser gives up at about 64 KiB. Past this, a request it could not parse had a long target.
LONG_TARGET = 8192


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, whose refusal of a request it cannot parse is
    problem+json (414 when the target was too long to read, 400 otherwise) instead of a
    plain-text 400."""

    def send_400_response(self, msg: str) -> None:
        """Answer a request that could not be parsed, and close the connection."""
        target = getattr(self, "url", b"")
        if len(target) > LONG_TARGET:
            status, slug, detail = 414, "uri-too-long", "the request target is too long"
        else:
            status, slug, detail = 400, "bad-request", "the request is not valid HTTP/1.1"
        path = target.split(b"?", 1)[0][:200].decode("latin-1") or "/"
        body = problem_body(status, slug, detail, path)
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
        self.transport.write(b"".join(head))
        self.transport.close()


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, whose refusal of a preflight is problem+json naming what the policy
    does not allow, instead of a plain-text 400."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer preflights here; everything else as Starlette does."""
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                answer = self.preflight_response(request_headers=headers)
                if answer.status_code == 400:
                    answer = _refused(answer, scope["path"])
                await answer(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _refused(answer: Response, path: str) -> Response:
    refused = bytes(answer.body).decode().removeprefix("Disallowed CORS ")  # "method, headers"
    detail = f"the CORS policy does not allow the requested {refused}"
    headers = {
        name: value
        for name, value in answer.headers.items()
        if name not in ("content-length", "content-type")
    }
    body = problem_body(400, "cors-preflight-refused", detail, path, "Origin")
    return Response(body, 400, headers=headers, media_type=PROBLEM_MEDIA_TYPE)
