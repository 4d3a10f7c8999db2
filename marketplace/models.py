"""Import every feature's models so that SQLAlchemy and Alembic see all tables."""

from marketplace.audit.models import AuditEvent
from marketplace.auth.models import ApiToken, OrderTakerProfile, User
from marketplace.books.models import BookSettings, CashEntry, Contribution
from marketplace.catalog.models import (
    Category,
    FacilitatorAssignment,
    Kube,
    KubeMember,
    Product,
    ProductPhoto,
)
from marketplace.chains.models import ChainProcess, ProcessFlow, ProcessKube, SupplyChain
from marketplace.facilitator.models import VisitPhoto, VisitReport
from marketplace.ledger.models import LedgerEntry, Payout
from marketplace.orders.models import (
    CartItem,
    Checkout,
    Notification,
    Order,
    OrderEvent,
    OrderLine,
    OrderMessage,
)
from marketplace.payments.models import PaymentEvent, Refund
from marketplace.privacy.models import ErasureRequest
from marketplace.reviews.models import KubeReview, ProductReview
from marketplace.search.models import SearchLog, SearchOutbox
from marketplace.sourcing.models import (
    ContractDelivery,
    Lot,
    LotSource,
    Quote,
    SourcingRequest,
    SupplyContract,
)
from marketplace.stories.models import Story, StoryPhoto
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiToken",
    "AuditEvent",
    "BookSettings",
    "CartItem",
    "CashEntry",
    "Category",
    "ChainProcess",
    "Checkout",
    "ContractDelivery",
    "Contribution",
    "ErasureRequest",
    "FacilitatorAssignment",
    "Kube",
    "KubeMember",
    "KubeReview",
    "LedgerEntry",
    "Lot",
    "LotSource",
    "Notification",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderMessage",
    "OrderTakerProfile",
    "PaymentEvent",
    "Payout",
    "ProcessFlow",
    "ProcessKube",
    "Product",
    "ProductPhoto",
    "ProductReview",
    "Quote",
    "Refund",
    "SearchLog",
    "SearchOutbox",
    "SourcingRequest",
    "Story",
    "StoryPhoto",
    "SupplyChain",
    "SupplyContract",
    "User",
    "VisitPhoto",
    "VisitReport",
    "WebhookDelivery",
    "WebhookEndpoint",
]
