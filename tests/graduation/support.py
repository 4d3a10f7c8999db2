"""Test data for graduation readiness: months of cash-book figures for a KUBE."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from marketplace.books.models import CashEntry, Category, Direction
from marketplace.books.services import add_months
from marketplace.catalog.models import Kube
from marketplace.ledger.models import EntryKind, LedgerEntry


def fill(session: Session, kube: Kube, last: date, months: int, *, profit: int = 3_000_000,
         platform: int = 500_000, expenses: int = 1_000_000, book: bool = True) -> None:
    """`months` months up to `last` with `profit` each: a platform sale of `platform` (ledger), the rest of the
    income and the expenses written in the book (or, with book=False, everything through the platform)."""
    for i in range(months):
        month = add_months(last, -i)
        day = month.replace(day=10)
        income_by_hand = profit + expenses - platform
        session.add(LedgerEntry(kube_id=kube.id, kind=EntryKind.SALE,
                                amount=platform if book else profit + expenses,
                                created_at=datetime.combine(day, time(5), UTC)))
        if book:
            session.add(CashEntry(kube_id=kube.id, direction=Direction.INCOME, category=Category.OTHER_SALES,
                                  amount=income_by_hand, occurred_on=day))
            session.add(CashEntry(kube_id=kube.id, direction=Direction.EXPENSE, category=Category.RAW_MATERIALS,
                                  amount=expenses, occurred_on=day))
        else:
            session.add(LedgerEntry(kube_id=kube.id, kind=EntryKind.FEE, amount=-expenses,
                                    created_at=datetime.combine(day, time(5), UTC)))
    session.flush()
