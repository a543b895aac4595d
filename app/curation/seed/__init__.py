"""Seed bundles: one source and everything found in it, loaded idempotently."""
