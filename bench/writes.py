"""Write latency: PATCHes of one event's summary through a running server, timed one by one.

Each PATCH is a whole write (validation, the record, its stored documents, search row,
rollups, versions and revision, in one transaction); the GET before it fetches the ETag that
If-Match needs and is not timed.

    .venv/bin/python bench/writes.py --url http://127.0.0.1:8000 --key gek_... --event ev-00000597
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request
from http.client import HTTPMessage


def _send(
    url: str, method: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[HTTPMessage, bytes]:
    request = urllib.request.Request(url, method=method, data=body, headers=headers or {})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.headers, response.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True, help="a key with the write scope")
    parser.add_argument("--event", required=True, help="the id of the event to edit")
    parser.add_argument("--writes", type=int, default=7)
    args = parser.parse_args()
    record = f"{args.url}/v1/events/{args.event}"
    times = []
    for n in range(args.writes):
        headers, _ = _send(record, "GET")
        body = json.dumps({"summary": f"Edited for the write benchmark ({n})."}).encode()
        started = time.perf_counter()
        _send(
            record,
            "PATCH",
            body,
            {
                "Authorization": f"Bearer {args.key}",
                "If-Match": headers["ETag"],
                "Content-Type": "application/json",
            },
        )
        times.append(time.perf_counter() - started)
    shown = ", ".join(f"{1000 * t:.0f}" for t in times)
    print(f"PATCH ms: {shown}; median {1000 * statistics.median(times):.0f}")


if __name__ == "__main__":
    main()
