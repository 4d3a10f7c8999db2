"""Supply chains (no flask here): reading them and planning them from a demand; facilitators and operators
building and editing them; what each KUBE does in them; a member listing their KUBE's share of a plan's surplus
for sale."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace import regions
from marketplace.auth.models import User
from marketplace.catalog import permissions
from marketplace.catalog import services as catalog
from marketplace.catalog.models import (
    PUBLIC_KUBE_STATUSES,
    Category,
    FacilitatorAssignment,
    Kube,
    Product,
    ProductStatus,
    Unit,
)
from marketplace.chains import planner
from marketplace.chains.models import ChainProcess, ProcessFlow, ProcessKube, SupplyChain
from marketplace.common import (
    N_,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
    clean_int,
    clean_text,
    slugify,
)

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


def can_manage_chain(session: Session, actor: User | None, chain: SupplyChain) -> bool:
    """Operators manage every chain; a facilitator manages the chains they started and those with one of
    their assigned KUBEs (they build the chain with the KUBEs they coach)."""
    if actor is None or not actor.is_authenticated or actor.is_disabled:
        return False
    if actor.is_operator:
        return True
    if not actor.is_facilitator:
        return False
    if chain.created_by_id == actor.id:
        return True
    kube_ids = {pk.kube_id for p in chain.processes for pk in p.kubes}
    return bool(kube_ids) and session.scalar(
        select(FacilitatorAssignment.id).where(FacilitatorAssignment.facilitator_id == actor.id,
                                               FacilitatorAssignment.kube_id.in_(kube_ids)).limit(1)) is not None


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


# --- Building and editing chains (facilitators and operators) ---------------------------------------

# A flow's unit is one products are sold in, or "butir" (whole pieces such as nuts, sold as pcs).
FLOW_UNITS: tuple[str, ...] = (*(unit.value for unit in Unit), "butir")
DIRECTIONS = ("in", "out")
# Amounts per run and capacities are Numeric(14, 6): six decimals, and far below its eight whole digits.
MAX_AMOUNT = Decimal(10_000_000)
AMOUNT_PLACES = 6
MAX_PROCESSES = 30
MAX_FLOWS = 12  # inputs and outputs of one process
RESERVED_SLUGS = {"new"}  # /chains/new is the page that starts a chain
# "6.000" and "1.500,25" as Indonesians write thousands; a lone "." or "," is the decimal mark ("0,4375",
# "0.4375": yields); "1,000,000" and "1,500.5" as English writes thousands.
_ID_THOUSANDS = re.compile(r"[1-9]\d{0,2}(\.\d{3})+(,\d+)?")
_ONE_MARK = re.compile(r"\d+([.,]\d+)?")
_EN_THOUSANDS = re.compile(r"[1-9]\d{0,2}(,\d{3})+(\.\d+)?")


def clean_amount(value: object, *, field: str, zero_ok: bool = False) -> Decimal:
    """An exact amount from what people type: "0,4375", "0.4375", "6.000" (six thousand), "1.500,5"."""
    if isinstance(value, bool) or value is None:
        raise ValidationError(N_("Enter a number, e.g. 0,4375 or 6.000."), field=field)
    if isinstance(value, int | Decimal):
        text = str(value)
    else:
        text = str(value).strip().replace(" ", "")
        if len(text) > 30 or not text.isascii():
            raise ValidationError(N_("Enter a number, e.g. 0,4375 or 6.000."), field=field)
        if _ID_THOUSANDS.fullmatch(text):
            text = text.replace(".", "").replace(",", ".")
        elif _ONE_MARK.fullmatch(text):
            text = text.replace(",", ".")
        elif _EN_THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        else:
            raise ValidationError(N_("Enter a number, e.g. 0,4375 or 6.000."), field=field)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError(N_("Enter a number, e.g. 0,4375 or 6.000."), field=field) from None
    if not amount.is_finite():
        raise ValidationError(N_("Enter a number, e.g. 0,4375 or 6.000."), field=field)
    if amount < 0:
        raise ValidationError(N_("Must be at least %(min)d."), field=field, min=0)
    if amount == 0 and not zero_ok:
        raise ValidationError(N_("Must be more than 0."), field=field)
    if amount > MAX_AMOUNT:
        raise ValidationError(N_("Must be at most %(max)d."), field=field, max=int(MAX_AMOUNT))
    if amount != round(amount, AMOUNT_PLACES):
        raise ValidationError(N_("At most %(places)d decimals."), field=field, places=AMOUNT_PLACES)
    return amount


def _signed_in(actor: User | None) -> bool:
    return actor is not None and actor.is_authenticated and not actor.is_disabled


def may_start_chains(actor: User | None) -> bool:
    """Facilitators and operators start supply chains (they set them up with the KUBEs they coach)."""
    return _signed_in(actor) and bool(actor and (actor.is_facilitator or actor.is_operator))


def _managed(session: Session, actor: User | None, slug: str) -> SupplyChain:
    chain = chain_by_slug(session, slug)
    if not can_manage_chain(session, actor, chain):
        raise PermissionDenied(N_("You are not allowed to change this supply chain."))
    return chain


def _process_of(chain: SupplyChain, process_id: int) -> ChainProcess:
    process = next((p for p in chain.processes if p.id == process_id), None)
    if process is None:
        raise NotFoundError(N_("Process not found."))
    return process


@dataclass(frozen=True)
class ChainInput:
    name: object
    description: object = ""
    regency_code: object = None  # a kabupaten/kota code ("72.01"), or none for a chain across regions


def _chain_values(data: ChainInput) -> dict[str, Any]:
    code = str(data.regency_code or "").strip() or None
    if code is not None:
        region = regions.region(code) if len(code) == 5 else None
        if region is None or region.level != 2:
            raise ValidationError(N_("Choose a kabupaten / kota from the list."), field="regency_code")
    return {
        "name": clean_text(data.name, field="name", max_length=120),
        "description": clean_text(data.description, field="description", max_length=5000, required=False),
        "regency_code": code,
    }


def create_chain(session: Session, actor: User | None, data: ChainInput) -> SupplyChain:
    """A facilitator or an operator starts a chain (no process yet); its slug comes from the name."""
    if actor is None or not may_start_chains(actor):
        raise PermissionDenied(N_("Only facilitators and operators start supply chains."))
    values = _chain_values(data)
    base = slugify(values["name"], 110)
    slug, n = base, 2
    while slug in RESERVED_SLUGS or session.scalar(select(SupplyChain.id).where(SupplyChain.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    chain = SupplyChain(slug=slug, created_by_id=actor.id, **values)
    session.add(chain)
    session.flush()
    return chain


def update_chain(session: Session, actor: User | None, slug: str, data: ChainInput) -> SupplyChain:
    """Rename or describe a chain; its slug stays, so links to it keep working."""
    chain = _managed(session, actor, slug)
    for key, value in _chain_values(data).items():
        setattr(chain, key, value)
    session.flush()
    return chain


@dataclass(frozen=True)
class ProcessInput:
    name: object
    key: object = ""  # a short slug, unique in the chain; from the name when empty
    whole_runs: bool = False  # runs come in whole pieces (one nut)
    yield_source: object = ""  # where the yields come from
    position: object = None  # the order on the page; at the end when empty


def _process_values(chain: SupplyChain, data: ProcessInput, process: ChainProcess | None) -> dict[str, Any]:
    name = clean_text(data.name, field="name", max_length=120)
    key = slugify(clean_text(data.key, field="key", max_length=60, required=False) or name, 60)
    if any(p.key == key and p is not process for p in chain.processes):
        raise ValidationError(N_("Another process of this chain already has the code %(key)s."), field="key",
                              key=key)
    if data.position is None or data.position == "":
        position = process.position if process else max((p.position for p in chain.processes), default=-1) + 1
    else:
        position = clean_int(data.position, field="position", minimum=0, maximum=1000)
    return {"name": name, "key": key, "whole_runs": bool(data.whole_runs), "position": position,
            "yield_source": clean_text(data.yield_source, field="yield_source", max_length=2000, required=False)}


def add_process(session: Session, actor: User | None, slug: str, data: ProcessInput) -> ChainProcess:
    chain = _managed(session, actor, slug)
    if len(chain.processes) >= MAX_PROCESSES:
        raise ConflictError(N_("A chain has at most %(max)d processes."), max=MAX_PROCESSES)
    process = ChainProcess(**_process_values(chain, data, None))
    chain.processes.append(process)
    session.flush()
    return process


def update_process(session: Session, actor: User | None, slug: str, process_id: int,
                   data: ProcessInput) -> ChainProcess:
    chain = _managed(session, actor, slug)
    process = _process_of(chain, process_id)
    for key, value in _process_values(chain, data, process).items():
        setattr(process, key, value)
    session.flush()
    return process


def delete_process(session: Session, actor: User | None, slug: str, process_id: int) -> None:
    """Remove a process with its flows and KUBEs (what it made becomes a raw input of the chain)."""
    chain = _managed(session, actor, slug)
    process = _process_of(chain, process_id)
    for placed in process.kubes:  # it takes its KUBEs out with it: a facilitator only those they coach
        _may_place(session, actor, placed.kube_id)
    chain.processes.remove(process)
    session.flush()


@dataclass(frozen=True)
class FlowInput:
    direction: object  # "in" or "out"
    item_name: object
    unit: object
    amount: object  # per run: "0,4375" or "0.4375"
    item: object = ""  # the product kind's slug; when empty, that of an item of the chain with this name, or
    # made from the name
    price: object = None  # outputs: whole Rupiah per unit, optional


def _flow_values(chain: SupplyChain, data: FlowInput) -> dict[str, Any]:
    if data.direction not in DIRECTIONS:
        raise ValidationError(N_("Choose input or output."), field="direction")
    item_name = clean_text(data.item_name, field="item_name", max_length=120)
    code = clean_text(data.item, field="item", max_length=120, required=False)
    # Without a code, an item named as one already in the chain is that item: typing "Sabut kelapa" as the
    # fibre's input links it to the split's output "sabut".
    named = {f.item_name.casefold(): f.item for p in chain.processes for f in p.flows}
    item = slugify(code, 120) if code else named.get(item_name.casefold()) or slugify(item_name, 120)
    if data.unit not in FLOW_UNITS:
        raise ValidationError(N_("Choose a unit."), field="unit")
    price = None
    if data.price is not None and str(data.price).strip() != "":
        if data.direction != "out":
            raise ValidationError(N_("Only an output has a price."), field="price")
        price = clean_int(data.price, field="price", minimum=0, maximum=catalog.MAX_PRICE)
    return {"direction": data.direction, "item": item, "item_name": item_name, "unit": data.unit,
            "amount": clean_amount(data.amount, field="amount"), "price": price}


def _check_flow(chain: SupplyChain, process: ChainProcess, values: dict[str, Any],
                replacing: ProcessFlow | None) -> None:
    """The rules a new or changed flow must keep: an item once per side of a process, never both taken in and
    made by one process, made by one process of the chain only, and no cycle (the planner's own check)."""
    item, direction = values["item"], values["direction"]
    others = [f for f in process.flows if f is not replacing]
    if any(f.item == item and f.direction == direction for f in others):
        raise ValidationError(N_("This process already has %(item)s on that side."), field="item",
                              item=values["item_name"])
    if any(f.item == item for f in others):
        raise ValidationError(N_("A process cannot take in what it makes (%(item)s)."), field="item",
                              item=values["item_name"])
    if direction == "out":
        maker = next((p for p in chain.processes if p is not process
                      and any(f.item == item and f.direction == "out" for f in p.flows)), None)
        if maker is not None:
            raise ValidationError(N_("%(item)s is already made by “%(process)s”: one process of a chain makes "
                                     "each item."), field="item", item=values["item_name"], process=maker.name)
    proposed = []
    for p in chain.processes:
        flows = [(f.direction, f.item, Fraction(f.amount)) for f in p.flows if f is not replacing]
        if p is process:
            flows.append((direction, item, Fraction(values["amount"])))
        proposed.append(planner.Process(key=str(p.id), inputs={i: a for d, i, a in flows if d == "in"},
                                        outputs={i: a for d, i, a in flows if d == "out"}))
    try:
        planner.plan(proposed, {})
    except planner.PlanError:
        raise ValidationError(N_("With %(item)s the chain would go round in a circle: a process would need "
                                 "what it makes, through the others."), field="item",
                              item=values["item_name"]) from None


def _flow_of(process: ChainProcess, flow_id: int) -> ProcessFlow:
    flow = next((f for f in process.flows if f.id == flow_id), None)
    if flow is None:
        raise NotFoundError(N_("Input or output not found."))
    return flow


def add_flow(session: Session, actor: User | None, slug: str, process_id: int, data: FlowInput) -> ProcessFlow:
    """Add an input or an output (per run) to a process."""
    chain = _managed(session, actor, slug)
    process = _process_of(chain, process_id)
    if len(process.flows) >= MAX_FLOWS:
        raise ConflictError(N_("A process has at most %(max)d inputs and outputs."), max=MAX_FLOWS)
    values = _flow_values(chain, data)
    _check_flow(chain, process, values, None)
    flow = ProcessFlow(**values)
    process.flows.append(flow)
    session.flush()
    return flow


def update_flow(session: Session, actor: User | None, slug: str, process_id: int, flow_id: int,
                data: FlowInput) -> ProcessFlow:
    chain = _managed(session, actor, slug)
    process = _process_of(chain, process_id)
    flow = _flow_of(process, flow_id)
    values = _flow_values(chain, data)
    _check_flow(chain, process, values, flow)
    for key, value in values.items():
        setattr(flow, key, value)
    session.flush()
    return flow


def remove_flow(session: Session, actor: User | None, slug: str, process_id: int, flow_id: int) -> None:
    chain = _managed(session, actor, slug)
    process = _process_of(chain, process_id)
    process.flows.remove(_flow_of(process, flow_id))
    session.flush()


def assignable_kubes(session: Session, actor: User | None) -> list[Kube]:
    """The KUBEs `actor` may put in a chain: those a facilitator coaches, every KUBE for an operator."""
    if actor is None or not may_start_chains(actor):
        return []
    return catalog.kubes_of_facilitator(session, actor)


def _may_place(session: Session, actor: User | None, kube_id: int) -> None:
    """A facilitator puts in a chain (and changes or removes) only the KUBEs they coach; an operator any."""
    if actor is not None and actor.is_operator:
        return
    if not permissions.is_assigned_facilitator(session, actor, kube_id):
        raise PermissionDenied(N_("You can only place the KUBEs you accompany in a chain."))


def _kube_ref(session: Session, kube: int | str) -> Kube:
    found = session.get(Kube, kube) if isinstance(kube, int) else \
        session.scalar(select(Kube).where(Kube.slug == str(kube)))
    if found is None:
        raise NotFoundError(N_("KUBE not found."), field="kube")
    return found


def assign_kube(session: Session, actor: User | None, slug: str, process_id: int, kube: int | str,
                capacity: object) -> ProcessKube:
    """A KUBE (by id or slug) runs a process, with how many runs it can do a week."""
    chain = _managed(session, actor, slug)
    process = _process_of(chain, process_id)
    found = _kube_ref(session, kube)
    _may_place(session, actor, found.id)
    if any(pk.kube_id == found.id for pk in process.kubes):
        raise ValidationError(N_("%(kube)s already runs this process."), field="kube", kube=found.name)
    link = ProcessKube(kube_id=found.id, kube=found, capacity_per_week=clean_amount(capacity, field="capacity",
                                                                                     zero_ok=True))
    process.kubes.append(link)
    session.flush()
    return link


def _link_of(process: ChainProcess, kube_id: int) -> ProcessKube:
    link = next((pk for pk in process.kubes if pk.kube_id == kube_id), None)
    if link is None:
        raise NotFoundError(N_("This KUBE does not run this process."))
    return link


def update_capacity(session: Session, actor: User | None, slug: str, process_id: int, kube_id: int,
                    capacity: object) -> ProcessKube:
    chain = _managed(session, actor, slug)
    link = _link_of(_process_of(chain, process_id), kube_id)
    _may_place(session, actor, kube_id)
    link.capacity_per_week = clean_amount(capacity, field="capacity", zero_ok=True)
    session.flush()
    return link


def remove_kube(session: Session, actor: User | None, slug: str, process_id: int, kube_id: int) -> None:
    chain = _managed(session, actor, slug)
    process = _process_of(chain, process_id)
    link = _link_of(process, kube_id)
    _may_place(session, actor, kube_id)
    process.kubes.remove(link)
    session.flush()


# --- What a KUBE does in the chains (its dashboard) -------------------------------------------------


@dataclass(frozen=True)
class KubePart:
    """One process a KUBE runs: its chain, its weekly capacity, and its share of the current plan."""

    chain: SupplyChain
    process: ChainProcess
    capacity: Decimal  # runs a week
    step: planner.ProcessPlan | None  # the process in the current plan (None: no plan)
    share: Fraction | None  # the runs of it this KUBE does (None: no plan)


PlanSource = Callable[[Session, Sequence[SupplyChain], str], dict[int, ChainPlan]]


def kube_parts(session: Session, kube_id: int, plans_for: PlanSource | None = None) -> list[KubePart]:
    """The processes a KUBE runs, chain by chain, with its share of each chain's plan for this week from
    `plans_for` (the demand of open contracts, all chains at once). A fixed number of queries whatever the
    number of chains."""
    chain_ids = set(session.scalars(select(ChainProcess.chain_id).join(ProcessKube)
                                    .where(ProcessKube.kube_id == kube_id)))
    if not chain_ids:
        return []
    found = list(session.scalars(select(SupplyChain).where(SupplyChain.id.in_(chain_ids))
                                 .order_by(SupplyChain.name).options(*_loaded())))
    plans = plans_for(session, found, "week") if plans_for else {}
    parts = []
    for chain in found:
        result = plans.get(chain.id)
        for process in chain.processes:
            link = next((pk for pk in process.kubes if pk.kube_id == kube_id), None)
            if link is None:
                continue
            step = next((s for s in result.plan.processes if s.key == process.key), None) if result else None
            share = step.allocated.get(link.kube.slug, Fraction(0)) if step else None
            parts.append(KubePart(chain, process, link.capacity_per_week, step, share))
    return parts


# --- A plan's surplus listed for sale ---------------------------------------------------------------

# Grams per unit for a listed surplus: a kilogram, and a litre (of water or oil, near enough); other units
# are left at 0 for the member to fill in.
UNIT_GRAMS = {Unit.KG: 1000, Unit.LITER: 1000}


def product_unit(unit: str) -> Unit:
    """The catalogue unit a chain item is sold in: whole pieces (butir) are pcs."""
    if unit == "butir":
        return Unit.PCS
    try:
        return Unit(unit)
    except ValueError:
        raise ValidationError(N_("Items in %(unit)s cannot be sold in the market."), unit=unit) from None


def surplus_category(session: Session, kube_id: int, item_name: str) -> Category:
    """The category a listed surplus goes in (the member may change it before sending it for review):

    1. where the market already sells the item: the category most used by published products whose name
       holds every word of the item's name ("Tempurung kelapa" finds "Tempurung Kelapa Kering (Bahan Arang)",
       in Charcoal & briquettes);
    2. else the category the KUBE itself uses most (its own line of business);
    3. else the first sub-category of the first top-level category, in the tree's order."""
    words = [word for word in slugify(item_name).split("-") if len(word) >= 3]
    category_id = None
    if words:
        category_id = session.scalar(
            select(Product.category_id)
            .where(Product.status == ProductStatus.PUBLISHED, *[func.lower(Product.name).contains(w) for w in words])
            .group_by(Product.category_id).order_by(func.count().desc(), Product.category_id).limit(1))
    if category_id is None:
        category_id = session.scalar(
            select(Product.category_id).where(Product.kube_id == kube_id, Product.status != ProductStatus.ARCHIVED)
            .group_by(Product.category_id).order_by(func.count().desc(), Product.category_id).limit(1))
    if category_id is not None:
        category = session.get(Category, category_id)
        if category is not None:
            return category
    tree = catalog.category_tree(session)
    if not tree:
        raise ConflictError(N_("There are no product categories yet; ask an operator to add them."))
    return tree[0].children[0] if tree[0].children else tree[0]


def surplus_stock(step: planner.ProcessPlan, kube_slug: str, item: str) -> int:
    """A KUBE's share of a process's surplus: its share of the runs times the surplus per run, in whole units
    (rounded down), at least 1."""
    if step.runs <= 0:
        return 1
    share = step.allocated.get(kube_slug, Fraction(0)) * step.surplus[item] / step.runs
    return min(max(1, math.floor(share)), catalog.MAX_STOCK)


def list_surplus(session: Session, actor: User | None, slug: str, demand: Iterable[tuple[object, object]],
                 period: object, *, process_key: str, item: str, kube_id: int, description: str = "") -> Product:
    """A member lists their KUBE's share of a surplus of the plan for `demand` as a product of the KUBE: named
    after the item, at the chain's price, in the unit it is sold in. Like any product a member adds it is a
    draft until sent for review and approved by the facilitator."""
    if actor is None or not _signed_in(actor):
        raise PermissionDenied(N_("Sign in as a member of the KUBE to list its surplus."))
    chain = chain_by_slug(session, slug)
    process = next((p for p in chain.processes if p.key == process_key), None)
    if process is None:
        raise NotFoundError(N_("Process not found."))
    link = next((pk for pk in process.kubes if pk.kube_id == kube_id), None)
    if link is None or permissions.member_role(session, actor, kube_id) is None:
        raise PermissionDenied(N_("Only the members of a KUBE that runs this process can list its surplus."))
    result = plan_chain(session, slug, demand, period)
    flow = next((f for f in process.flows if f.direction == "out" and f.item == item), None)
    if flow is None:
        raise NotFoundError(N_("This process makes no such item."))
    if flow.price is None:
        raise ConflictError(N_("The chain has no price for %(item)s yet: ask its facilitator to set one."),
                            item=flow.item_name)
    step = result.plan.process(process.key)
    if step.surplus[item] <= 0:
        raise ConflictError(N_("This plan leaves no surplus of %(item)s."), item=flow.item_name)
    if link.kube.slug not in step.capacity:
        raise ConflictError(N_("Your KUBE has no share of this plan: only verified and trading KUBEs take part."))
    unit = product_unit(flow.unit)
    return catalog.create_product(session, actor, kube_id, {
        "name": flow.item_name,
        "description": description,
        "category_id": surplus_category(session, kube_id, flow.item_name).id,
        "unit": unit.value,
        "price": flow.price,
        "stock": surplus_stock(step, link.kube.slug, item),
        "weight_grams": UNIT_GRAMS.get(unit, 0),
    })
