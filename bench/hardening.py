"""Clients that try to stall or out-run the server: `make hardeningtest`.

Three runs on each store, against `geoevents serve` on a freshly seeded scratch database,
loopback only, each bounded in time:

- slow bodies: four times REQUEST_CONCURRENCY connections send the headers of a POST with a valid
  key and `Content-Length: 1000`, and as many without a key; meanwhile /healthz, /readyz and
  an uncached read are timed. Keyless ones must get their 401 at once, the others a 408 once
  BODY_TIMEOUT_SECONDS has passed.
- rate limit: `--workers 2`, 1 request a second and a burst of 10 per caller; 30 requests
  with 30 made-up keys, 30 with one valid key spelled four ways, 30 with no key, each phase
  from its own client address (X-Forwarded-For behind a trusted proxy, 127.0.0.1), each on
  fresh connections so that both workers answer. Each phase may be granted its burst plus
  what refilled meanwhile, not twice that.
- as_of: one request worked on at a time and four clients cycling through six moments, while
  /healthz and an uncached read are timed.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from serving import HOST, scratch_database, seed_with_key, served


def _unique(moment: datetime, n: int) -> str:
    """The moment, a few microseconds on: the same past, but a URL no cache has answered."""
    return (moment + timedelta(microseconds=n % 1000)).isoformat()


def _timed(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    status = client.get(url).status_code
    if status != 200:
        raise AssertionError(f"{url} answered {status}")
    return time.perf_counter() - started


def _summary(seconds: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


def _stalled(base: str, key: str | None) -> socket.socket:
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection((HOST, port), timeout=30)
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    sock.sendall(
        f"POST /v1/claims HTTP/1.1\r\nHost: {HOST}\r\n{auth}Content-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n".encode()
    )
    return sock


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            return 0
        head += chunk
    return int(head.split()[1])


def slow_bodies(env: dict[str, str], key: str) -> dict[str, Any]:
    concurrency, timeout = 4, 10
    env = env | {"REQUEST_CONCURRENCY": str(concurrency), "BODY_TIMEOUT_SECONDS": str(timeout)}
    with served(env, workers=1) as (base, _):
        started = time.perf_counter()
        keyed = [_stalled(base, key) for _ in range(4 * concurrency)]
        keyless = [_stalled(base, None) for _ in range(4 * concurrency)]
        keyless_answers = [_status(sock) for sock in keyless]
        keyless_ms = round((time.perf_counter() - started) * 1000, 1)
        timings: dict[str, list[float]] = {"/healthz": [], "/readyz": [], "read": []}
        with httpx.Client(base_url=base, timeout=10) as client:
            for n in range(40):
                timings["/healthz"].append(_timed(client, "/healthz"))
                timings["/readyz"].append(_timed(client, "/readyz"))
                timings["read"].append(_timed(client, f"/v1/events?q=summit&limit={n + 1}"))
        keyed_answers = [_status(sock) for sock in keyed]
        to_408 = round(time.perf_counter() - started, 1)
        for sock in keyed + keyless:
            sock.close()
    return {
        "stalled_connections": len(keyed) + len(keyless),
        "keyless_answers": sorted(set(keyless_answers)),
        "keyless_answered_within_ms": keyless_ms,
        "keyed_answers": sorted(set(keyed_answers)),
        "keyed_answered_after_s": to_408,
        **{name: _summary(values) for name, values in timings.items()},
    }


def rate_limit(env: dict[str, str], key: str) -> dict[str, Any]:
    rate, burst = 1.0, 10
    env = env | {
        "RATE_LIMIT_PER_SECOND": str(rate),
        "RATE_LIMIT_BURST": str(burst),
        "TRUSTED_PROXIES": f'["{HOST}"]',
    }
    spellings = [f"Bearer {key}", f"bearer {key}", f"Bearer   {key}", f"BEARER {key}"]
    phases = {
        "made-up keys": lambda n: {"Authorization": f"Bearer gek_made-up-{n}"},
        "one key, four spellings": lambda n: {"Authorization": spellings[n % 4]},
        "no key": lambda n: {},
    }
    results: dict[str, Any] = {}
    with served(env, workers=2) as (base, _):
        for number, (phase, headers_of) in enumerate(phases.items()):
            address = f"203.0.113.{number + 1}"

            def one(n: int, headers_of: Any = headers_of, address: str = address) -> int:
                headers = headers_of(n) | {"X-Forwarded-For": address}
                return httpx.get(base + "/v1/actors?limit=1", headers=headers).status_code

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=10) as pool:
                statuses = list(pool.map(one, range(30)))
            elapsed = time.perf_counter() - started
            results[phase] = {
                "granted": statuses.count(200),
                "refused_429": statuses.count(429),
                "allowed_at_most": burst + int(elapsed * rate) + 1,
                "seconds": round(elapsed, 2),
            }
    return results


def as_of(env: dict[str, str], key: str) -> dict[str, Any]:
    env = env | {"REQUEST_CONCURRENCY": "1"}
    with served(env, workers=1) as (base, _):
        moments: list[datetime] = []
        writer = {"Authorization": f"Bearer {key}", "If-Match": "*"}
        with httpx.Client(base_url=base, timeout=30) as client:
            for n in range(6):
                answer = client.patch(
                    "/v1/events/putin-xi-video-summit", json={"title": f"T{n}"}, headers=writer
                )
                assert answer.status_code == 200, answer.text
                time.sleep(1.05)
                moments.append(datetime.now(UTC))
        stop = threading.Event()
        answered: list[int] = []

        def cycle(offset: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as client:
                n = offset
                while not stop.is_set():
                    params = {"as_of": _unique(moments[n % len(moments)], n)}
                    answered.append(client.get("/v1/events", params=params).status_code)
                    n += 1

        threads = [threading.Thread(target=cycle, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        timings: dict[str, list[float]] = {"/healthz": [], "read": []}
        try:
            with httpx.Client(base_url=base, timeout=10) as client:
                for n in range(40):
                    timings["/healthz"].append(_timed(client, "/healthz"))
                    timings["read"].append(_timed(client, f"/v1/events?q=talks&limit={n + 1}"))
                    time.sleep(0.1)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    return {
        "as_of_answers": {str(s): answered.count(s) for s in sorted(set(answered))},
        **{name: _summary(values) for name, values in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    failed = False
    for store in args.stores.split(","):
        for run in (slow_bodies, rate_limit, as_of):
            with scratch_database(store, args.pg_url, "hardening") as url:
                env = os.environ | {"DATABASE_URL": url}
                key = seed_with_key(env, "hardening")
                result = run(env, key)
            print({"store": store, "run": run.__name__, **result}, flush=True)
            if run is slow_bodies:
                failed |= result["keyless_answers"] != [401] or result["keyed_answers"] != [408]
                failed |= any(result[n]["max_ms"] >= 1000 for n in ("/healthz", "/readyz", "read"))
            elif run is rate_limit:
                failed |= any(p["granted"] > p["allowed_at_most"] for p in result.values())
            else:
                failed |= set(result["as_of_answers"]) != {"200"}
                failed |= any(result[n]["max_ms"] >= 1000 for n in ("/healthz", "read"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
