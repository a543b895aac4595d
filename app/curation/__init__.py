"""Writes: resource documents, their revisions, ingestion of new reporting."""
