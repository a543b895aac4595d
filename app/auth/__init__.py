"""API keys: who may read and write."""
