"""Pages of this feature."""

from marketplace.graduation import bp  # noqa: F401
