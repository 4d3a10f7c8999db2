"""Builders for the workspace, visit and report tests: orders, ledger lines, cash entries, visit reports."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from marketplace.books.models import CashEntry, Category, Direction
from marketplace.catalog.models import Kube
from marketplace.facilitator import services
from marketplace.facilitator.models import VisitReport
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders.models import Checkout, DeliveryMethod, Order, OrderStatus, PaymentMethod
from tests.factories import World


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def order(session: Session, world: World, kube: Kube, status: OrderStatus, *, paid_at: datetime | None,
          created_at: datetime, goods: int = 30_000) -> Order:
    checkout = Checkout(buyer_id=world.buyer.id, payment_method=PaymentMethod.MANUAL, goods_total=goods,
                        delivery_total=0, total=goods)
    session.add(checkout)
    session.flush()
    placed = Order(checkout_id=checkout.id, kube_id=kube.id, buyer_id=world.buyer.id, status=status,
                   delivery_method=DeliveryMethod.PICKUP, goods_total=goods, delivery_fee=0, total=goods,
                   paid_at=paid_at, created_at=created_at, updated_at=created_at)
    session.add(placed)
    session.flush()
    return placed


def sale(session: Session, kube: Kube, amount: int, when: datetime, kind: EntryKind = EntryKind.SALE) -> None:
    session.add(LedgerEntry(kube_id=kube.id, kind=kind, amount=amount, created_at=when))
    session.flush()


def cash(session: Session, kube: Kube, direction: Direction, amount: int, on: date) -> None:
    category = Category.OTHER_SALES if direction == Direction.INCOME else Category.RAW_MATERIALS
    session.add(CashEntry(kube_id=kube.id, direction=direction, category=category, amount=amount, occurred_on=on,
                          created_at=datetime(on.year, on.month, on.day, 5, tzinfo=UTC)))
    session.flush()


def visit(session: Session, world: World, on: date, notes: str = "Kunjungan rutin.", **fields: object
          ) -> VisitReport:
    """A report by facilitator A on KUBE A."""
    data = services.VisitInput(visited_on=on, notes=notes, **fields)  # type: ignore[arg-type]
    return services.create_visit(session, world.facilitator_a, world.kube_a.id, data, now=at(2026, 6, 15))
