"""Supply chains (integrated business): processes that turn inputs into outputs, and the KUBEs that run
them with a weekly capacity."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.catalog.models import Kube

# Amounts per run and capacities: exact decimals (yields such as 0.4375 kg of husk per nut).
Amount = Numeric(14, 6)


class SupplyChain(db.Model):  # type: ignore[name-defined]
    __tablename__ = "supply_chains"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    regency_code: Mapped[str | None] = mapped_column(String(5))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    processes: Mapped[list[ChainProcess]] = relationship(back_populates="chain", cascade="all, delete-orphan",
                                                         order_by="ChainProcess.position")


class ChainProcess(db.Model):  # type: ignore[name-defined]
    """One step of a chain. A run is one unit of its main input (one nut, one kg of meat)."""

    __tablename__ = "chain_processes"
    __table_args__ = (UniqueConstraint("chain_id", "key", name="uq_chain_processes_chain_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(ForeignKey("supply_chains.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    whole_runs: Mapped[bool] = mapped_column(Boolean, default=False)
    yield_source: Mapped[str] = mapped_column(Text, default="")

    chain: Mapped[SupplyChain] = relationship(back_populates="processes")
    flows: Mapped[list[ProcessFlow]] = relationship(back_populates="process", cascade="all, delete-orphan",
                                                    order_by="ProcessFlow.id")
    kubes: Mapped[list[ProcessKube]] = relationship(back_populates="process", cascade="all, delete-orphan",
                                                    order_by="ProcessKube.id")


class ProcessFlow(db.Model):  # type: ignore[name-defined]
    """An input or an output of a process, per run: the item (a product kind of the chain) and its unit."""

    __tablename__ = "process_flows"
    __table_args__ = (
        UniqueConstraint("process_id", "direction", "item", name="uq_process_flows_item"),
        CheckConstraint("direction IN ('in', 'out')", name="direction_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("chain_processes.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    item: Mapped[str] = mapped_column(String(120))  # the product kind's slug, e.g. "sabun-kelapa"
    item_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Amount)
    # Outputs: the chain's price for one unit of the item, in whole Rupiah. A KUBE that takes another KUBE's
    # lot pays this for it when the goods made from it are paid; it is also the price of surplus listed for sale.
    price: Mapped[int | None] = mapped_column(BigInteger)

    process: Mapped[ChainProcess] = relationship(back_populates="flows")


class ProcessKube(db.Model):  # type: ignore[name-defined]
    """A KUBE that runs a process, with how many runs it can do a week."""

    __tablename__ = "process_kubes"
    __table_args__ = (
        UniqueConstraint("process_id", "kube_id", name="uq_process_kubes_process_kube"),
        CheckConstraint("capacity_per_week >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("chain_processes.id", ondelete="CASCADE"), index=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="CASCADE"), index=True)
    capacity_per_week: Mapped[Decimal] = mapped_column(Amount)

    process: Mapped[ChainProcess] = relationship(back_populates="kubes")
    kube: Mapped[Kube] = relationship()
