"""Liveness and readiness probes, and metrics."""
