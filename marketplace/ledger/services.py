"""Posting to the KUBE ledger (no flask here). Orders post when they are paid, refunded, or paid in cash.

A paid order credits the KUBE with its goods total and the courier fee (the KUBE sends the parcel) and debits
the platform's fee, which was fixed on the order when it was placed. A refund reverses what the order credited.
Cash on delivery is already in the KUBE's hands, so its total is debited as "cash": what is left is the fee the
KUBE owes, settled from its next payout. Each (order, kind) is posted once (a UNIQUE constraint backs it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.common import utcnow
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders.models import Order

# Basis points (1/100 of a per cent) keep the rate an integer: 250 = 2.5 %.
BPS = 10_000
ORDER_KINDS = (EntryKind.SALE, EntryKind.DELIVERY, EntryKind.FEE)


def platform_fee(goods_total: int, fee_bps: int) -> int:
    """The platform's fee on a KUBE's goods, rounded down to the Rupiah (in the KUBE's favour)."""
    return goods_total * fee_bps // BPS


def _post(session: Session, order: Order, kind: EntryKind, amount: int, now: datetime) -> None:
    already = session.scalar(select(LedgerEntry.id).where(LedgerEntry.order_id == order.id,
                                                          LedgerEntry.kind == kind))
    if already is None and amount:
        session.add(LedgerEntry(kube_id=order.kube_id, order_id=order.id, kind=kind, amount=amount,
                                created_at=now))


def credit_order(session: Session, order: Order, now: datetime | None = None) -> None:
    """The order is paid: the KUBE earns its goods and courier fee, minus the platform's fee."""
    now = now or utcnow()
    _post(session, order, EntryKind.SALE, order.goods_total, now)
    _post(session, order, EntryKind.DELIVERY, order.delivery_fee, now)
    _post(session, order, EntryKind.FEE, -order.platform_fee, now)


def record_cash(session: Session, order: Order, now: datetime | None = None) -> None:
    """Cash on delivery: the KUBE was paid by the buyer directly; it keeps the money and owes the fee."""
    now = now or utcnow()
    credit_order(session, order, now)
    _post(session, order, EntryKind.CASH, -order.total, now)


def debit_refund(session: Session, order: Order, now: datetime | None = None) -> None:
    """The order is refunded: take back what it credited (fee included: the platform keeps nothing)."""
    now = now or utcnow()
    session.flush()
    credited = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.order_id == order.id, LedgerEntry.kind.in_(ORDER_KINDS))) or 0
    _post(session, order, EntryKind.REFUND, -credited, now)


def balance(session: Session, kube_id: int) -> int:
    """What the platform owes the KUBE now (negative: what the KUBE owes, e.g. fees on cash sales)."""
    return session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                          .where(LedgerEntry.kube_id == kube_id)) or 0
