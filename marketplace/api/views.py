"""The JSON API v1, one module per resource; importing them registers their routes on the blueprint."""

from marketplace.api import kubes, openapi, products, tokens  # noqa: F401
