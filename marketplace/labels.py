"""Human names for the enums, in the page's language."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from marketplace.books.models import Category as CashCategory
from marketplace.books.models import ShareBasis
from marketplace.catalog.models import BusinessKind, Category, KubeStatus, MemberRole, ProductStatus, Unit
from marketplace.ledger.models import EntryKind
from marketplace.orders.models import DeliveryMethod, OrderStatus

STATUS_LABELS: dict[StrEnum, object] = {
    KubeStatus.DRAFT: _l("Draft"),
    KubeStatus.VERIFIED: _l("Verified"),
    KubeStatus.ACTIVE: _l("Active"),
    KubeStatus.SUSPENDED: _l("Suspended"),
    ProductStatus.PENDING_REVIEW: _l("Waiting for review"),
    ProductStatus.PUBLISHED: _l("Published"),
    ProductStatus.ARCHIVED: _l("Archived"),
    OrderStatus.PENDING_PAYMENT: _l("Waiting for payment"),
    OrderStatus.PAID: _l("Paid"),
    OrderStatus.PROCESSING: _l("Being packed"),
    OrderStatus.SHIPPED: _l("Shipped"),
    OrderStatus.DELIVERED: _l("Delivered"),
    OrderStatus.COMPLETED: _l("Completed"),
    OrderStatus.CANCELLED: _l("Cancelled"),
    OrderStatus.EXPIRED: _l("Expired"),
    OrderStatus.REFUNDED: _l("Refunded"),
}
DELIVERY_LABELS = {
    DeliveryMethod.PICKUP: _l("Pickup at the KUBE"),
    DeliveryMethod.COURIER: _l("Courier"),
}
BUSINESS_KIND_LABELS = {
    BusinessKind.PRODUCTION: _l("Production"),
    BusinessKind.SERVICES: _l("Services"),
    BusinessKind.TRADE: _l("Trade"),
}
# The officer titles are Indonesian words in both languages (as the programme uses them).
ROLE_LABELS = {
    MemberRole.KETUA: _l("Ketua (chair)"),
    MemberRole.SEKRETARIS: _l("Sekretaris (secretary)"),
    MemberRole.BENDAHARA: _l("Bendahara (treasurer)"),
    MemberRole.ANGGOTA: _l("Anggota (member)"),
}
UNIT_LABELS = {
    Unit.KG: "kg",
    Unit.LITER: _l("litre"),
    Unit.PCS: "pcs",
    Unit.PAK: _l("pack"),
    Unit.IKAT: _l("bunch"),
    Unit.KARUNG: _l("sack"),
    Unit.BOTOL: _l("bottle"),
}

# The lines of a KUBE's ledger (credits and debits of its account with the platform).
LEDGER_KIND_LABELS = {
    EntryKind.SALE: _l("Sale"),
    EntryKind.DELIVERY: _l("Delivery fee"),
    EntryKind.FEE: _l("Platform fee"),
    EntryKind.REFUND: _l("Refund"),
    EntryKind.CASH: _l("Cash the KUBE received"),
    EntryKind.PAYOUT: _l("Payout to the KUBE"),
    EntryKind.CONTRACT: _l("Delivery to an order taker"),
    EntryKind.CHAIN_SALE: _l("Lots sold within an integrated business"),
    EntryKind.CHAIN_INPUT: _l("Lots bought within an integrated business"),
}

CASH_CATEGORY_LABELS = {
    CashCategory.OTHER_SALES: _l("Sales outside the platform"),
    CashCategory.SERVICES: _l("Services"),
    CashCategory.GRANT: _l("Aid or grant received"),
    CashCategory.OTHER_INCOME: _l("Other income"),
    CashCategory.RAW_MATERIALS: _l("Raw materials"),
    CashCategory.TRANSPORT: _l("Transport"),
    CashCategory.PACKAGING: _l("Packaging"),
    CashCategory.EQUIPMENT: _l("Tools and equipment"),
    CashCategory.WAGES: _l("Wages"),
    CashCategory.RENT_UTILITIES: _l("Rent, electricity and water"),
    CashCategory.OTHER_EXPENSE: _l("Other expense"),
}

SHARE_BASIS_LABELS = {
    ShareBasis.EQUAL: _l("Equal shares"),
    ShareBasis.CONTRIBUTION: _l("By recorded contribution"),
}


def book_label(value: str) -> str:
    """A cash book line's category: a hand-written entry's category, or the ledger kind it came from."""
    if value in CashCategory._value2member_map_:
        return str(CASH_CATEGORY_LABELS[CashCategory(value)])
    return str(LEDGER_KIND_LABELS[EntryKind(value)])


def share_basis_label(basis: ShareBasis) -> str:
    return str(SHARE_BASIS_LABELS[basis])


def status_label(status: StrEnum) -> str:
    if status == ProductStatus.DRAFT:
        return str(STATUS_LABELS[KubeStatus.DRAFT])
    return str(STATUS_LABELS.get(status, status.value))


def order_status_label(value: str) -> str:
    """An order status stored as text (an order event's from/to) by its label."""
    try:
        return status_label(OrderStatus(value))
    except ValueError:
        return value


def delivery_label(method: DeliveryMethod) -> str:
    return str(DELIVERY_LABELS[method])


def business_kind_label(kind: BusinessKind) -> str:
    return str(BUSINESS_KIND_LABELS[kind])


def role_label(role: MemberRole) -> str:
    return str(ROLE_LABELS[role])


def unit_label(unit: Unit) -> str:
    return str(UNIT_LABELS[unit])


def ledger_kind_label(kind: EntryKind) -> str:
    return str(LEDGER_KIND_LABELS[kind])


def category_name(category: Category) -> str:
    return category.name_for(str(get_locale() or "id"))


def event_note(note: str) -> str:
    """An order history note: the platform's own notes translated, people's words as they wrote them."""
    from flask_babel import gettext

    from marketplace.orders.services import SYSTEM_NOTES

    return gettext(note) if note in SYSTEM_NOTES else note


def template_globals() -> dict[str, object]:
    return {
        "event_note": event_note,
        "status_label": status_label,
        "order_status_label": order_status_label,
        "delivery_label": delivery_label,
        "business_kind_label": business_kind_label,
        "role_label": role_label,
        "unit_label": unit_label,
        "ledger_kind_label": ledger_kind_label,
        "category_name": category_name,
        "book_label": book_label,
        "share_basis_label": share_basis_label,
    }


def enum_label(value: StrEnum) -> str:
    """The label of any of the catalogue's enums (used to show service errors' parameters)."""
    if isinstance(value, MemberRole):
        return role_label(value)
    if isinstance(value, BusinessKind):
        return business_kind_label(value)
    if isinstance(value, Unit):
        return unit_label(value)
    if isinstance(value, DeliveryMethod):
        return delivery_label(value)
    if isinstance(value, EntryKind):
        return ledger_kind_label(value)
    return status_label(value)
