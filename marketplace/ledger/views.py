"""Pages of the ledger feature."""

from marketplace.ledger import bp  # noqa: F401
