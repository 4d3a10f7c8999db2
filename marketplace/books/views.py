"""Pages of this feature."""

from marketplace.books import bp  # noqa: F401
