"""What the payment providers leave behind: card-payment events seen once, and refunds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db
from marketplace.orders.models import Checkout, Order


class PaymentEvent(db.Model):  # type: ignore[name-defined]
    """A provider's event (a Stripe webhook) that was processed. The UNIQUE event id, written in the same
    transaction as the orders it changes, makes a second delivery of the same event change nothing."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(80))
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Refund(db.Model):  # type: ignore[name-defined]
    """Money going back to a buyer: for one order, or (no order) a card payment that arrived after its orders
    had expired or been cancelled. Through Stripe, or a bank transfer an operator makes ("pending" until they
    record it as sent)."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    external_id: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    checkout: Mapped[Checkout] = relationship()
    order: Mapped[Order | None] = relationship()
