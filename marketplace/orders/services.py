"""The cart, checkout and the life of an order. No flask here.

Stock is reserved when a checkout is placed, with one conditional UPDATE per product
(`stock = stock - q WHERE stock >= q`): on PostgreSQL the row lock serialises buyers and the condition is
re-checked after the wait; on SQLite the first UPDATE takes the database's write lock (pysqlite begins the
transaction at the first write, and waits for the lock). If any line cannot be served the service raises
and the caller rolls back, so nothing stays reserved. Prices, fees and totals come from the database only.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lokal.rupiah import format_rupiah
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace.audit import services as audit
from marketplace.auth.models import User
from marketplace.catalog.models import PUBLIC_KUBE_STATUSES, Kube, KubeMember, MemberRole, Product, ProductStatus
from marketplace.catalog.permissions import member_role
from marketplace.common import (
    N_,
    ConflictError,
    DomainError,
    NotFoundError,
    Page,
    PermissionDenied,
    ValidationError,
    clean_int,
    clean_text,
    utcnow,
)
from marketplace.ledger import services as ledger
from marketplace.orders.models import (
    CartItem,
    Checkout,
    DeliveryMethod,
    Notification,
    Order,
    OrderEvent,
    OrderLine,
    OrderMessage,
    OrderStatus,
    PaymentMethod,
)
from marketplace.payments.models import Refund
from marketplace.payments.providers import MANUAL_ONLY, Payments, ProviderError
from marketplace.search import outbox
from marketplace.webhooks import events as webhooks

MAX_LINES = 50
MAX_PENDING_CHECKOUTS = 3
MAX_QUANTITY = 10_000
# How long an unpaid order holds its stock by default: 24 h for a bank transfer, 30 min for a card (settings
# MARKETPLACE_TRANSFER_WINDOW_MINUTES / MARKETPLACE_CARD_WINDOW_MINUTES). A cash-on-delivery order the KUBE
# has not accepted within 3 days (MARKETPLACE_COD_WINDOW_MINUTES) expires too; once accepted it never does.
PAYMENT_WINDOWS = {PaymentMethod.MANUAL: timedelta(hours=24), PaymentMethod.STRIPE: timedelta(minutes=30),
                   PaymentMethod.COD: timedelta(days=3)}

S = OrderStatus
# The legal moves of an order. Stock goes back on the way to cancelled, expired or refunded (once: the move
# itself is a conditional UPDATE on the order's status).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED, S.EXPIRED}),
    S.PAID: frozenset({S.PROCESSING, S.REFUNDED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REFUNDED: frozenset(),
}
RELEASES_STOCK = frozenset({S.CANCELLED, S.EXPIRED, S.REFUNDED})
# Cash on delivery: the KUBE packs and sends before it is paid; it can still cancel until it ships; the buyer
# pays at the door or at pickup and the bendahara records the cash (confirm_cash).
COD_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PROCESSING}),
    S.PROCESSING: frozenset({S.CANCELLED}),
}

# Notes the platform writes into an order's history: stored in English, shown translated (labels.event_note).
PAYMENT_RECEIVED = N_("payment received")
READY_FOR_PICKUP = N_("ready for pickup")
PAYMENT_WINDOW_PASSED = N_("payment window passed")
CARD_PAYMENT_RECEIVED = N_("card payment received")
CASH_RECEIVED = N_("cash received by the bendahara")
SYSTEM_NOTES = frozenset({PAYMENT_RECEIVED, READY_FOR_PICKUP, PAYMENT_WINDOW_PASSED, CARD_PAYMENT_RECEIVED,
                          CASH_RECEIVED})


class OutOfStock(ConflictError):
    code = "out_of_stock"


class PricesChanged(ConflictError):
    code = "prices_changed"


class PaymentUnavailable(ConflictError):
    code = "payment_unavailable"


# --- Cart -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartOwner:
    """A signed-in buyer, or a guest known by a random token kept in the session."""

    user_id: int | None = None
    guest_token: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.guest_token is None):
            raise ValueError("a cart belongs to a user or to a guest token")

    def where(self) -> Any:
        if self.user_id is not None:
            return CartItem.user_id == self.user_id
        return CartItem.guest_token == self.guest_token


def new_guest_token() -> str:
    return secrets.token_urlsafe(24)


def _public_product(session: Session, product_id: int) -> Product:
    product = session.scalar(
        select(Product).join(Product.kube).where(
            Product.id == product_id, Product.status == ProductStatus.PUBLISHED,
            Kube.status.in_(PUBLIC_KUBE_STATUSES),
        )
    )
    if product is None:
        raise NotFoundError(N_("Product not found."))
    return product


def _clean_quantity(product: Product, quantity: object) -> int:
    qty = clean_int(quantity, field="quantity", minimum=1, maximum=MAX_QUANTITY)
    if qty < product.min_order_qty:
        raise ValidationError(N_("The minimum order for %(name)s is %(min)s."), field="quantity",
                              name=product.name, min=product.min_order_qty)
    return qty


def add_to_cart(session: Session, owner: CartOwner, product_id: int, quantity: object = 1) -> CartItem:
    """Put a product in the cart, or add to its quantity."""
    product = _public_product(session, product_id)
    item = session.scalar(select(CartItem).where(owner.where(), CartItem.product_id == product.id))
    wanted = clean_int(quantity, field="quantity", minimum=1, maximum=MAX_QUANTITY)
    total = wanted + (item.quantity if item else 0)
    total = _clean_quantity(product, max(total, product.min_order_qty))
    if item is None:
        item = CartItem(user_id=owner.user_id, guest_token=owner.guest_token, product_id=product.id, quantity=total)
        session.add(item)
    else:
        item.quantity = total
    session.flush()
    return item


def set_cart_quantity(session: Session, owner: CartOwner, product_id: int, quantity: object) -> None:
    item = session.scalar(select(CartItem).where(owner.where(), CartItem.product_id == product_id))
    if item is None:
        raise NotFoundError(N_("This product is not in your cart."))
    product = _public_product(session, product_id)
    item.quantity = _clean_quantity(product, quantity)
    session.flush()


def remove_from_cart(session: Session, owner: CartOwner, product_id: int) -> None:
    session.execute(delete(CartItem).where(owner.where(), CartItem.product_id == product_id))


def take_from_cart(session: Session, owner: CartOwner, product_ids: Collection[int]) -> None:
    """Empty these lines of the cart as a checkout takes them; when they are already gone (the same checkout
    sent twice: the other request took them) refuse, so one cart makes one checkout."""
    taken = session.execute(delete(CartItem).where(owner.where(), CartItem.product_id.in_(list(product_ids))))
    if taken.rowcount != len(product_ids):  # type: ignore[attr-defined]
        raise ConflictError(N_("This cart has just been checked out; see your orders."), field="items")


def merge_guest_cart(session: Session, guest_token: str, user: User) -> int:
    """On sign-in, the guest's cart joins the account's (quantities of the same product add up)."""
    guest = list(session.scalars(select(CartItem).where(CartItem.guest_token == guest_token)))
    if not guest:
        return 0
    mine = {i.product_id: i for i in session.scalars(select(CartItem).where(CartItem.user_id == user.id))}
    for item in guest:
        if item.product_id in mine:
            mine[item.product_id].quantity = min(MAX_QUANTITY, mine[item.product_id].quantity + item.quantity)
            session.delete(item)
        else:
            item.user_id, item.guest_token = user.id, None
    session.flush()
    return len(guest)


@dataclass
class CartGroup:
    kube: Kube
    items: list[tuple[CartItem, Product]] = field(default_factory=list)

    @property
    def goods_total(self) -> int:
        return sum(p.price * i.quantity for i, p in self.items)

    @property
    def weight_grams(self) -> int:
        return sum(p.weight_grams * i.quantity for i, p in self.items)


def cart(session: Session, owner: CartOwner) -> list[CartGroup]:
    """The cart grouped by KUBE (products no longer on sale are left out), in two queries."""
    rows = session.execute(
        select(CartItem, Product)
        .join(Product, CartItem.product_id == Product.id)
        .join(Product.kube)
        .where(owner.where(), Product.status == ProductStatus.PUBLISHED, Kube.status.in_(PUBLIC_KUBE_STATUSES))
        .options(joinedload(Product.kube), selectinload(Product.photos))
        .order_by(Kube.name, Product.name)
    ).all()
    groups: dict[int, CartGroup] = {}
    for item, product in rows:
        groups.setdefault(product.kube_id, CartGroup(product.kube)).items.append((item, product))
    return list(groups.values())


# --- Checkout ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """How one KUBE's order reaches the buyer."""

    method: str = DeliveryMethod.PICKUP.value
    recipient_name: str = ""
    recipient_phone: str = ""
    address: str = ""


def delivery_fee(kube: Kube, method: DeliveryMethod, weight_grams: int) -> int:
    """Pickup is free; a courier costs the KUBE's base fee plus its fee per started kilogram."""
    if method == DeliveryMethod.PICKUP:
        return 0
    kilos = max(1, -(-weight_grams // 1000))
    return kube.courier_base_fee + kube.courier_fee_per_kg * kilos


def _clean_delivery(kube: Kube, delivery: Delivery) -> tuple[DeliveryMethod, str, str, str]:
    try:
        method = DeliveryMethod(delivery.method)
    except ValueError:
        raise ValidationError(N_("Choose pickup or courier."), field="delivery") from None
    if method == DeliveryMethod.PICKUP and not kube.pickup_enabled:
        raise ValidationError(N_("%(kube)s does not offer pickup."), field="delivery", kube=kube.name)
    if method == DeliveryMethod.COURIER and not kube.courier_enabled:
        raise ValidationError(N_("%(kube)s does not send by courier."), field="delivery", kube=kube.name)
    name = clean_text(delivery.recipient_name, field="recipient_name", max_length=120,
                      required=method == DeliveryMethod.COURIER)
    phone = clean_text(delivery.recipient_phone, field="recipient_phone", max_length=30,
                       required=method == DeliveryMethod.COURIER)
    address = clean_text(delivery.address, field="address", max_length=1000,
                         required=method == DeliveryMethod.COURIER)
    return method, name, phone, address


def _unique_code(session: Session, total: int) -> int:
    """1-999 added to a bank transfer so the operator can tell transfers apart: never the amount of another
    checkout still waiting for its transfer."""
    taken = set(session.scalars(
        select(Checkout.total + Checkout.unique_code).where(
            Checkout.payment_method == PaymentMethod.MANUAL, Checkout.total.between(total, total + 999),
            exists().where(Order.checkout_id == Checkout.id, Order.status == OrderStatus.PENDING_PAYMENT))
    ))
    free = [code for code in range(1, 1000) if total + code not in taken]
    return secrets.choice(free) if free else secrets.randbelow(999) + 1


def _clean_items(items: Iterable[tuple[object, object]]) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for product_id, quantity in items:
        pid = clean_int(product_id, field="product_id", minimum=1, maximum=2**31 - 1)
        qty = clean_int(quantity, field="quantity", minimum=1, maximum=MAX_QUANTITY)
        wanted[pid] = min(MAX_QUANTITY, wanted.get(pid, 0) + qty)
    if not wanted:
        raise ValidationError(N_("The cart is empty."), field="items")
    if len(wanted) > MAX_LINES:
        raise ValidationError(N_("At most %(max)s products per checkout."), field="items", max=MAX_LINES)
    return wanted


def place_checkout(
    session: Session,
    buyer: User,
    items: Iterable[tuple[object, object]],
    *,
    payment_method: str,
    delivery: Mapping[int, Delivery] | Delivery = Delivery(),
    now: datetime | None = None,
    fee_bps: int = 0,
    payments: Payments | None = None,
    seen_prices: Mapping[int, object] | None = None,
    payment_windows: Mapping[PaymentMethod, timedelta] | None = None,
) -> Checkout:
    """Reserve the stock and create one checkout with one order per KUBE (the caller commits, or rolls back
    on any error: then nothing is reserved). `delivery` is per KUBE id, or one choice for all. `fee_bps` is the
    platform's fee on the goods in basis points, fixed on each order (the KUBE ledger uses it). When the buyer
    saw prices (`seen_prices`, product id -> unit price) and one changed since, nothing is placed (PricesChanged).
    A card checkout opens its payment with the provider before anything is written; a provider error places
    nothing."""
    now = now or utcnow()
    payments = payments or MANUAL_ONLY
    if payment_method not in payments.methods:
        raise ValidationError(N_("Choose a payment method."), field="payment_method")
    pending = session.scalar(select(func.count(Checkout.id)).where(
        Checkout.buyer_id == buyer.id,
        exists().where(Order.checkout_id == Checkout.id, Order.status == OrderStatus.PENDING_PAYMENT)))
    if (pending or 0) >= MAX_PENDING_CHECKOUTS:
        # Unpaid checkouts hold stock: one account must not be able to lock a KUBE's whole stock.
        raise ConflictError(N_("Pay or cancel your unpaid orders before placing more."), field="payment_method")
    try:
        method = PaymentMethod(payment_method)
    except ValueError:
        raise ValidationError(N_("Choose a payment method."), field="payment_method") from None
    wanted = _clean_items(items)
    products = {
        p.id: p for p in session.scalars(
            select(Product).join(Product.kube)
            .where(Product.id.in_(sorted(wanted)), Product.status == ProductStatus.PUBLISHED,
                   Kube.status.in_(PUBLIC_KUBE_STATUSES))
            .options(joinedload(Product.kube))
        )
    }
    for pid in wanted:
        if pid not in products:
            raise NotFoundError(N_("A product in the cart is no longer on sale."), field="items")
    for pid, qty in wanted.items():
        _clean_quantity(products[pid], qty)
    for pid, seen in (seen_prices or {}).items():
        if pid in products and str(seen) != str(products[pid].price):
            raise PricesChanged(N_("The price of %(name)s changed to %(price)s since you opened this page. Check "
                                   "your order and place it again."), field="items", name=products[pid].name,
                                price=format_rupiah(products[pid].price), product_id=pid)

    # Every KUBE's part, computed before anything is written.
    by_kube: dict[int, list[Product]] = {}
    for pid in sorted(wanted):
        by_kube.setdefault(products[pid].kube_id, []).append(products[pid])
    parts = []
    for kube_id, kube_products in by_kube.items():
        kube = kube_products[0].kube
        choice = delivery.get(kube_id, Delivery()) if isinstance(delivery, Mapping) else delivery
        how, name, phone, address = _clean_delivery(kube, choice)
        weight = sum(p.weight_grams * wanted[p.id] for p in kube_products)
        goods = sum(p.price * wanted[p.id] for p in kube_products)
        parts.append((kube_id, kube_products, how, name, phone, address, weight, goods,
                      delivery_fee(kube, how, weight)))
    total = sum(part[7] + part[8] for part in parts)

    # A card payment is opened first: no row is locked while the provider answers. (If the stock then runs
    # out, the intent stays unused: nobody ever gets its client secret.)
    try:
        intent = payments.provider(method).start(total, f"checkout-{secrets.token_hex(8)}")
    except ProviderError:
        raise PaymentUnavailable(N_("Card payments are not available right now. Try again in a moment, or "
                                    "choose another payment method."), field="payment_method") from None

    # Reserve in product-id order (two checkouts never wait on each other in opposite orders).
    for pid in sorted(wanted):
        reserved = session.execute(
            update(Product)
            .where(Product.id == pid, Product.stock >= wanted[pid], Product.status == ProductStatus.PUBLISHED)
            .values(stock=Product.stock - wanted[pid])
            .execution_options(synchronize_session=False)
        )
        if reserved.rowcount != 1:  # type: ignore[attr-defined]
            raise OutOfStock(N_("Not enough stock of %(name)s."), field="items", name=products[pid].name,
                             product_id=pid)
    outbox.enqueue(session, "product", sorted(wanted))
    for pid in wanted:
        session.expire(products[pid], ["stock"])

    window = (PAYMENT_WINDOWS if payment_windows is None else payment_windows).get(method)
    expires = now + window if window else None
    checkout = Checkout(buyer_id=buyer.id, payment_method=method, goods_total=0, delivery_total=0, total=0,
                        created_at=now, expires_at=expires, unique_code=0,
                        payment_intent_id=intent.id if intent else None)
    session.add(checkout)
    for kube_id, kube_products, how, name, phone, address, weight, goods, fee in parts:
        lines = [OrderLine(product_id=p.id, product_name=p.name, unit=p.unit.value, unit_price=p.price,
                           quantity=wanted[p.id], line_total=p.price * wanted[p.id]) for p in kube_products]
        order = Order(kube_id=kube_id, buyer_id=buyer.id, delivery_method=how, delivery_fee=fee, goods_total=goods,
                      total=goods + fee, weight_grams=weight, recipient_name=name, recipient_phone=phone,
                      address=address, created_at=now, expires_at=expires, lines=lines,
                      platform_fee=ledger.platform_fee(goods, fee_bps),
                      status=OrderStatus.PENDING_PAYMENT)
        order.events.append(OrderEvent(from_status=None, to_status=OrderStatus.PENDING_PAYMENT.value,
                                       actor_id=buyer.id, note="", created_at=now))
        checkout.orders.append(order)
        checkout.goods_total += goods
        checkout.delivery_total += fee
    checkout.total = checkout.goods_total + checkout.delivery_total
    if method == PaymentMethod.MANUAL:
        checkout.unique_code = _unique_code(session, checkout.total)
    session.flush()
    for order in checkout.orders:
        message = NEW_COD_ORDER if method == PaymentMethod.COD else NEW_ORDER
        notify(session, _member_ids(session, order.kube_id), order, message, id=order.id, total=order.total)
        webhooks.order_placed(session, order, now)
    return checkout


# --- The life of an order ---------------------------------------------------------------------------


def _move(session: Session, order: Order, to: OrderStatus, actor: User | None, note: str = "",
          now: datetime | None = None) -> bool:
    """Move `order` to `to` if it is still where we saw it (a conditional UPDATE): False when another request
    moved it first. Releases the stock when the move calls for it, so stock goes back exactly once."""
    now = now or utcnow()
    current = order.status
    cod = order.checkout.payment_method == PaymentMethod.COD and order.paid_at is None
    if to not in TRANSITIONS[current] and not (cod and to in COD_TRANSITIONS.get(current, ())):
        raise ConflictError(N_("An order that is %(status)s cannot become %(to)s."), field="status",
                            status=current.value, to=to.value)
    moved = session.execute(
        update(Order).where(Order.id == order.id, Order.status == current)
        .values(status=to, updated_at=now).execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(order, ["status"])
        return False
    session.add(OrderEvent(order_id=order.id, from_status=current.value, to_status=to.value,
                           actor_id=actor.id if actor else None, note=note, created_at=now))
    audit.record(session, actor, "order.status_changed", order, status={"from": current, "to": to})
    if to in RELEASES_STOCK:
        _release(session, order)
    if to == OrderStatus.PAID:
        session.execute(update(Order).where(Order.id == order.id).values(paid_at=now)
                        .execution_options(synchronize_session=False))
        ledger.credit_order(session, order, now)
    elif to == OrderStatus.REFUNDED:
        ledger.debit_refund(session, order, now)
    # Each side hears of the moves the other side (or the platform) made.
    buyer_hears, kube_hears = BUYER_NEWS.get(to), KUBE_NEWS.get(to)
    if buyer_hears and (actor is None or actor.id != order.buyer_id):
        notify(session, [order.buyer_id], order, buyer_hears, id=order.id)
    if kube_hears:
        members = [m for m in _member_ids(session, order.kube_id) if actor is None or m != actor.id]
        notify(session, members, order, kube_hears, id=order.id)
    webhooks.order_moved(session, order, current, to, now)
    session.expire(order, ["status", "updated_at", "events", "paid_at"])
    return True


# --- Notifications ----------------------------------------------------------------------------------

NEW_ORDER = N_("New order #%(id)s for %(total)s: it is waiting for the buyer's payment.")
NEW_COD_ORDER = N_("New order #%(id)s for %(total)s, cash on delivery: accept it and pack it.")
BUYER_NEWS: dict[OrderStatus, str] = {
    S.PAID: N_("Your payment for order #%(id)s has arrived."),
    S.PROCESSING: N_("Order #%(id)s is being packed."),
    S.SHIPPED: N_("Order #%(id)s is on its way (or ready for pickup)."),
    S.CANCELLED: N_("Order #%(id)s was cancelled."),
    S.EXPIRED: N_("Order #%(id)s expired: it was not paid in time."),
    S.REFUNDED: N_("Order #%(id)s was cancelled; your payment is refunded."),
}
KUBE_NEWS: dict[OrderStatus, str] = {
    S.PAID: N_("Order #%(id)s is paid: accept it and pack it."),
    S.DELIVERED: N_("The buyer received order #%(id)s."),
    S.CANCELLED: N_("Order #%(id)s was cancelled."),
    S.EXPIRED: N_("Order #%(id)s expired unpaid; its stock is back on sale."),
    S.REFUNDED: N_("Order #%(id)s was cancelled and refunded; its stock is back on sale."),
}


def _member_ids(session: Session, kube_id: int) -> list[int]:
    return list(session.scalars(select(KubeMember.user_id).where(KubeMember.kube_id == kube_id)))


def notify(session: Session, user_ids: Iterable[int], order: Order, message: str, **params: object) -> None:
    """Tell these users something about `order` (`message` is an English msgid, translated when shown)."""
    for user_id in dict.fromkeys(user_ids):
        session.add(Notification(user_id=user_id, order_id=order.id, message=message, params=params))


def notifications(session: Session, user: User, limit: int = 50) -> list[Notification]:
    """The user's latest notifications, newest first."""
    return list(session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(limit)
    ))


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, user: User, now: datetime | None = None) -> None:
    session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                    .values(read_at=now or utcnow()))


def _strict_move(session: Session, order: Order, to: OrderStatus, actor: User | None, note: str = "") -> None:
    if not _move(session, order, to, actor, note):
        raise ConflictError(N_("The order changed meanwhile; reload the page."), field="status")


def _release(session: Session, order: Order) -> None:
    ids = []
    # In product-id order, like checkouts reserve: two transactions never wait on each other crosswise.
    for line in sorted(order.lines, key=lambda line: line.product_id or 0):
        if line.product_id is None:
            continue
        session.execute(update(Product).where(Product.id == line.product_id)
                        .values(stock=Product.stock + line.quantity).execution_options(synchronize_session=False))
        ids.append(line.product_id)
    outbox.enqueue(session, "product", ids)


def get_order(session: Session, viewer: User, order_id: int) -> Order:
    """An order for its buyer, its KUBE's members, or an operator; others get 404."""
    order = session.scalar(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.events).joinedload(OrderEvent.actor),
                 joinedload(Order.kube), joinedload(Order.checkout), joinedload(Order.buyer))
    )
    if order is None or not (order.buyer_id == viewer.id or viewer.is_operator
                             or member_role(session, viewer, order.kube_id) is not None):
        raise NotFoundError(N_("Order not found."))
    return order


def buyer_checkout(session: Session, buyer: User, checkout_id: int) -> Checkout:
    """A buyer's own checkout with its orders, lines and KUBEs; anyone else's is 404."""
    checkout = session.scalar(
        select(Checkout).where(Checkout.id == checkout_id)
        .options(selectinload(Checkout.orders).selectinload(Order.lines),
                 selectinload(Checkout.orders).selectinload(Order.events),
                 selectinload(Checkout.orders).joinedload(Order.kube))
    )
    if checkout is None or checkout.buyer_id != buyer.id:
        raise NotFoundError(N_("Order not found."))
    return checkout


def _require_kube_member(session: Session, actor: User, order: Order) -> None:
    _require_orders_of(session, actor, order.kube_id)


def confirm_payment(session: Session, actor: User, checkout_id: int, now: datetime | None = None) -> Checkout:
    """An operator saw the bank transfer arrive: every pending order of the checkout becomes paid. Refused
    when none is pending any more (confirmed twice, expired or cancelled meanwhile)."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    checkout = session.get(Checkout, checkout_id)
    if checkout is None:
        raise NotFoundError(N_("Checkout not found."))
    if checkout.payment_method != PaymentMethod.MANUAL:  # cash is recorded by the KUBE, cards by Stripe
        raise ConflictError(N_("This checkout is not paid by bank transfer."), field="status")
    moved = [_move(session, order, OrderStatus.PAID, actor, PAYMENT_RECEIVED, now)
             for order in checkout.orders if order.status == OrderStatus.PENDING_PAYMENT]
    if not any(moved):
        raise ConflictError(N_("Nothing to confirm: these orders are no longer waiting for payment."),
                            field="status")
    session.flush()
    return checkout


def mark_paid(session: Session, order: Order, note: str, now: datetime | None = None) -> bool:
    """A provider says the money for `order` arrived: pay it if it is still waiting (False otherwise)."""
    if order.status != OrderStatus.PENDING_PAYMENT:
        return False
    return _move(session, order, OrderStatus.PAID, None, note, now)


def accept_order(session: Session, actor: User, order_id: int) -> Order:
    """The KUBE accepts a paid order (or a cash-on-delivery one) and packs it."""
    order = get_order(session, actor, order_id)
    _require_kube_member(session, actor, order)
    _strict_move(session, order, OrderStatus.PROCESSING, actor)
    return order


CASH_HOLDERS = (MemberRole.BENDAHARA, MemberRole.KETUA)
HANDED_OVER = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def _cash_refusal(session: Session, actor: User, order: Order) -> DomainError | None:
    """Why `actor` may not record the cash of `order` now (None when they may)."""
    role = member_role(session, actor, order.kube_id)
    if role is None or role.role not in CASH_HOLDERS:
        return PermissionDenied(N_("Only the KUBE's bendahara (or ketua) records cash received."))
    if order.checkout.payment_method != PaymentMethod.COD:
        return ConflictError(N_("This order is not paid in cash."), field="status")
    if order.paid_at is not None:
        return ConflictError(N_("The cash for this order is already recorded."), field="status")
    if order.status not in HANDED_OVER:
        return ConflictError(N_("Record the cash when the order is handed over."), field="status")
    return None


def can_record_cash(session: Session, actor: User, order: Order) -> bool:
    """Whether the page offers `actor` the "cash received" button for this order."""
    return _cash_refusal(session, actor, order) is None


def confirm_cash(session: Session, actor: User, order_id: int, now: datetime | None = None) -> Order:
    """Cash on delivery: the KUBE's bendahara (or ketua) records that the buyer paid. A shipped order is
    delivered by the same step (the cash changes hands at the door or at pickup). The KUBE keeps the cash; its
    ledger owes the platform's fee."""
    now = now or utcnow()
    order = get_order(session, actor, order_id)
    refusal = _cash_refusal(session, actor, order)
    if refusal is not None:
        raise refusal
    paid = session.execute(update(Order).where(Order.id == order.id, Order.paid_at.is_(None))
                           .values(paid_at=now).execution_options(synchronize_session=False))
    if paid.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(N_("The cash for this order is already recorded."), field="status")
    ledger.record_cash(session, order, now)
    webhooks.order_cash_paid(session, order, now)
    if order.status == OrderStatus.SHIPPED:
        _strict_move(session, order, OrderStatus.DELIVERED, actor, CASH_RECEIVED)
    else:
        session.add(OrderEvent(order_id=order.id, from_status=order.status.value, to_status=order.status.value,
                               actor_id=actor.id, note=CASH_RECEIVED, created_at=now))
    session.expire(order, ["paid_at", "events"])
    return order


def ship_order(session: Session, actor: User, order_id: int, *, courier: str = "", tracking_number: str = "") -> Order:
    """The KUBE sends the order (a courier and tracking number), or has it ready for pickup."""
    order = get_order(session, actor, order_id)
    _require_kube_member(session, actor, order)
    if order.delivery_method == DeliveryMethod.COURIER:
        order.courier = clean_text(courier, field="courier", max_length=60)
        order.tracking_number = clean_text(tracking_number, field="tracking_number", max_length=80)
    if order.delivery_method == DeliveryMethod.PICKUP:
        note = READY_FOR_PICKUP
    else:
        note = f"{order.courier} {order.tracking_number}"
    _strict_move(session, order, OrderStatus.SHIPPED, actor, note)
    return order


def confirm_received(session: Session, actor: User, order_id: int) -> Order:
    order = get_order(session, actor, order_id)
    if order.buyer_id != actor.id:
        raise PermissionDenied(N_("Only the buyer can confirm receipt."))
    _strict_move(session, order, OrderStatus.DELIVERED, actor)
    return order


def cancel_order(session: Session, actor: User, order_id: int, reason: str, *,
                 now: datetime | None = None) -> Order:
    """The buyer (before paying), the KUBE or an operator cancels, with a reason; stock goes back. A paid
    order is refunded, which only the KUBE or an operator decides (the buyer asks them). The refund is
    recorded here, in the same transaction: a card refund as "requested", which payments.services.settle_card
    sends to the provider after the commit (so no lock waits on the network, and a refund is never sent for a
    cancellation that did not commit); a bank-transfer refund as "pending", for an operator to send."""
    now = now or utcnow()
    order = get_order(session, actor, order_id)
    note = clean_text(reason, field="reason", max_length=500)
    is_buyer = order.buyer_id == actor.id
    if not is_buyer or order.status != OrderStatus.PENDING_PAYMENT:
        if is_buyer and member_role(session, actor, order.kube_id) is None and not actor.is_operator:
            raise ConflictError(N_("A paid order can only be cancelled by the KUBE: send them a message."),
                                field="status")
        _require_kube_member(session, actor, order)
    target = OrderStatus.CANCELLED if order.paid_at is None else OrderStatus.REFUNDED
    if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PROCESSING):
        raise ConflictError(N_("An order that has been shipped can no longer be cancelled."), field="status")
    checkout = order.checkout
    if not _move(session, order, target, actor, note, now):
        raise ConflictError(N_("The order changed meanwhile; reload the page."), field="status")
    if target == OrderStatus.REFUNDED:
        card = checkout.payment_method == PaymentMethod.STRIPE
        refund = Refund(checkout_id=checkout.id, order_id=order.id, provider="stripe" if card else "manual",
                        amount=order.total, status="requested" if card else "pending", note=note, created_at=now)
        session.add(refund)
        audit.record(session, actor, "refund.created", refund, kube_id=order.kube_id, order_id=order.id,
                     amount=refund.amount, provider=refund.provider)
    session.flush()
    return order


def expire_due(session: Session, now: datetime | None = None) -> int:
    """Unpaid orders past their payment window become expired and give their stock back."""
    now = now or utcnow()
    due = list(session.scalars(
        select(Order).where(Order.status == OrderStatus.PENDING_PAYMENT, Order.expires_at.is_not(None),
                            Order.expires_at <= now)
        .order_by(Order.id)
        .options(selectinload(Order.lines), joinedload(Order.checkout))
    ))
    return sum(1 for order in due if _move(session, order, OrderStatus.EXPIRED, None, PAYMENT_WINDOW_PASSED, now))


ORDERS_PER_PAGE = 20


def _page_of(session: Session, query: Any, page: int, per_page: int) -> Page[Order]:
    """One page of orders, newest first, with their lines, history, KUBE and buyer: four queries whatever the
    page's length (a page past the end is empty, with the total to go back)."""
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(session.scalars(
        query.order_by(Order.id.desc()).limit(per_page).offset((page - 1) * per_page)
        .options(selectinload(Order.lines), selectinload(Order.events), joinedload(Order.kube),
                 joinedload(Order.buyer))
    ))
    return Page(items, total, page, per_page)


def buyer_orders(session: Session, buyer: User, now: datetime | None = None, *, page: int = 1,
                 per_page: int = ORDERS_PER_PAGE) -> Page[Order]:
    """The buyer's orders, newest first, a page at a time (expired ones are settled first: expiry is also
    checked lazily)."""
    expire_due(session, now)
    return _page_of(session, select(Order).where(Order.buyer_id == buyer.id), page, per_page)


def _require_orders_of(session: Session, actor: User, kube_id: int) -> None:
    if member_role(session, actor, kube_id) is None and not actor.is_operator:
        raise PermissionDenied(N_("Only the KUBE's members can do this."))


def kube_orders(session: Session, actor: User, kube_id: int, now: datetime | None = None, *,
                statuses: Collection[OrderStatus] | None = None, page: int = 1,
                per_page: int = ORDERS_PER_PAGE) -> Page[Order]:
    """A KUBE's incoming orders for its members (and operators), newest first, a page at a time; optionally
    only some statuses. Lines and buyers are loaded with the orders (a fixed number of queries)."""
    _require_orders_of(session, actor, kube_id)
    expire_due(session, now)
    query = select(Order).where(Order.kube_id == kube_id)
    if statuses is not None:
        query = query.where(Order.status.in_(sorted(statuses)))
    return _page_of(session, query, page, per_page)


def kube_order_counts(session: Session, actor: User, kube_id: int) -> dict[OrderStatus, int]:
    """How many of a KUBE's orders are in each status (every status present, zero included)."""
    _require_orders_of(session, actor, kube_id)
    counts = dict.fromkeys(OrderStatus, 0)
    rows = session.execute(
        select(Order.status, func.count()).where(Order.kube_id == kube_id).group_by(Order.status)
    ).all()
    for status, number in rows:
        counts[OrderStatus(status)] = number
    return counts


def kube_order(session: Session, actor: User, kube_id: int, order_id: int) -> Order:
    """One order of this KUBE, for its members (and operators); another KUBE's order is not found here."""
    _require_orders_of(session, actor, kube_id)
    order = get_order(session, actor, order_id)
    if order.kube_id != kube_id:
        raise NotFoundError(N_("Order not found."))
    return order


def awaiting_transfers(session: Session, actor: User, now: datetime | None = None) -> Sequence[Checkout]:
    """Bank-transfer checkouts with orders still waiting for payment, oldest first (for the operator, who
    matches each amount due against the bank statement)."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    expire_due(session, now)
    pending = exists().where(Order.checkout_id == Checkout.id, Order.status == OrderStatus.PENDING_PAYMENT)
    return list(session.scalars(
        select(Checkout).where(Checkout.payment_method == PaymentMethod.MANUAL, pending)
        .order_by(Checkout.created_at, Checkout.id)
        .options(joinedload(Checkout.buyer), selectinload(Checkout.orders).joinedload(Order.kube))
    ))


# --- Messages on an order -----------------------------------------------------------------------------

NEW_MESSAGE = N_("New message on order #%(id)s.")


def order_messages(session: Session, viewer: User, order_id: int) -> list[OrderMessage]:
    """The thread of an order, oldest first: for its buyer, its KUBE's members and operators only."""
    order = get_order(session, viewer, order_id)
    return list(session.scalars(
        select(OrderMessage).where(OrderMessage.order_id == order.id).order_by(OrderMessage.id)
        .options(joinedload(OrderMessage.author))
    ))


def post_message(session: Session, author: User, order_id: int, body: str) -> OrderMessage:
    """The buyer or one of the KUBE's members writes in the order's thread; the other side is notified."""
    order = get_order(session, author, order_id)
    is_buyer = order.buyer_id == author.id
    is_member = member_role(session, author, order.kube_id) is not None
    if not (is_buyer or is_member):
        raise PermissionDenied(N_("Only the buyer and the KUBE's members write on an order."))
    message = OrderMessage(order_id=order.id, author_id=author.id,
                           body=clean_text(body, field="body", max_length=2000))
    session.add(message)
    others = set(_member_ids(session, order.kube_id)) | {order.buyer_id}
    others.discard(author.id)
    notify(session, sorted(others), order, NEW_MESSAGE, id=order.id)
    session.flush()
    return message
