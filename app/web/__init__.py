"""The HTTP layer under the domains: dependencies, formats and negotiation, HTTP caching,
limits and guards, metrics, the OpenAPI document. It imports only app.core."""
