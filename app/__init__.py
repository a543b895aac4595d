"""geoevents: political events, actors, sources and evidence-backed claims over HTTP."""

__version__ = "0.1.0"
