"""Prometheus metrics of this process: requests by route and status, latency, pool use."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Counters and a latency histogram, kept per process (each worker has its own; scrape
    every worker, or sum them in Prometheus)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self._sums: dict[tuple[str, str], float] = defaultdict(float)
        self._totals: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        with self._lock:
            self._counts[(method, route, status)] += 1
            key = (method, route)
            for n, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self._buckets[key][n] += 1
            self._sums[key] += seconds
            self._totals[key] += 1

    def render(self, pools: dict[str, Any]) -> str:
        """The Prometheus text exposition format (0.0.4)."""
        lines = [
            "# HELP geoevents_requests_total Requests answered, by method, route and status.",
            "# TYPE geoevents_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self._counts.items()):
                labels = f'method="{method}",route="{_escape(route)}",status="{status}"'
                lines.append(f"geoevents_requests_total{{{labels}}} {n}")
            lines += [
                "# HELP geoevents_request_duration_seconds Time to answer, by method and route.",
                "# TYPE geoevents_request_duration_seconds histogram",
            ]
            for (method, route), counts in sorted(self._buckets.items()):
                labels = f'method="{method}",route="{_escape(route)}"'
                for bound, n in zip(BUCKETS, counts, strict=True):
                    lines.append(
                        f'geoevents_request_duration_seconds_bucket{{{labels},le="{bound}"}} {n}'
                    )
                total = self._totals[(method, route)]
                lines.append(
                    f'geoevents_request_duration_seconds_bucket{{{labels},le="+Inf"}} {total}'
                )
                lines.append(
                    f"geoevents_request_duration_seconds_sum{{{labels}}} "
                    f"{self._sums[(method, route)]:.6f}"
                )
                lines.append(f"geoevents_request_duration_seconds_count{{{labels}}} {total}")
        lines += [
            "# HELP geoevents_db_pool_connections Database connections of this process's pools.",
            "# TYPE geoevents_db_pool_connections gauge",
        ]
        for name, pool in pools.items():
            for state, read in (
                ("size", "size"),
                ("checked_out", "checkedout"),
                ("overflow", "overflow"),
            ):
                value = getattr(pool, read, None)
                if callable(value):
                    lines.append(
                        f'geoevents_db_pool_connections{{pool="{name}",state="{state}"}} {value()}'
                    )
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
