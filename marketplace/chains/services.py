"""Reading supply chains and planning them from a demand (no flask here)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.catalog.models import PUBLIC_KUBE_STATUSES
from marketplace.chains import planner
from marketplace.chains.models import ChainProcess, ProcessKube, SupplyChain
from marketplace.common import N_, NotFoundError, ValidationError

# Capacities are per week; a month is 52/12 weeks.
PERIODS: dict[str, Fraction] = {"week": Fraction(1), "month": Fraction(52, 12)}
MAX_DEMAND_LINES = 50
MAX_QUANTITY = 10**9


def _loaded() -> list[Any]:
    return [selectinload(SupplyChain.processes).selectinload(ChainProcess.flows),
            selectinload(SupplyChain.processes).selectinload(ChainProcess.kubes).joinedload(ProcessKube.kube)]


def chains(session: Session) -> Sequence[SupplyChain]:
    """Every chain with its processes, flows and KUBEs (a fixed number of queries)."""
    return list(session.scalars(select(SupplyChain).order_by(SupplyChain.name).options(*_loaded())))


def chain_by_slug(session: Session, slug: str) -> SupplyChain:
    chain = session.scalar(select(SupplyChain).where(SupplyChain.slug == slug).options(*_loaded()))
    if chain is None:
        raise NotFoundError(N_("Supply chain not found."))
    return chain


def public_kubes(process: ChainProcess) -> list[ProcessKube]:
    """The process's KUBEs that are public (a suspended or draft KUBE is left out of pages and plans)."""
    return [pk for pk in process.kubes if pk.kube.status in PUBLIC_KUBE_STATUSES]


def to_processes(chain: SupplyChain, period: str = "week") -> list[planner.Process]:
    weeks = PERIODS[period]
    return [
        planner.Process(
            key=p.key,
            inputs={f.item: Fraction(f.amount) for f in p.flows if f.direction == "in"},
            outputs={f.item: Fraction(f.amount) for f in p.flows if f.direction == "out"},
            whole_runs=p.whole_runs,
            capacities={pk.kube.slug: Fraction(pk.capacity_per_week) * weeks for pk in public_kubes(p)},
        )
        for p in chain.processes
    ]


@dataclass(frozen=True)
class ChainPlan:
    chain: SupplyChain
    period: str
    plan: planner.Plan


def plan_chain(session: Session, slug: str, demand: Iterable[tuple[object, object]], period: object = "week"
               ) -> ChainPlan:
    """Plan a chain for one period's demand: (product kind slug, quantity) pairs."""
    chain = chain_by_slug(session, slug)
    if period not in PERIODS:
        raise ValidationError(N_("The period is week or month."), field="period")
    made = {f.item for p in chain.processes for f in p.flows if f.direction == "out"}
    wanted: dict[str, Fraction] = {}
    lines = list(demand)
    if not lines or len(lines) > MAX_DEMAND_LINES:
        raise ValidationError(N_("Give between 1 and %(max)s demand lines."), field="demand",
                              max=MAX_DEMAND_LINES)
    for item, quantity in lines:
        if not isinstance(item, str) or item not in made:
            raise ValidationError(N_("This chain makes no %(item)s."), field="demand", item=str(item)[:60])
        if isinstance(quantity, bool) or not isinstance(quantity, int | float) or not 0 <= quantity <= MAX_QUANTITY:
            raise ValidationError(N_("A quantity is a number from 0 to %(max)s."), field="demand",
                                  max=MAX_QUANTITY)
        wanted[item] = wanted.get(item, Fraction(0)) + Fraction(str(quantity))
    return ChainPlan(chain, str(period), planner.plan(to_processes(chain, str(period)), wanted))


def units(chain: SupplyChain) -> dict[str, tuple[str, str]]:
    """item -> (name, unit) over the chain's flows."""
    return {f.item: (f.item_name, f.unit) for p in chain.processes for f in p.flows}
