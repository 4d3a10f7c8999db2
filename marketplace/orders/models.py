"""Carts, checkouts, orders (one per KUBE), their lines and their history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.catalog.models import Kube, _enum
from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


# A sale: paid, or on its way as cash on delivery (never cancelled, expired or refunded). Insights and the
# facilitators' monthly reports count these.
SOLD_STATUSES = (OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
                 OrderStatus.COMPLETED)


class PaymentMethod(StrEnum):
    MANUAL = "manual"  # bank transfer to the platform account, with a unique amount code
    COD = "cod"  # cash on delivery or at pickup
    STRIPE = "stripe"


class DeliveryMethod(StrEnum):
    PICKUP = "pickup"
    COURIER = "courier"


class CartItem(db.Model):  # type: ignore[name-defined]
    """A product in a signed-in buyer's cart, or in a guest's (by a random token kept in the session)."""

    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("user_id", "product_id", name="uq_cart_items_user_product"),
        UniqueConstraint("guest_token", "product_id", name="uq_cart_items_guest_product"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("(user_id IS NULL) <> (guest_token IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    guest_token: Mapped[str | None] = mapped_column(String(64), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Checkout(db.Model):  # type: ignore[name-defined]
    """What a buyer pays at once: the orders of several KUBEs."""

    __tablename__ = "checkouts"
    __table_args__ = (CheckConstraint("total >= 0", name="total_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    payment_method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod, "payment_method"))
    goods_total: Mapped[int] = mapped_column(BigInteger)
    delivery_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    # Bank transfer: the buyer sends total + unique_code, so the operator can tell transfers apart.
    unique_code: Mapped[int] = mapped_column(Integer, default=0)
    # Card payments: the Stripe PaymentIntent that pays the whole checkout.
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    orders: Mapped[list[Order]] = relationship(back_populates="checkout", order_by="Order.id")
    buyer: Mapped[User] = relationship()

    @property
    def amount_due(self) -> int:
        """What the buyer still has to transfer: the orders still waiting for payment (one may have been
        cancelled meanwhile), plus the unique code; nothing once none waits."""
        waiting = sum(o.total for o in self.orders if o.status == OrderStatus.PENDING_PAYMENT)
        return waiting + self.unique_code if waiting else 0


class Order(db.Model):  # type: ignore[name-defined]
    """One KUBE's part of a checkout."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_kube_status", "kube_id", "status"),
        Index("ix_orders_status_expires", "status", "expires_at"),
        CheckConstraint("goods_total >= 0 AND delivery_fee >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id", ondelete="CASCADE"), index=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="RESTRICT"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "order_status"),
                                                default=OrderStatus.PENDING_PAYMENT)
    delivery_method: Mapped[DeliveryMethod] = mapped_column(_enum(DeliveryMethod, "delivery_method"))
    delivery_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    goods_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    # The platform's fee on the goods, fixed when the order is placed (the rate may change later).
    platform_fee: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)
    recipient_name: Mapped[str] = mapped_column(String(120), default="")
    recipient_phone: Mapped[str] = mapped_column(String(30), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    courier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the money arrived (a confirmed transfer, a card payment, or cash the KUBE's bendahara received).
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    checkout: Mapped[Checkout] = relationship(back_populates="orders")
    kube: Mapped[Kube] = relationship()
    buyer: Mapped[User] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                  order_by="OrderLine.id")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                    order_by="OrderEvent.id")


class OrderLine(db.Model):  # type: ignore[name-defined]
    """A product as it was sold: name, unit and price are copied (a later edit does not change the order)."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    product_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderEvent(db.Model):  # type: ignore[name-defined]
    """One step of an order's history: who moved it from which state to which, when and why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Notification(db.Model):  # type: ignore[name-defined]
    """A message to one user about one of their orders, shown on /notifications (and the place where an
    e-mail or SMS sender would pick it up). The text is an English msgid with parameters, translated when
    shown, so each reader gets their own language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrderMessage(db.Model):  # type: ignore[name-defined]
    """A message in an order's thread between the buyer and the KUBE's members (operators may read it)."""

    __tablename__ = "order_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
