"""Fallback load driver (asyncio + httpx) for machines without wrk; prints wrk_report.lua's line."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx


class Tally:
    """What the connections observed."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.bytes = 0
        self.non2xx = 0
        self.connect = 0
        self.read = 0
        self.write = 0
        self.timeout = 0


async def _connection(client: httpx.AsyncClient, url: str, deadline: float, tally: Tally) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            async with client.stream("GET", url) as response:
                async for chunk in response.aiter_raw():
                    tally.bytes += len(chunk)
                if not 200 <= response.status_code < 400:
                    tally.non2xx += 1
        except httpx.TimeoutException:
            tally.timeout += 1
            continue
        except httpx.ConnectError:
            tally.connect += 1
            await asyncio.sleep(0.01)
            continue
        except httpx.WriteError:
            tally.write += 1
            continue
        except httpx.TransportError:
            tally.read += 1
            continue
        tally.latencies.append(time.perf_counter() - started)


async def run(url: str, connections: int, duration: float, timeout: float) -> dict[str, int]:
    """Drive `connections` concurrent request loops for `duration` seconds."""
    tally = Tally()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        started = time.perf_counter()
        deadline = started + duration
        tasks = [
            asyncio.create_task(_connection(client, url, deadline, tally))
            for _ in range(connections)
        ]
        # Requests still in flight at the deadline are abandoned, as wrk does.
        _, pending = await asyncio.wait(tasks, timeout=duration)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        elapsed = time.perf_counter() - started
    lat = sorted(tally.latencies)
    p50 = statistics.median(lat) if lat else 0.0
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0.0
    return {
        "requests": len(lat),
        "duration_us": int(elapsed * 1e6),
        "bytes": tally.bytes,
        "connect": tally.connect,
        "read": tally.read,
        "write": tally.write,
        "status": tally.non2xx,
        "timeout": tally.timeout,
        "p50_us": int(p50 * 1e6),
        "p99_us": int(p99 * 1e6),
    }


def main() -> None:
    """Parse the arguments, drive the load, print one GEOBENCH line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost")):
        raise SystemExit("loadgen only drives servers on the loopback interface")
    summary = asyncio.run(run(args.url, args.connections, args.duration, args.timeout))
    print("GEOBENCH " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
