"""Import every feature's models so that SQLAlchemy and Alembic see all tables."""

from marketplace.auth.models import ApiToken, OrderTakerProfile, User
from marketplace.catalog.models import (
    Category,
    FacilitatorAssignment,
    Kube,
    KubeMember,
    Product,
    ProductPhoto,
)
from marketplace.search.models import SearchLog, SearchOutbox

__all__ = [
    "ApiToken",
    "Category",
    "FacilitatorAssignment",
    "Kube",
    "KubeMember",
    "OrderTakerProfile",
    "Product",
    "ProductPhoto",
    "SearchLog",
    "SearchOutbox",
    "User",
]
