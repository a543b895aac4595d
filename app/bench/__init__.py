"""Benchmark support: a deterministic synthetic corpus at any scale."""
