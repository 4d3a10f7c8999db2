"""Order takers sourcing inputs: requests, quotes, supply contracts, deliveries, and the lots that trace each
delivery back to the KUBEs that made it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.catalog.models import _enum
from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User
    from marketplace.catalog.models import Kube
    from marketplace.chains.models import ChainProcess, SupplyChain

# Quantities: exact decimals in the request's unit (kg, liter, pcs ...), three places (grams, millilitres).
Quantity = Numeric(14, 3)


class Schedule(StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class RequestStatus(StrEnum):
    OPEN = "open"  # taking quotes
    CLOSED = "closed"  # the order taker accepted a quote, or stopped taking quotes
    CANCELLED = "cancelled"


class QuoteStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class ContractStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    SENT = "sent"  # the KUBE recorded it
    RECEIVED = "received"  # the order taker confirmed it arrived
    PAID = "paid"  # the order taker's payment arrived: the ledger is credited


class SourcingRequest(db.Model):  # type: ignore[name-defined]
    """What an order taker wants: an item (a product kind of a chain, or any product kind named freely),
    how much per delivery, how often and until when, at what target price, delivered where."""

    __tablename__ = "sourcing_requests"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("until >= starts_on", name="until_after_start"),
        Index("ix_sourcing_requests_status_item", "status", "item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_taker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    chain_id: Mapped[int | None] = mapped_column(ForeignKey("supply_chains.id", ondelete="SET NULL"))
    item: Mapped[str] = mapped_column(String(120))  # product kind slug, e.g. "arang-tempurung"
    item_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Quantity)  # per delivery
    schedule: Mapped[Schedule] = mapped_column(_enum(Schedule, "sourcing_schedule"))
    starts_on: Mapped[date] = mapped_column(Date)  # the first delivery
    until: Mapped[date] = mapped_column(Date)  # the last delivery is on or before this day
    target_price: Mapped[int | None] = mapped_column(BigInteger)  # whole Rupiah per unit
    province_code: Mapped[str] = mapped_column(String(2))
    regency_code: Mapped[str | None] = mapped_column(String(5))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus, "sourcing_request_status"),
                                                  default=RequestStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order_taker: Mapped[User] = relationship()
    chain: Mapped[SupplyChain | None] = relationship()
    quotes: Mapped[list[Quote]] = relationship(back_populates="request", order_by="Quote.id")


class Quote(db.Model):  # type: ignore[name-defined]
    """A KUBE's (or a whole chain's) answer to a request: a price per unit and how much per delivery."""

    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint("(kube_id IS NULL) <> (chain_id IS NULL)", name="kube_or_chain"),
        CheckConstraint("price_per_unit > 0", name="price_positive"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sourcing_requests.id", ondelete="CASCADE"), index=True)
    kube_id: Mapped[int | None] = mapped_column(ForeignKey("kubes.id", ondelete="RESTRICT"), index=True)
    chain_id: Mapped[int | None] = mapped_column(ForeignKey("supply_chains.id", ondelete="RESTRICT"))
    price_per_unit: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[Decimal] = mapped_column(Quantity)  # per delivery, at most the request's
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[QuoteStatus] = mapped_column(_enum(QuoteStatus, "quote_status"), default=QuoteStatus.OFFERED)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[SourcingRequest] = relationship(back_populates="quotes")
    kube: Mapped[Kube | None] = relationship()
    chain: Mapped[SupplyChain | None] = relationship()


class SupplyContract(db.Model):  # type: ignore[name-defined]
    """An accepted quote: the terms are copied here and never change; deliveries are recorded against it."""

    __tablename__ = "supply_contracts"
    __table_args__ = (CheckConstraint("(kube_id IS NULL) <> (chain_id IS NULL)", name="kube_or_chain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sourcing_requests.id", ondelete="RESTRICT"), index=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="RESTRICT"), unique=True)
    order_taker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    kube_id: Mapped[int | None] = mapped_column(ForeignKey("kubes.id", ondelete="RESTRICT"), index=True)
    chain_id: Mapped[int | None] = mapped_column(ForeignKey("supply_chains.id", ondelete="RESTRICT"), index=True)
    item: Mapped[str] = mapped_column(String(120))
    item_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Quantity)  # per delivery
    price_per_unit: Mapped[int] = mapped_column(BigInteger)
    schedule: Mapped[Schedule] = mapped_column(_enum(Schedule, "sourcing_schedule"))
    starts_on: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)
    fee_bps: Mapped[int] = mapped_column(Integer)  # the platform's fee, fixed when the contract is made
    status: Mapped[ContractStatus] = mapped_column(_enum(ContractStatus, "contract_status"),
                                                   default=ContractStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[SourcingRequest] = relationship()
    quote: Mapped[Quote] = relationship()
    order_taker: Mapped[User] = relationship()
    kube: Mapped[Kube | None] = relationship()
    chain: Mapped[SupplyChain | None] = relationship()
    deliveries: Mapped[list[ContractDelivery]] = relationship(back_populates="contract",
                                                              order_by="ContractDelivery.id")


class Lot(db.Model):  # type: ignore[name-defined]
    """A batch a KUBE made (or gathered): so much of an item on a day, made from other lots (its sources)."""

    __tablename__ = "lots"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="RESTRICT"), index=True)
    chain_id: Mapped[int | None] = mapped_column(ForeignKey("supply_chains.id", ondelete="SET NULL"), index=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("chain_processes.id", ondelete="SET NULL"))
    item: Mapped[str] = mapped_column(String(120))
    item_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    # Joint products made in one go (one split of nuts gives husk, shell, meat and water lots) share a batch:
    # their sources were used once, by the batch, not once per lot.
    batch: Mapped[str | None] = mapped_column(String(24), index=True)
    # In a chain, the KUBE this lot was handed over to (by its own KUBE): only that KUBE may make its goods from
    # it. Nobody uses another KUBE's lot without that KUBE's say.
    handed_to_id: Mapped[int | None] = mapped_column(ForeignKey("kubes.id", ondelete="SET NULL"))
    made_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kube: Mapped[Kube] = relationship(foreign_keys=[kube_id])
    handed_to: Mapped[Kube | None] = relationship(foreign_keys=[handed_to_id])
    chain: Mapped[SupplyChain | None] = relationship()
    process: Mapped[ChainProcess | None] = relationship()
    sources: Mapped[list[LotSource]] = relationship(back_populates="lot", foreign_keys="LotSource.lot_id",
                                                    order_by="LotSource.id")


class LotSource(db.Model):  # type: ignore[name-defined]
    """How much of another lot went into this one."""

    __tablename__ = "lot_sources"
    __table_args__ = (
        UniqueConstraint("lot_id", "source_lot_id", name="uq_lot_sources_lot_source"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("lot_id <> source_lot_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), index=True)
    source_lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    # Another KUBE's lot of a chain: the chain's price per unit when it was used, what this KUBE pays for it
    # once the goods made from it are paid (None: its own lot, or an item without a price).
    price: Mapped[int | None] = mapped_column(BigInteger)

    lot: Mapped[Lot] = relationship(back_populates="sources", foreign_keys=[lot_id])
    source: Mapped[Lot] = relationship(foreign_keys=[source_lot_id])


class ContractDelivery(db.Model):  # type: ignore[name-defined]
    """Goods sent against a contract for one scheduled date (several partial deliveries may fill one date),
    always from one lot. Paid through the KUBE ledger once the order taker's payment arrives."""

    __tablename__ = "contract_deliveries"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_contract_deliveries_contract_due", "contract_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("supply_contracts.id", ondelete="RESTRICT"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="RESTRICT"), index=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="RESTRICT"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    delivered_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    amount: Mapped[int] = mapped_column(BigInteger)  # whole Rupiah: quantity x the contract's price
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, "delivery_status"),
                                                   default=DeliveryStatus.SENT)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_reference: Mapped[str | None] = mapped_column(String(80))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract: Mapped[SupplyContract] = relationship(back_populates="deliveries")
    lot: Mapped[Lot] = relationship()
    kube: Mapped[Kube] = relationship()
