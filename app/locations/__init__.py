"""Locations: places as reported, with offline gazetteer coordinates as enrichment."""
