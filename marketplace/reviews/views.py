"""Pages of the reviews feature."""

from marketplace.reviews import bp  # noqa: F401
