"""Each KUBE's account with the platform: what its sales earned, the platform's fee, refunds and payouts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.catalog.models import _enum
from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User


class EntryKind(StrEnum):
    SALE = "sale"  # + the order's goods total, when it is paid
    DELIVERY = "delivery"  # + the courier fee the buyer paid (the KUBE sends the parcel)
    FEE = "fee"  # - the platform's fee on the goods
    REFUND = "refund"  # - what a refunded order had credited
    CASH = "cash"  # - cash on delivery the KUBE already holds (so only the fee is left owing)
    PAYOUT = "payout"  # - a bank transfer from the platform to the KUBE
    CONTRACT = "contract"  # + a paid delivery against a supply contract (its fee is a FEE line)
    CHAIN_SALE = "chain_sale"  # + this KUBE's lot went into another KUBE's paid delivery (at the chain's price)
    CHAIN_INPUT = "chain_input"  # - the other side: what this KUBE pays for the lots it made its goods from


class LedgerEntry(db.Model):  # type: ignore[name-defined]
    """One line of a KUBE's account, in whole Rupiah, signed (credit > 0, debit < 0). The balance is the sum.
    Each order gives each kind at most once (UNIQUE), so a payment confirmed twice credits once."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", name="uq_ledger_entries_order_kind"),
        Index("ix_ledger_entries_kube_created", "kube_id", "created_at"),
        # A paid delivery posts each (lot, kind) once per KUBE.
        UniqueConstraint("delivery_id", "lot_id", "kind", "kube_id", name="uq_ledger_entries_delivery_lot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="RESTRICT"))
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "ledger_entry_kind"))
    amount: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("contract_deliveries.id", ondelete="RESTRICT"),
                                                    index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id", ondelete="RESTRICT"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id", ondelete="RESTRICT"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payout(db.Model):  # type: ignore[name-defined]
    """A bank transfer an operator made to a KUBE's account, recorded with the bank's reference."""

    __tablename__ = "payouts"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    # The account as it was when the money was sent (the KUBE may change it later).
    bank_name: Mapped[str] = mapped_column(String(60))
    bank_account_number: Mapped[str] = mapped_column(String(34))
    bank_account_holder: Mapped[str] = mapped_column(String(120))
    reference: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User | None] = relationship()
