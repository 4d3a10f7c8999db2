"""The JSON API v1, one module per resource; importing them registers their routes on the blueprint."""

import marketplace.api.chains
import marketplace.api.insights
import marketplace.api.kubes
import marketplace.api.openapi
import marketplace.api.orders
import marketplace.api.products
import marketplace.api.search
import marketplace.api.tokens  # noqa: F401
