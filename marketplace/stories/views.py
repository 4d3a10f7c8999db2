"""Pages of this feature."""

from marketplace.stories import bp  # noqa: F401
