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

__all__ = [
    "ApiToken",
    "Category",
    "FacilitatorAssignment",
    "Kube",
    "KubeMember",
    "OrderTakerProfile",
    "Product",
    "ProductPhoto",
    "User",
]
