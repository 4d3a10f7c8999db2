"""Pages of the payments feature."""

from marketplace.payments import bp  # noqa: F401
