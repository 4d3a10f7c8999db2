"""Pages of this feature."""

from marketplace.insights import bp  # noqa: F401
