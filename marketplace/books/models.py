"""The KUBE's own bookkeeping: entries typed in by its officers, members' recorded contributions, and how
profit is shared. Marketplace sales and contract deliveries are not copied here: the cash book reads them
from the ledger (marketplace.ledger), so they can never disagree."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.catalog.models import _enum
from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User


class Direction(StrEnum):
    INCOME = "income"
    EXPENSE = "expense"


class Category(StrEnum):
    """What a hand-written entry is for. The first four are income, the rest expenses."""

    OTHER_SALES = "other_sales"  # sold at the market, to neighbours: outside the platform
    SERVICES = "services"
    GRANT = "grant"  # aid or a grant received (UEP aid is the group's money, Permensos 2/2019)
    OTHER_INCOME = "other_income"
    RAW_MATERIALS = "raw_materials"
    TRANSPORT = "transport"
    PACKAGING = "packaging"
    EQUIPMENT = "equipment"
    WAGES = "wages"
    RENT_UTILITIES = "rent_utilities"
    OTHER_EXPENSE = "other_expense"


INCOME_CATEGORIES = (Category.OTHER_SALES, Category.SERVICES, Category.GRANT, Category.OTHER_INCOME)
EXPENSE_CATEGORIES = tuple(c for c in Category if c not in INCOME_CATEGORIES)


class ShareBasis(StrEnum):
    EQUAL = "equal"  # every member the same share (the default)
    CONTRIBUTION = "contribution"  # in proportion to what each member recorded (days worked, kg delivered)


class CashEntry(db.Model):  # type: ignore[name-defined]
    """Income or an expense an officer wrote into the cash book, with its receipt photo if there is one.
    The amount is whole Rupiah and always positive; the direction says which side it is on."""

    __tablename__ = "cash_entries"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_cash_entries_kube_day", "kube_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "cash_direction"))
    category: Mapped[Category] = mapped_column(_enum(Category, "cash_category"))
    amount: Mapped[int] = mapped_column(BigInteger)
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    receipt_key: Mapped[str | None] = mapped_column(String(64), index=True)  # receipts are found by it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()


class Contribution(db.Model):  # type: ignore[name-defined]
    """What one member put into one month's work, in the KUBE's unit (days worked, kg delivered ...)."""

    __tablename__ = "contributions"
    __table_args__ = (
        UniqueConstraint("kube_id", "user_id", "month", name="uq_contributions_kube_user_month"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    amount: Mapped[int] = mapped_column(BigInteger)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BookSettings(db.Model):  # type: ignore[name-defined]
    """How a KUBE shares its profit. A KUBE without a row shares equally."""

    __tablename__ = "book_settings"

    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="CASCADE"), primary_key=True)
    share_basis: Mapped[ShareBasis] = mapped_column(_enum(ShareBasis, "share_basis"), default=ShareBasis.EQUAL)
    contribution_unit: Mapped[str] = mapped_column(String(20), default="hari")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
