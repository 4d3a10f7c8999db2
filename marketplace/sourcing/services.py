"""Order takers sourcing inputs (no flask here): requests, quotes, supply contracts, lots and deliveries.

The round: an order taker posts a request (an item, so much per delivery, once / weekly / monthly until a
date, a target price, a delivery region). A KUBE's officers quote for their KUBE; a chain's managers quote for
the whole chain. The order taker accepts a quote, which makes a supply contract with the terms copied (and the
platform's fee fixed); the request closes once the accepted quotes cover its quantity. KUBE members record
lots (a batch of an item made on a day, from other lots: its sources) and deliver lots against the contract's
scheduled dates, partly or fully. The order taker confirms receipt; an operator records the order taker's
bank transfer, and that posts to the ledger:

- the delivering KUBE is credited the delivery's amount (CONTRACT) and debited the platform's fee (FEE);
- walking the delivered lot's sources back, every lot of another KUBE that went into it is paid for at the
  chain's price for its item (CHAIN_SALE to its KUBE, CHAIN_INPUT from the KUBE that used it), in proportion
  to the share of the lot that was delivered. So each KUBE of an integrated business earns its share.
"""

from __future__ import annotations

import calendar
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace import regions
from marketplace.auth.models import User
from marketplace.catalog.models import OFFICER_ROLES, FacilitatorAssignment, Kube, KubeMember
from marketplace.catalog.permissions import Action, allowed_actions
from marketplace.chains import planner
from marketplace.chains import services as chains
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
    utcnow,
)
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders.models import Notification
from marketplace.sourcing.models import (
    ContractDelivery,
    ContractStatus,
    DeliveryStatus,
    Lot,
    LotSource,
    Quote,
    QuoteStatus,
    RequestStatus,
    Schedule,
    SourcingRequest,
    SupplyContract,
)
from marketplace.webhooks import events as webhooks

MAX_QUANTITY = Decimal(10**9)
MAX_PRICE = 10**10
MAX_SOURCES = 20
MAX_HORIZON_DAYS = 3 * 366  # a request runs at most three years
UNITS = ("kg", "liter", "pcs", "pak", "ikat", "karung", "botol", "butir")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read out on the phone


# --- Small helpers ---------------------------------------------------------------------------------------

def parse_quantity(value: object, *, field: str) -> Decimal:
    """A positive quantity with at most three decimals (grams, millilitres), read as the chains read amounts:
    1.500 (thousands), 2,5 or 2.5; a number (from the database or JSON) as it is."""
    number = chains.clean_amount(value, field=field)
    if number > MAX_QUANTITY:
        raise ValidationError(N_("A quantity is more than 0 and at most %(max)s."), field=field,
                              max="1.000.000.000")
    if number != number.quantize(Decimal("0.001")):
        raise ValidationError(N_("At most three decimals."), field=field)
    return number.quantize(Decimal("0.001"))


def _date(value: object, *, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(N_("Enter a date as YYYY-MM-DD."), field=field) from None


def rupiah_of(quantity: Decimal | Fraction, price: int) -> int:
    """quantity x price in whole Rupiah, half up."""
    exact = Fraction(quantity) * price
    return int((Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal(1), ROUND_HALF_UP))


def _new_code(session: Session, model: type[Lot] | type[SupplyContract], prefix: str) -> str:
    while True:
        code = prefix + "-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(7))
        if session.scalar(select(model.id).where(model.code == code)) is None:
            return code


def _active(actor: User | None) -> bool:
    return actor is not None and actor.is_authenticated and not actor.is_disabled


def _require_order_taker(actor: User | None) -> User:
    if not _active(actor) or actor is None or not actor.is_order_taker:
        raise PermissionDenied(N_("Only order takers (with a company profile) can do this."))
    return actor


def _notify(session: Session, user_ids: Iterable[int | None], message: str, **params: object) -> None:
    """In-app notifications (`message` is an English msgid, translated when shown). `params` carries the
    request_id or contract_id the notification links to."""
    for user_id in dict.fromkeys(u for u in user_ids if u is not None):
        session.add(Notification(user_id=user_id, message=message, params=params))


def _kube_member_ids(session: Session, kube_ids: Iterable[int], officers_only: bool = False) -> list[int]:
    ids = set(kube_ids)
    if not ids:
        return []
    stmt = select(KubeMember.user_id).where(KubeMember.kube_id.in_(ids))
    if officers_only:
        stmt = stmt.where(KubeMember.role.in_(OFFICER_ROLES))
    return list(session.scalars(stmt))


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(schedule: Schedule, starts_on: date, until: date) -> list[date]:
    """The delivery dates of a schedule: the first, then every week or every month, up to `until`."""
    if schedule == Schedule.ONCE:
        return [starts_on]
    dates: list[date] = []
    step = 0
    while True:
        day = starts_on + timedelta(weeks=step) if schedule == Schedule.WEEKLY else add_months(starts_on, step)
        if day > until:
            return dates
        dates.append(day)
        step += 1


# --- Requests --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestInput:
    item_name: str
    quantity: object
    unit: str
    schedule: str
    starts_on: object
    until: object | None
    province_code: str
    regency_code: str | None = None
    target_price: object | None = None
    chain_slug: str | None = None
    item: str | None = None  # a chain's product kind; else made from the name
    note: str = ""


def create_request(session: Session, actor: User | None, data: RequestInput, today: date | None = None
                   ) -> SourcingRequest:
    taker = _require_order_taker(actor)
    today = today or date.today()
    chain = None
    item_name = clean_text(data.item_name, field="item_name", max_length=120, required=not data.item)
    unit = clean_text(data.unit, field="unit", max_length=20)
    if data.chain_slug:
        chain = chains.chain_by_slug(session, data.chain_slug)
        kinds = {f.item: f for p in chain.processes for f in p.flows if f.direction == "out"}
        if data.item not in kinds:
            raise ValidationError(N_("This chain makes no %(item)s."), field="item", item=str(data.item)[:60])
        item, item_name, unit = data.item, kinds[data.item].item_name, kinds[data.item].unit
    else:
        item = slugify(data.item or item_name)
    if unit not in UNITS:
        raise ValidationError(N_("Choose a unit from the list."), field="unit")
    quantity = parse_quantity(data.quantity, field="quantity")
    if data.schedule not in {s.value for s in Schedule}:
        raise ValidationError(N_("The schedule is once, weekly or monthly."), field="schedule")
    schedule = Schedule(data.schedule)
    starts_on = _date(data.starts_on, field="starts_on")
    if starts_on < today:
        raise ValidationError(N_("The first delivery cannot be in the past."), field="starts_on")
    until = starts_on if schedule == Schedule.ONCE or not data.until else _date(data.until, field="until")
    if until < starts_on:
        raise ValidationError(N_("The last date comes after the first delivery."), field="until")
    if (until - today).days > MAX_HORIZON_DAYS:
        raise ValidationError(N_("A request runs at most three years."), field="until")
    province = regions.region(data.province_code)
    if province is None or province.level != 1:
        raise ValidationError(N_("Choose a province."), field="province_code")
    regency = None
    if data.regency_code:
        found = regions.region(data.regency_code)
        if found is None or found.level != 2 or not data.regency_code.startswith(data.province_code + "."):
            raise ValidationError(N_("Choose a kabupaten/kota of the province."), field="regency_code")
        regency = data.regency_code
    target = None
    if data.target_price not in (None, ""):
        target = clean_int(data.target_price, field="target_price", minimum=1, maximum=MAX_PRICE)
    request = SourcingRequest(order_taker_id=taker.id, chain_id=chain.id if chain else None, item=item,
                              item_name=item_name, unit=unit, quantity=quantity, schedule=schedule,
                              starts_on=starts_on, until=until, target_price=target,
                              province_code=data.province_code, regency_code=regency,
                              note=clean_text(data.note, field="note", max_length=2000, required=False))
    session.add(request)
    session.flush()
    return request


def get_request(session: Session, request_id: int) -> SourcingRequest:
    request = session.scalar(select(SourcingRequest).where(SourcingRequest.id == request_id).options(
        joinedload(SourcingRequest.order_taker).joinedload(User.order_taker_profile),
        selectinload(SourcingRequest.quotes).joinedload(Quote.kube),
        selectinload(SourcingRequest.quotes).joinedload(Quote.chain)))
    if request is None:
        raise NotFoundError(N_("Request not found."))
    return request


def open_requests(session: Session, province_code: str | None = None, item: str | None = None,
                  limit: int = 100) -> Sequence[SourcingRequest]:
    """Requests taking quotes, soonest first (a province's own first when one is given)."""
    stmt = select(SourcingRequest).where(SourcingRequest.status == RequestStatus.OPEN).options(
        joinedload(SourcingRequest.order_taker).joinedload(User.order_taker_profile),
        joinedload(SourcingRequest.chain))
    if item:
        stmt = stmt.where(SourcingRequest.item == item)
    order = [SourcingRequest.starts_on, SourcingRequest.id]
    if province_code:
        order.insert(0, (SourcingRequest.province_code != province_code))  # type: ignore[arg-type]
    return list(session.scalars(stmt.order_by(*order).limit(limit)))


def _lock_request(session: Session, request_id: int) -> SourcingRequest:
    """The request, locked with its quotes read afresh: accepting, withdrawing and closing take turns."""
    session.scalar(select(SourcingRequest.id).where(SourcingRequest.id == request_id).with_for_update())
    request = get_request(session, request_id)
    session.refresh(request)
    for quote in request.quotes:
        session.refresh(quote)
    return request


def close_request(session: Session, actor: User | None, request_id: int, cancel: bool = False) -> SourcingRequest:
    """The order taker stops taking quotes (closed) or withdraws the request (cancelled, only before any
    contract). Quotes still offered are declined."""
    request = _lock_request(session, request_id)
    if not _active(actor) or actor is None or request.order_taker_id != actor.id:
        raise PermissionDenied(N_("Only the order taker who posted the request can do this."))
    if request.status != RequestStatus.OPEN:
        raise ConflictError(N_("This request is no longer open."))
    if cancel and any(q.status == QuoteStatus.ACCEPTED for q in request.quotes):
        raise ConflictError(N_("A quote was accepted: close the request instead."))
    request.status = RequestStatus.CANCELLED if cancel else RequestStatus.CLOSED
    for quote in request.quotes:
        if quote.status == QuoteStatus.OFFERED:
            quote.status, quote.decided_at = QuoteStatus.DECLINED, utcnow()
            _notify(session, _quoters(session, quote), N_("Your quote for %(item)s was declined."),
                    item=request.item_name, request_id=request.id)
    session.flush()
    return request


# --- Quotes ----------------------------------------------------------------------------------------------

def can_quote_for_kube(session: Session, actor: User | None, kube: Kube) -> bool:
    """A KUBE's officers (and its facilitator, and operators) commit it to a price."""
    return kube.is_public and Action.MANAGE_SHOP in allowed_actions(session, actor, kube)


def quote_options(session: Session, actor: User | None) -> tuple[list[Kube], list[SupplyChain]]:
    """The KUBEs and chains `actor` may quote for."""
    if not _active(actor) or actor is None:
        return [], []
    if actor.is_operator:
        kubes = [k for k in session.scalars(select(Kube).order_by(Kube.name)) if k.is_public]
    else:
        ids = set(session.scalars(select(KubeMember.kube_id).where(KubeMember.user_id == actor.id)))
        kubes = [k for k in session.scalars(select(Kube).where(Kube.id.in_(ids)).order_by(Kube.name))
                 if can_quote_for_kube(session, actor, k)] if ids else []
    managed = [c for c in chains.chains(session) if chains.can_manage_chain(session, actor, c)] \
        if (actor.is_operator or actor.is_facilitator) else []
    return kubes, managed


def make_quote(session: Session, actor: User | None, request_id: int, *, price_per_unit: object,
               quantity: object, kube_id: int | None = None, chain_slug: str | None = None,
               note: str = "") -> Quote:
    request = _lock_request(session, request_id)
    if request.status != RequestStatus.OPEN:
        raise ConflictError(N_("This request is no longer open."))
    if (kube_id is None) == (chain_slug is None):
        raise ValidationError(N_("Quote for one KUBE or one chain."), field="kube_id")
    kube, chain = None, None
    if kube_id is not None:
        kube = session.get(Kube, kube_id)
        if kube is None or not can_quote_for_kube(session, actor, kube):
            raise PermissionDenied(N_("Only the KUBE's officers can quote for it."))
        if any(q.kube_id == kube.id and q.status == QuoteStatus.OFFERED for q in request.quotes):
            raise ConflictError(N_("This KUBE already has a quote on this request: withdraw it first."))
    else:
        chain = chains.chain_by_slug(session, str(chain_slug))
        if not chains.can_manage_chain(session, actor, chain):
            raise PermissionDenied(N_("Only the chain's facilitators and operators can quote for it."))
        if request.item not in {f.item for p in chain.processes for f in p.flows if f.direction == "out"}:
            raise ValidationError(N_("This chain makes no %(item)s."), field="chain", item=request.item_name)
        if any(q.chain_id == chain.id and q.status == QuoteStatus.OFFERED for q in request.quotes):
            raise ConflictError(N_("This chain already has a quote on this request: withdraw it first."))
    amount = parse_quantity(quantity, field="quantity")
    if amount > request.quantity:
        raise ValidationError(N_("At most the quantity asked for."), field="quantity")
    quote = Quote(request=request, kube_id=kube.id if kube else None, chain_id=chain.id if chain else None,
                  price_per_unit=clean_int(price_per_unit, field="price_per_unit", minimum=1, maximum=MAX_PRICE),
                  quantity=amount, note=clean_text(note, field="note", max_length=2000, required=False),
                  created_by_id=actor.id if actor else None)
    session.add(quote)
    session.flush()
    _notify(session, [request.order_taker_id], N_("%(supplier)s quoted for your request for %(item)s."),
            supplier=kube.name if kube else chain.name if chain else "", item=request.item_name,
            request_id=request.id)
    return quote


def _quote(session: Session, quote_id: int) -> Quote:
    quote = session.scalar(select(Quote).where(Quote.id == quote_id).options(
        joinedload(Quote.request), joinedload(Quote.kube), joinedload(Quote.chain)))
    if quote is None:
        raise NotFoundError(N_("Quote not found."))
    return quote


def withdraw_quote(session: Session, actor: User | None, quote_id: int) -> Quote:
    quote = _quote(session, quote_id)
    _lock_request(session, quote.request_id)
    if quote.kube is not None:
        allowed = can_quote_for_kube(session, actor, quote.kube)
    else:
        allowed = quote.chain is not None and chains.can_manage_chain(session, actor, quote.chain)
    if not allowed:
        raise PermissionDenied(N_("Only who quoted can withdraw the quote."))
    if quote.status != QuoteStatus.OFFERED:
        raise ConflictError(N_("This quote was already decided."))
    quote.status, quote.decided_at = QuoteStatus.WITHDRAWN, utcnow()
    session.flush()
    return quote


def _decide(session: Session, actor: User | None, quote_id: int) -> Quote:
    quote = _quote(session, quote_id)
    if not _active(actor) or actor is None or quote.request.order_taker_id != actor.id:
        raise PermissionDenied(N_("Only the order taker who posted the request can do this."))
    _lock_request(session, quote.request_id)  # two quotes accepted at once cannot both fill it
    if quote.status != QuoteStatus.OFFERED or quote.request.status != RequestStatus.OPEN:
        raise ConflictError(N_("This quote was already decided."))
    return quote


def decline_quote(session: Session, actor: User | None, quote_id: int) -> Quote:
    quote = _decide(session, actor, quote_id)
    quote.status, quote.decided_at = QuoteStatus.DECLINED, utcnow()
    session.flush()
    _notify(session, _quoters(session, quote), N_("Your quote for %(item)s was declined."),
            item=quote.request.item_name, request_id=quote.request_id)
    return quote


def _quoters(session: Session, quote: Quote) -> list[int | None]:
    """Who hears about a quote: the KUBE's officers, or for a chain the one who quoted."""
    if quote.kube_id is not None:
        return [*_kube_member_ids(session, [quote.kube_id], officers_only=True), quote.created_by_id]
    return [quote.created_by_id]


def accept_quote(session: Session, actor: User | None, quote_id: int, fee_bps: int,
                 today: date | None = None) -> SupplyContract:
    """Make the contract. The request closes once its accepted quotes cover its quantity (the other
    offered quotes are then declined)."""
    quote = _decide(session, actor, quote_id)
    request = quote.request
    today = today or date.today()
    if request.until < today:
        raise ConflictError(N_("The request's last delivery date has passed."))
    now = utcnow()
    quote.status, quote.decided_at = QuoteStatus.ACCEPTED, now
    # The contract keeps the request's days (Mondays stay Mondays), from the first one not yet past.
    first = next((day for day in due_dates(request.schedule, request.starts_on, request.until) if day >= today),
                 None)
    if first is None:
        raise ConflictError(N_("The request's last delivery date has passed."))
    contract = SupplyContract(code=_new_code(session, SupplyContract, "KTR"), request_id=request.id,
                              quote_id=quote.id, order_taker_id=request.order_taker_id, kube_id=quote.kube_id,
                              chain_id=quote.chain_id, item=request.item, item_name=request.item_name,
                              unit=request.unit, quantity=quote.quantity, price_per_unit=quote.price_per_unit,
                              schedule=request.schedule, starts_on=first, until=request.until, fee_bps=fee_bps)
    session.add(contract)
    session.flush()
    covered = session.scalar(select(func.coalesce(func.sum(Quote.quantity), 0)).where(
        Quote.request_id == request.id, Quote.status == QuoteStatus.ACCEPTED)) or 0
    if Decimal(covered) >= request.quantity:
        request.status = RequestStatus.CLOSED
        for other in request.quotes:
            if other.status == QuoteStatus.OFFERED:
                other.status, other.decided_at = QuoteStatus.DECLINED, now
                _notify(session, _quoters(session, other), N_("Your quote for %(item)s was declined."),
                        item=request.item_name, request_id=request.id)
    session.flush()
    _notify(session, _quoters(session, quote), N_("Your quote for %(item)s was accepted: contract %(code)s."),
            item=request.item_name, code=contract.code, contract_id=contract.id)
    webhooks.contract_event(session, "contract.created", contract)
    return contract


# --- Contracts -------------------------------------------------------------------------------------------

def get_contract(session: Session, contract_id: int) -> SupplyContract:
    contract = session.scalar(select(SupplyContract).where(SupplyContract.id == contract_id).options(
        joinedload(SupplyContract.kube), joinedload(SupplyContract.chain),
        joinedload(SupplyContract.order_taker).joinedload(User.order_taker_profile),
        selectinload(SupplyContract.deliveries).joinedload(ContractDelivery.lot),
        selectinload(SupplyContract.deliveries).joinedload(ContractDelivery.kube)))
    if contract is None:
        raise NotFoundError(N_("Contract not found."))
    return contract


def _chain_kube_ids(chain: SupplyChain) -> set[int]:
    return {pk.kube_id for p in chain.processes for pk in p.kubes}


def supplier_kube_ids(session: Session, contract: SupplyContract) -> set[int]:
    """The KUBEs that may deliver on a contract: its KUBE, or the chain's KUBEs that make the item."""
    if contract.kube_id is not None:
        return {contract.kube_id}
    chain = chains.chain_by_slug(session, contract.chain.slug) if contract.chain else None
    if chain is None:
        return set()
    return {pk.kube_id for p in chain.processes for pk in p.kubes
            if any(f.direction == "out" and f.item == contract.item for f in p.flows)}


def can_read_contract(session: Session, actor: User | None, contract: SupplyContract) -> bool:
    if not _active(actor) or actor is None:
        return False
    if actor.is_operator or contract.order_taker_id == actor.id:
        return True
    kube_ids = {contract.kube_id} if contract.kube_id else (_chain_kube_ids(contract.chain) if contract.chain
                                                               else set())
    if contract.chain is not None and chains.can_manage_chain(session, actor, contract.chain):
        return True
    if not kube_ids:
        return False
    member = session.scalar(select(KubeMember.id).where(KubeMember.user_id == actor.id,
                                                        KubeMember.kube_id.in_(kube_ids)).limit(1))
    return member is not None or (actor.is_facilitator and session.scalar(
        select(FacilitatorAssignment.id).where(FacilitatorAssignment.facilitator_id == actor.id,
                                               FacilitatorAssignment.kube_id.in_(kube_ids)).limit(1)) is not None)


def read_contract(session: Session, actor: User | None, contract_id: int) -> SupplyContract:
    contract = get_contract(session, contract_id)
    if not can_read_contract(session, actor, contract):
        raise NotFoundError(N_("Contract not found."))
    return contract


@dataclass(frozen=True)
class DueDate:
    day: date
    quantity: Decimal
    delivered: Decimal

    @property
    def outstanding(self) -> Decimal:
        return max(self.quantity - self.delivered, Decimal(0))

    def late(self, today: date) -> bool:
        return self.outstanding > 0 and self.day < today


def schedule_of(contract: SupplyContract) -> list[DueDate]:
    """Every scheduled date with what was delivered for it (uses the loaded deliveries)."""
    delivered: dict[date, Decimal] = defaultdict(Decimal)
    for delivery in contract.deliveries:
        delivered[delivery.due_on] += delivery.quantity
    return [DueDate(day, contract.quantity, delivered[day])
            for day in due_dates(contract.schedule, contract.starts_on, contract.until)]


def cancel_contract(session: Session, actor: User | None, contract_id: int) -> SupplyContract:
    """Either side ends the contract early (what was delivered stays and is paid): the order taker, the KUBE's
    officers, or for a chain's contract its managers (one of its KUBEs alone does not end the whole chain's)."""
    contract = read_contract(session, actor, contract_id)  # outsiders learn nothing (404)
    if not can_end_contract(session, actor, contract):
        raise PermissionDenied(N_("Only the order taker, the supplier's officers (a chain's managers) or an "
                                  "operator can end it."))
    if contract.status != ContractStatus.ACTIVE:
        raise ConflictError(N_("This contract is not active."))
    contract.status = ContractStatus.CANCELLED
    session.flush()
    webhooks.contract_event(session, "contract.cancelled", contract)
    return contract


def can_end_contract(session: Session, actor: User | None, contract: SupplyContract) -> bool:
    return actor is not None and _active(actor) and (
        actor.id == contract.order_taker_id or actor.is_operator
        or (contract.chain is not None and chains.can_manage_chain(session, actor, contract.chain))
        or (contract.kube is not None and can_quote_for_kube(session, actor, contract.kube)))


# --- Lots ------------------------------------------------------------------------------------------------

def _used(session: Session, lot_ids: Sequence[int]) -> dict[int, Decimal]:
    """How much of each lot went into other lots or deliveries. The lots of one batch (joint products)
    used their sources once: a batch counts the most it took of a source, not the sum over its lots."""
    used: dict[int, Decimal] = defaultdict(Decimal)
    if not lot_ids:
        return used
    batch = func.coalesce(Lot.batch, Lot.code)
    rows = session.execute(select(LotSource.source_lot_id, batch, func.max(LotSource.quantity))
                           .join(Lot, Lot.id == LotSource.lot_id)
                           .where(LotSource.source_lot_id.in_(lot_ids))
                           .group_by(LotSource.source_lot_id, batch))
    for lot_id, _batch, amount in rows:
        used[lot_id] += Decimal(amount)
    for lot_id, amount in session.execute(select(ContractDelivery.lot_id, func.sum(ContractDelivery.quantity))
                                          .where(ContractDelivery.lot_id.in_(lot_ids))
                                          .group_by(ContractDelivery.lot_id)):
        used[lot_id] += Decimal(amount)
    return used


def lot_remaining(session: Session, lot: Lot) -> Decimal:
    """What is left of a lot: not yet used in another lot, nor delivered."""
    return Decimal(lot.quantity) - _used(session, [lot.id])[lot.id]


def _lock_lot(session: Session, code: object, field: str) -> Lot:
    lot = session.scalar(select(Lot).where(Lot.code == str(code).strip().upper()).with_for_update())
    if lot is None:
        raise ValidationError(N_("No lot %(code)s."), field=field, code=str(code)[:24])
    return lot


def _require_member(session: Session, actor: User | None, kube: Kube) -> User:
    if not _active(actor) or actor is None or Action.HANDLE_ORDERS not in allowed_actions(session, actor, kube):
        raise PermissionDenied(N_("Only the KUBE's members record its lots and deliveries."))
    return actor


@dataclass(frozen=True)
class LotInput:
    kube_id: int
    item: str
    quantity: object
    made_on: object
    sources: Sequence[tuple[str, object]] = ()  # (lot code, quantity used)
    chain_slug: str | None = None
    process_key: str | None = None
    item_name: str = ""
    unit: str = ""
    note: str = ""
    # Joint products of one chain process made in one go, (item, quantity) each: one lot each, one batch.
    # When given, `item` and `quantity` are not used.
    outputs: Sequence[tuple[str, object]] = ()


def record_lot(session: Session, actor: User | None, data: LotInput, today: date | None = None) -> Lot:
    """A KUBE records a lot it made, from other lots (its own or, in a chain, other KUBEs' lots it took)."""
    return record_lots(session, actor, data, today)[0]


def record_lots(session: Session, actor: User | None, data: LotInput, today: date | None = None) -> list[Lot]:
    """A KUBE records what it made in one go: one lot, or one lot per joint product (a batch)."""
    kube = session.get(Kube, data.kube_id)
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    user = _require_member(session, actor, kube)
    today = today or date.today()
    made_on = _date(data.made_on, field="made_on")
    if made_on > today:
        raise ValidationError(N_("A lot cannot be made in the future."), field="made_on")
    wanted = list(data.outputs) or [(data.item, data.quantity)]
    if len({item for item, _ in wanted}) != len(wanted):
        raise ValidationError(N_("Each product once."), field="item")
    chain, process = None, None
    made: list[tuple[str, str, str, Decimal]] = []  # item, name, unit, quantity
    if data.chain_slug:
        chain = chains.chain_by_slug(session, data.chain_slug)
        process = next((p for p in chain.processes if p.key == data.process_key), None)
        if process is None:
            raise ValidationError(N_("Choose a process of the chain."), field="process_key")
        if kube.id not in {pk.kube_id for pk in process.kubes}:
            raise PermissionDenied(N_("This KUBE does not run this process."))
        outputs = {f.item: f for f in process.flows if f.direction == "out"}
        for item, quantity in wanted:
            if item not in outputs:
                raise ValidationError(N_("This process makes no %(item)s."), field="item", item=str(item)[:60])
            made.append((item, outputs[item].item_name, outputs[item].unit,
                         parse_quantity(quantity, field="quantity")))
    else:
        if data.outputs:
            raise ValidationError(N_("Joint products are made by a process of a chain."), field="outputs")
        item_name = clean_text(data.item_name or data.item, field="item_name", max_length=120)
        unit = clean_text(data.unit, field="unit", max_length=20)
        if unit not in UNITS:
            raise ValidationError(N_("Choose a unit from the list."), field="unit")
        made.append((slugify(data.item or item_name), item_name, unit, parse_quantity(data.quantity,
                                                                                      field="quantity")))
    if len(data.sources) > MAX_SOURCES:
        raise ValidationError(N_("At most %(max)s source lots."), field="sources", max=MAX_SOURCES)
    note = clean_text(data.note, field="note", max_length=2000, required=False)
    inputs = {f.item for f in process.flows if f.direction == "in"} if process else None
    chain_kubes = _chain_kube_ids(chain) if chain else set()
    # Lock every source row in one statement, in id order, so that two members never wait on each other.
    codes = [str(code).strip().upper()[:24] for code, _ in data.sources]
    if codes:
        session.execute(select(Lot.id).where(Lot.code.in_(codes)).order_by(Lot.id).with_for_update())
    sources: list[tuple[Lot, Decimal]] = []
    for code, used in data.sources:
        source = _lock_lot(session, code, "sources")
        if any(source.id == seen.id for seen, _ in sources):
            raise ValidationError(N_("Lot %(code)s is listed twice."), field="sources", code=source.code)
        if source.kube_id != kube.id and not (chain and source.chain_id == chain.id
                                              and source.kube_id in chain_kubes):
            raise ValidationError(N_("Lot %(code)s belongs to another KUBE outside this chain."),
                                  field="sources", code=source.code)
        if source.kube_id != kube.id and source.handed_to_id != kube.id:
            raise ValidationError(N_("Lot %(code)s was not handed over to this KUBE: its KUBE hands it over "
                                     "first, on its sourcing page."), field="sources", code=source.code)
        if inputs is not None and source.item not in inputs:
            raise ValidationError(N_("This process does not take %(item)s."), field="sources",
                                  item=source.item_name)
        if source.made_on > made_on:
            raise ValidationError(N_("Lot %(code)s was made after this lot."), field="sources", code=source.code)
        amount = parse_quantity(used, field="sources")
        left = lot_remaining(session, source)
        if amount > left:
            raise ConflictError(N_("Only %(left)s %(unit)s of lot %(code)s is left."), field="sources",
                                left=f"{left.normalize():f}", unit=source.unit, code=source.code)
        sources.append((source, amount))
    # The chain's price of each source taken from another KUBE, as it is now: what this KUBE will pay for it.
    prices = chain_prices(session, {source.chain_id for source, _ in sources
                                    if source.kube_id != kube.id and source.chain_id})
    lots = []
    for item, item_name, unit, quantity in made:
        lot = Lot(code=_new_code(session, Lot, "LOT"), kube_id=kube.id, chain_id=chain.id if chain else None,
                  process_id=process.id if process else None, item=item, item_name=item_name, unit=unit,
                  quantity=quantity, made_on=made_on, note=note, created_by_id=user.id,
                  sources=[LotSource(source_lot_id=source.id, quantity=amount,
                                     price=prices.get((source.chain_id or 0, source.item))
                                     if source.kube_id != kube.id else None)
                           for source, amount in sources])
        session.add(lot)
        session.flush()
        lots.append(lot)
    if len(lots) > 1:
        for lot in lots:
            lot.batch = lots[0].code
        session.flush()
    _recheck(session, [source for source, _ in sources])
    return lots


def _recheck(session: Session, lots: Sequence[Lot]) -> None:
    """Two KUBE members using the same lot at once must not both pass the check: PostgreSQL locked the lot
    rows above; SQLite takes its write lock at the first write, so the check is made again after it."""
    used = _used(session, [lot.id for lot in lots])
    for lot in lots:
        if used[lot.id] > Decimal(lot.quantity):
            raise ConflictError(N_("Lot %(code)s was used by someone else at the same moment. Reload the page "
                                   "and check what is left."), code=lot.code)


def handover_kubes(session: Session, lot: Lot) -> list[Kube]:
    """The KUBEs a chain lot can be handed over to: those running a process of its chain that takes its item."""
    if lot.chain_id is None:
        return []
    return list(session.scalars(
        select(Kube).join(ProcessKube, ProcessKube.kube_id == Kube.id)
        .join(ChainProcess, ChainProcess.id == ProcessKube.process_id)
        .join(ProcessFlow, ProcessFlow.process_id == ChainProcess.id)
        .where(ChainProcess.chain_id == lot.chain_id, ProcessFlow.direction == "in", ProcessFlow.item == lot.item,
               Kube.id != lot.kube_id).distinct().order_by(Kube.name)))


def handover_options(session: Session, lots: Sequence[Lot]) -> dict[int, list[Kube]]:
    """handover_kubes for many lots at once (one query): lot id -> the KUBEs it can go to."""
    wanted = {(lot.chain_id, lot.item) for lot in lots if lot.chain_id is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(ChainProcess.chain_id, ProcessFlow.item, Kube)
        .join(ProcessFlow, ProcessFlow.process_id == ChainProcess.id)
        .join(ProcessKube, ProcessKube.process_id == ChainProcess.id)
        .join(Kube, Kube.id == ProcessKube.kube_id)
        .where(ChainProcess.chain_id.in_({chain_id for chain_id, _ in wanted}), ProcessFlow.direction == "in")
        .order_by(Kube.name)).all()
    takers: dict[tuple[int, str], dict[int, Kube]] = defaultdict(dict)
    for chain_id, item, kube in rows:
        takers[(chain_id, item)][kube.id] = kube
    return {lot.id: [k for k in takers[(lot.chain_id, lot.item)].values() if k.id != lot.kube_id]
            for lot in lots if lot.chain_id is not None}


def hand_over(session: Session, actor: User | None, lot_code: object, kube_id: int | None) -> Lot:
    """A KUBE hands one of its chain lots over to the next KUBE of the chain (or takes it back with None,
    while nothing of it was used): only then may that KUBE make its goods from it."""
    lot = _lock_lot(session, lot_code, "lot_code")
    owner = session.get(Kube, lot.kube_id)
    assert owner is not None
    _require_member(session, actor, owner)
    if kube_id is not None and kube_id not in {k.id for k in handover_kubes(session, lot)}:
        raise ValidationError(N_("Choose a KUBE of the chain that makes its goods from %(item)s."), field="kube",
                              item=lot.item_name)
    used_by_other = session.scalar(select(LotSource.id).join(Lot, Lot.id == LotSource.lot_id).where(
        LotSource.source_lot_id == lot.id, Lot.kube_id != lot.kube_id).limit(1))
    if used_by_other is not None:
        raise ConflictError(N_("Lot %(code)s is already used by the KUBE it was handed over to."), code=lot.code)
    lot.handed_to_id = kube_id
    session.flush()
    if kube_id is not None:
        _notify(session, _kube_member_ids(session, [kube_id], officers_only=True),
                N_("%(kube)s handed lot %(code)s (%(item)s) over to your KUBE."), kube=owner.name, code=lot.code,
                item=lot.item_name, lot=lot.code)
    return lot


def lot_by_code(session: Session, code: str) -> Lot:
    lot = session.scalar(select(Lot).where(Lot.code == code.strip().upper()).options(
        joinedload(Lot.kube), joinedload(Lot.chain), joinedload(Lot.process)))
    if lot is None:
        raise NotFoundError(N_("Lot not found."))
    return lot


def kube_lots(session: Session, kube_id: int, limit: int = 50) -> list[tuple[Lot, Decimal]]:
    """A KUBE's latest lots, each with what is left of it (three queries)."""
    lots = list(session.scalars(select(Lot).where(Lot.kube_id == kube_id)
                                .order_by(Lot.made_on.desc(), Lot.id.desc()).limit(limit)))
    used = _used(session, [lot.id for lot in lots])
    return [(lot, Decimal(lot.quantity) - used[lot.id]) for lot in lots]


# --- Traceability ----------------------------------------------------------------------------------------

@dataclass
class TraceNode:
    lot: Lot
    used: Decimal | None  # how much of it went into the parent (None at the root)
    children: list[TraceNode] = field(default_factory=list)


@dataclass(frozen=True)
class Trace:
    root: TraceNode
    kubes: list[Kube]  # every KUBE whose lots went into it, the root's own first
    made_into: list[tuple[Lot, Decimal]]  # lots made from it (and how much of it each took)
    deliveries: list[ContractDelivery]  # deliveries of it, or of lots made from it, to order takers
    # The viewer takes part (an operator, a member or facilitator of a KUBE in the trace, an order taker it was
    # delivered to): they also see notes, contract codes and KUBEs that are not public.
    party: bool = False


def _load_lots(session: Session, ids: Iterable[int]) -> dict[int, Lot]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {lot.id: lot for lot in session.scalars(select(Lot).where(Lot.id.in_(wanted))
                                                   .options(joinedload(Lot.kube), selectinload(Lot.sources)))}


MAX_TRACE_DEPTH = 12
MAX_TRACE_LOTS = 500


def trace(session: Session, code: str, actor: User | None = None) -> Trace:
    """Back from a lot to every lot and KUBE it was made from; forward to the lots made from it and the
    deliveries to order takers. One query per level of the chain (the depth is the number of processes)."""
    root_lot = lot_by_code(session, code)
    root = TraceNode(root_lot, None)
    frontier = [root]
    kubes: dict[int, Kube] = {root_lot.kube_id: root_lot.kube}
    depth = 0
    lots = _load_lots(session, [root_lot.id])
    expanded = {root_lot.id}  # a lot used along two paths is shown once, its sources under the first
    while frontier and depth < MAX_TRACE_DEPTH and len(expanded) < MAX_TRACE_LOTS:
        depth += 1
        sources = _load_lots(session, {s.source_lot_id for node in frontier for s in lots[node.lot.id].sources}
                             - set(lots))
        lots.update(sources)
        next_frontier = []
        for node in frontier:
            for link in lots[node.lot.id].sources:
                child = TraceNode(lots[link.source_lot_id], Decimal(link.quantity))
                node.children.append(child)
                kubes.setdefault(child.lot.kube_id, child.lot.kube)
                if child.lot.id not in expanded and len(expanded) < MAX_TRACE_LOTS:
                    expanded.add(child.lot.id)
                    next_frontier.append(child)
        frontier = next_frontier
    # Forward: the lots made from this one, level by level, then their deliveries.
    made_into: list[tuple[Lot, Decimal]] = []
    reached = {root_lot.id}
    level = [root_lot.id]
    while level and len(reached) < MAX_TRACE_LOTS:
        rows = session.execute(select(LotSource.lot_id, LotSource.quantity, LotSource.source_lot_id)
                               .where(LotSource.source_lot_id.in_(level))).all()
        level = [lot_id for lot_id, _, _ in rows if lot_id not in reached]
        reached.update(level)
        found = _load_lots(session, level)
        made_into += [(found[lot_id], Decimal(quantity)) for lot_id, quantity, source in rows
                      if source == root_lot.id and lot_id in found]
    deliveries = list(session.scalars(
        select(ContractDelivery).where(ContractDelivery.lot_id.in_(reached)).order_by(ContractDelivery.id)
        .options(joinedload(ContractDelivery.contract).joinedload(SupplyContract.order_taker)
                 .joinedload(User.order_taker_profile), joinedload(ContractDelivery.lot))))
    every_kube = set(kubes) | {lot.kube_id for lot, _ in made_into}
    party = _active(actor) and actor is not None and (
        actor.is_operator or any(d.contract.order_taker_id == actor.id for d in deliveries)
        or session.scalar(select(KubeMember.id).where(KubeMember.user_id == actor.id,
                                                      KubeMember.kube_id.in_(every_kube)).limit(1)) is not None
        or (actor.is_facilitator and session.scalar(
            select(FacilitatorAssignment.id).where(FacilitatorAssignment.facilitator_id == actor.id,
                                                   FacilitatorAssignment.kube_id.in_(every_kube)).limit(1))
            is not None))
    return Trace(root, list(kubes.values()), made_into, deliveries, bool(party))


# --- Deliveries ------------------------------------------------------------------------------------------

def record_delivery(session: Session, actor: User | None, contract_id: int, *, lot_code: object,
                    quantity: object, due_on: object, delivered_on: object | None = None,
                    today: date | None = None) -> ContractDelivery:
    """A supplying KUBE sends (part of) one scheduled delivery from one of its lots."""
    today = today or date.today()
    session.scalar(select(SupplyContract.id).where(SupplyContract.id == contract_id).with_for_update())
    contract = get_contract(session, contract_id)
    lot = _lock_lot(session, lot_code, "lot_code")
    kube = session.get(Kube, lot.kube_id)
    assert kube is not None
    user = _require_member(session, actor, kube)
    if lot.kube_id not in supplier_kube_ids(session, contract):
        raise PermissionDenied(N_("This KUBE does not supply this contract."))
    if contract.status != ContractStatus.ACTIVE:
        raise ConflictError(N_("This contract is not active."))
    if lot.item != contract.item or (contract.chain_id is not None and lot.chain_id != contract.chain_id):
        raise ValidationError(N_("Lot %(code)s is %(item)s, not what the contract asks for."), field="lot_code",
                              code=lot.code, item=lot.item_name)
    due = _date(due_on, field="due_on")
    sent_on = _date(delivered_on or today, field="delivered_on")
    if sent_on > today:
        raise ValidationError(N_("A delivery cannot be recorded ahead of time."), field="delivered_on")
    if sent_on < lot.made_on:
        raise ValidationError(N_("Lot %(code)s was made after this delivery."), field="lot_code", code=lot.code)
    dates = {d.day: d for d in schedule_of(contract)}
    if due not in dates:
        raise ValidationError(N_("Choose one of the contract's delivery dates."), field="due_on")
    amount = parse_quantity(quantity, field="quantity")
    if amount > dates[due].outstanding:
        raise ValidationError(N_("At most %(left)s %(unit)s is still due on that date."), field="quantity",
                              left=f"{dates[due].outstanding.normalize():f}", unit=contract.unit)
    left = lot_remaining(session, lot)
    if amount > left:
        raise ConflictError(N_("Only %(left)s %(unit)s of lot %(code)s is left."), field="quantity",
                            left=f"{left.normalize():f}", unit=lot.unit, code=lot.code)
    delivery = ContractDelivery(contract=contract, lot_id=lot.id, kube_id=lot.kube_id, due_on=due,
                                delivered_on=sent_on, quantity=amount,
                                amount=rupiah_of(amount, contract.price_per_unit), recorded_by_id=user.id)
    session.add(delivery)
    session.flush()
    _recheck(session, [lot])
    session.refresh(contract, ["deliveries"])
    if sum((d.quantity for d in contract.deliveries if d.due_on == due), Decimal(0)) > contract.quantity:
        raise ConflictError(N_("Another delivery for that date was recorded at the same moment. Reload the page."))
    webhooks.delivery_event(session, "contract.delivery_recorded", delivery)
    if all(d.outstanding == 0 for d in schedule_of(contract)):
        contract.status = ContractStatus.COMPLETED
        session.flush()
        webhooks.contract_event(session, "contract.completed", contract)
    _notify(session, [contract.order_taker_id], N_("%(kube)s sent %(quantity)s %(unit)s of %(item)s (contract "
                                                   "%(code)s)."),
            kube=kube.name, quantity=f"{amount.normalize():f}", unit=contract.unit, item=contract.item_name,
            code=contract.code, contract_id=contract.id)
    return delivery


def _delivery(session: Session, delivery_id: int) -> ContractDelivery:
    delivery = session.scalar(select(ContractDelivery).where(ContractDelivery.id == delivery_id)
                              .with_for_update())
    if delivery is None:
        raise NotFoundError(N_("Delivery not found."))
    return delivery


def confirm_received(session: Session, actor: User | None, delivery_id: int) -> ContractDelivery:
    delivery = _delivery(session, delivery_id)
    if not _active(actor) or actor is None or delivery.contract.order_taker_id != actor.id:
        raise PermissionDenied(N_("Only the contract's order taker confirms what arrived."))
    if delivery.status != DeliveryStatus.SENT:
        raise ConflictError(N_("This delivery was already confirmed."))
    delivery.status, delivery.received_at = DeliveryStatus.RECEIVED, utcnow()
    session.flush()
    webhooks.delivery_event(session, "contract.delivery_confirmed", delivery)
    _notify(session, [delivery.recorded_by_id], N_("The order taker confirmed your delivery on contract %(code)s."),
            code=delivery.contract.code, contract_id=delivery.contract_id)
    return delivery


@dataclass(frozen=True)
class Transfer:
    source: Lot  # the lot that went into the delivered goods
    consumer_kube_id: int  # the KUBE that used it
    amount: int  # whole Rupiah, at the chain's price


def chain_prices(session: Session, chain_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """(chain id, item) -> the chain's price per unit of that output."""
    ids = set(chain_ids)
    if not ids:
        return {}
    rows = session.execute(select(ChainProcess.chain_id, ProcessFlow.item, ProcessFlow.price)
                           .join(ProcessFlow, ProcessFlow.process_id == ChainProcess.id)
                           .where(ChainProcess.chain_id.in_(ids), ProcessFlow.direction == "out",
                                  ProcessFlow.price.is_not(None)))
    return {(chain_id, item): int(price or 0) for chain_id, item, price in rows}


def _batch_shares(session: Session, lots: Iterable[Lot]) -> dict[int, Fraction]:
    """For lots made as joint products in one batch, the share of the batch's sources each one carries:
    its value at the chain's prices over the batch's value (equal shares when an item has no price)."""
    batches = {lot.batch for lot in lots if lot.batch}
    if not batches:
        return {}
    siblings = list(session.scalars(select(Lot).where(Lot.batch.in_(batches))))
    prices = chain_prices(session, {lot.chain_id for lot in siblings if lot.chain_id})
    shares: dict[int, Fraction] = {}
    for batch in batches:
        group = [lot for lot in siblings if lot.batch == batch]
        values = [Fraction(lot.quantity) * prices.get((lot.chain_id or 0, lot.item), 0) for lot in group]
        if all(values):
            total = sum(values, Fraction(0))
            shares.update({lot.id: value / total for lot, value in zip(group, values, strict=True)})
        else:
            shares.update({lot.id: Fraction(1, len(group)) for lot in group})
    return shares


def transfers(session: Session, delivery: ContractDelivery) -> list[Transfer]:
    """What the delivering KUBE owes, along the delivered lot's sources, to the other KUBEs whose lots went
    into it: for the delivered share of each lot, the share of its sources it used, at the chain's price
    when the lot was used (kept on the link, so a price changed later does not change what was agreed).
    A KUBE's own lots cost nothing (it pays itself), but what they were made from is followed. A joint
    product carries only its value share of its batch's sources (the nuts are paid once for four streams)."""
    totals: dict[tuple[int, int], Fraction] = defaultdict(Fraction)  # (source lot, consumer) -> Rupiah
    lots = _load_lots(session, [delivery.lot_id])
    # Each level's lots with the share of each that went into the delivery (merged: a lot reached along two
    # paths is walked once with both shares, so the walk stays as small as the lots involved).
    frontier = {delivery.lot_id: Fraction(delivery.quantity) / Fraction(lots[delivery.lot_id].quantity)}
    depth = 0
    while frontier and depth < MAX_TRACE_DEPTH:
        depth += 1
        lots.update(_load_lots(session, {link.source_lot_id for lot_id in frontier for link in lots[lot_id].sources}
                               - set(lots)))
        carried = _batch_shares(session, [lots[lot_id] for lot_id in frontier])
        next_frontier: dict[int, Fraction] = defaultdict(Fraction)
        for lot_id, share in frontier.items():
            lot = lots[lot_id]
            for link in lot.sources:
                source = lots[link.source_lot_id]
                used = share * Fraction(link.quantity) * carried.get(lot.id, Fraction(1))  # in the source's unit
                if source.kube_id != lot.kube_id and link.price:
                    totals[(source.id, lot.kube_id)] += used * link.price
                next_frontier[source.id] += used / Fraction(source.quantity)
        frontier = next_frontier
    return [Transfer(lots[source_id], consumer, rupiah_of(value, 1))
            for (source_id, consumer), value in totals.items() if rupiah_of(value, 1)]


def record_delivery_payment(session: Session, actor: User | None, delivery_id: int, reference: object,
                            now: datetime | None = None) -> ContractDelivery:
    """An operator saw the order taker's bank transfer for a delivery: the ledger is credited (once)."""
    if not _active(actor) or actor is None or not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    delivery = _delivery(session, delivery_id)
    if delivery.status == DeliveryStatus.PAID:
        raise ConflictError(N_("This delivery is already paid."))
    now = now or utcnow()
    delivery.payment_reference = clean_text(reference, field="reference", max_length=80)
    delivery.received_at = delivery.received_at or now
    delivery.status, delivery.paid_at = DeliveryStatus.PAID, now
    fee = ledger.platform_fee(delivery.amount, delivery.contract.fee_bps)
    post: dict[tuple[int, EntryKind, int], int] = defaultdict(int)  # (KUBE, kind, lot) -> amount, one line each
    post[(delivery.kube_id, EntryKind.CONTRACT, delivery.lot_id)] += delivery.amount
    post[(delivery.kube_id, EntryKind.FEE, delivery.lot_id)] -= fee
    for transfer in transfers(session, delivery):
        # A lot two KUBEs used is sold once, in one line, and bought by each of them.
        post[(transfer.source.kube_id, EntryKind.CHAIN_SALE, transfer.source.id)] += transfer.amount
        post[(transfer.consumer_kube_id, EntryKind.CHAIN_INPUT, transfer.source.id)] -= transfer.amount
    for (kube_id, kind, lot_id), amount in post.items():
        if amount:
            session.add(LedgerEntry(kube_id=kube_id, kind=kind, amount=amount, delivery_id=delivery.id,
                                    lot_id=lot_id, created_at=now,
                                    note=f"{delivery.contract.code} {delivery.lot.code}"))
    session.flush()
    _notify(session, _kube_member_ids(session, {kube_id for kube_id, _, _ in post}),
            N_("A delivery on contract %(code)s (%(total)s) was paid; your KUBE's share is in its ledger."),
            code=delivery.contract.code,
            total=delivery.amount, contract_id=delivery.contract_id)
    webhooks.delivery_event(session, "contract.delivery_paid", delivery)
    return delivery


def deliveries_to_pay(session: Session, actor: User | None) -> list[ContractDelivery]:
    """Deliveries not paid yet, oldest first (for operators). The order taker's money may come before they
    click "received", so a delivery only sent can be paid too (being paid, it was received)."""
    if not _active(actor) or actor is None or not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    return list(session.scalars(
        select(ContractDelivery).where(ContractDelivery.status != DeliveryStatus.PAID)
        .order_by(ContractDelivery.delivered_on, ContractDelivery.id)
        .options(joinedload(ContractDelivery.contract).joinedload(SupplyContract.order_taker)
                 .joinedload(User.order_taker_profile),
                 joinedload(ContractDelivery.kube), joinedload(ContractDelivery.lot))))


# --- Dashboards ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContractView:
    contract: SupplyContract
    schedule: list[DueDate]
    due: list[DueDate]  # outstanding, due within a week
    late: list[DueDate]  # outstanding, past their date

    @property
    def delivered(self) -> Decimal:
        return sum((d.quantity for d in self.contract.deliveries), Decimal(0))

    @property
    def paid(self) -> int:
        return sum(d.amount for d in self.contract.deliveries if d.status == DeliveryStatus.PAID)


def contract_view(contract: SupplyContract, today: date) -> ContractView:
    schedule = schedule_of(contract)
    active = contract.status == ContractStatus.ACTIVE
    return ContractView(contract, schedule,
                        [d for d in schedule if active and d.outstanding and today <= d.day <= today + timedelta(7)],
                        [d for d in schedule if active and d.late(today)])


def _contracts(session: Session, *where: object) -> list[SupplyContract]:
    return list(session.scalars(
        select(SupplyContract).where(*where).order_by(SupplyContract.status, SupplyContract.starts_on)  # type: ignore[arg-type]
        .options(joinedload(SupplyContract.kube), joinedload(SupplyContract.chain),
                 joinedload(SupplyContract.order_taker).joinedload(User.order_taker_profile),
                 selectinload(SupplyContract.deliveries).joinedload(ContractDelivery.lot))))


@dataclass(frozen=True)
class TakerDashboard:
    requests: list[SourcingRequest]  # open, with their quotes
    quotes: list[Quote]  # offered, waiting for a decision
    contracts: list[ContractView]
    to_confirm: list[ContractDelivery]  # sent, not yet confirmed as received

    @property
    def due(self) -> list[tuple[ContractView, DueDate]]:
        return [(c, d) for c in self.contracts for d in c.due]

    @property
    def late(self) -> list[tuple[ContractView, DueDate]]:
        return [(c, d) for c in self.contracts for d in c.late]


def taker_dashboard(session: Session, actor: User | None, today: date | None = None) -> TakerDashboard:
    taker = _require_order_taker(actor)
    today = today or date.today()
    requests = list(session.scalars(
        select(SourcingRequest).where(SourcingRequest.order_taker_id == taker.id,
                                      SourcingRequest.status == RequestStatus.OPEN)
        .order_by(SourcingRequest.starts_on)
        .options(selectinload(SourcingRequest.quotes).joinedload(Quote.kube),
                 selectinload(SourcingRequest.quotes).joinedload(Quote.chain))))
    quotes = [q for r in requests for q in r.quotes if q.status == QuoteStatus.OFFERED]
    contracts = [contract_view(c, today) for c in _contracts(session, SupplyContract.order_taker_id == taker.id)]
    to_confirm = [d for c in contracts for d in c.contract.deliveries if d.status == DeliveryStatus.SENT]
    return TakerDashboard(requests, quotes, contracts, to_confirm)


@dataclass(frozen=True)
class KubeSourcing:
    kube: Kube
    can_quote: bool
    can_record: bool  # its members record lots and deliveries (its facilitator reads)
    requests: list[SourcingRequest]  # open requests, this KUBE's province first
    quotes: list[Quote]  # this KUBE's quotes
    contracts: list[ContractView]  # its own and its chains' contracts it can deliver on
    lots: list[tuple[Lot, Decimal]]


def kube_sourcing(session: Session, actor: User | None, kube_id: int, today: date | None = None) -> KubeSourcing:
    kube = session.get(Kube, kube_id)
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    actions = allowed_actions(session, actor, kube)
    if Action.VIEW_PRIVATE not in actions:  # its members and facilitator; outsiders learn nothing
        raise NotFoundError(N_("KUBE not found.")) if not kube.is_public else PermissionDenied(
            N_("Only the KUBE's members and its facilitator see its sourcing."))
    today = today or date.today()
    # The items this KUBE makes in each of its chains: it supplies the chain contracts for those.
    makes: set[tuple[int, str]] = {(chain_id, item) for chain_id, item in session.execute(
        select(ChainProcess.chain_id, ProcessFlow.item)
                                .join(ProcessKube, ProcessKube.process_id == ChainProcess.id)
                                .join(ProcessFlow, ProcessFlow.process_id == ChainProcess.id)
                                .where(ProcessKube.kube_id == kube.id, ProcessFlow.direction == "out"))}
    chain_ids = {chain_id for chain_id, _ in makes}
    contracts = _contracts(session, (SupplyContract.kube_id == kube.id)
                           | SupplyContract.chain_id.in_(chain_ids))
    supplies = {c.id for c in contracts if c.kube_id == kube.id or (c.chain_id, c.item) in makes}
    quotes = list(session.scalars(select(Quote).where(Quote.kube_id == kube.id).order_by(Quote.id.desc())
                                  .limit(50).options(joinedload(Quote.request))))
    return KubeSourcing(kube, can_quote_for_kube(session, actor, kube), Action.HANDLE_ORDERS in actions,
                        list(open_requests(session, kube.province_code)), quotes,
                        [contract_view(c, today) for c in contracts if c.id in supplies],
                        kube_lots(session, kube.id))


# --- Chains: demand from contracts, and revenue ----------------------------------------------------------

def _makers(chain: SupplyChain) -> dict[str, set[int]]:
    """item -> the chain's KUBEs whose process makes it."""
    makers: dict[str, set[int]] = defaultdict(set)
    for process in chain.processes:
        for flow in process.flows:
            if flow.direction == "out":
                makers[flow.item] |= {pk.kube_id for pk in process.kubes}
    return makers


def contract_demands(session: Session, chain_list: Sequence[SupplyChain], period: str = "week",
                     today: date | None = None) -> dict[int, dict[str, Fraction]]:
    """What each chain's open contracts ask for in one period from today (one query for all the chains):
    weekly contracts their quantity a week, monthly ones 12/52 of theirs a week (once their schedule has
    started by the period's end); a one-off delivery counts in full when it falls in the period and is still
    outstanding. A chain's own contracts count, and those of its KUBEs for an item they make in the chain."""
    today = today or date.today()
    weeks = chains.PERIODS[period]
    makers = {chain.id: _makers(chain) for chain in chain_list}
    kube_ids = {k for items in makers.values() for kubes in items.values() for k in kubes}
    contracts = _contracts(session, SupplyContract.status == ContractStatus.ACTIVE, SupplyContract.until >= today,
                           SupplyContract.chain_id.in_(list(makers)) | SupplyContract.kube_id.in_(kube_ids)) \
        if makers else []
    end = today + timedelta(days=int(-(-weeks * 7 // 1)))
    result: dict[int, dict[str, Fraction]] = {}
    for chain in chain_list:
        made = makers[chain.id]
        demand: dict[str, Fraction] = defaultdict(Fraction)
        for contract in contracts:
            if contract.item not in made or (contract.chain_id is not None and contract.chain_id != chain.id) or (
                    contract.kube_id is not None and contract.kube_id not in made[contract.item]):
                continue
            quantity = Fraction(contract.quantity)
            if contract.schedule != Schedule.ONCE and contract.starts_on >= end:
                continue  # a schedule that has not started by the end of the period asks for nothing in it
            if contract.schedule == Schedule.WEEKLY:
                demand[contract.item] += quantity * weeks
            elif contract.schedule == Schedule.MONTHLY:
                demand[contract.item] += quantity * Fraction(12, 52) * weeks
            else:
                for due in schedule_of(contract):
                    if today <= due.day < end:
                        demand[contract.item] += Fraction(due.outstanding)
        result[chain.id] = dict(demand)
    return result


def contract_demand(session: Session, chain: SupplyChain, period: str = "week", today: date | None = None
                    ) -> dict[str, Fraction]:
    """One chain's contract_demands."""
    return contract_demands(session, [chain], period, today)[chain.id]


def contract_plans(session: Session, chain_list: Sequence[SupplyChain], period: str = "week",
                   today: date | None = None) -> dict[int, chains.ChainPlan]:
    """Each chain's plan for the demand of its open contracts (chains they ask nothing of are left out)."""
    plans = {}
    demands = contract_demands(session, chain_list, period, today)
    for chain in chain_list:
        wanted = {item: amount for item, amount in demands[chain.id].items() if amount}
        if wanted:
            plans[chain.id] = chains.ChainPlan(chain, period, planner.plan(chains.to_processes(chain, period), wanted))
    return plans


def contract_plan(session: Session, chain: SupplyChain, period: str = "week", today: date | None = None
                  ) -> chains.ChainPlan | None:
    """The chain's plan for the demand of its open contracts (None when they ask for nothing)."""
    return contract_plans(session, [chain], period, today).get(chain.id)


@dataclass(frozen=True)
class KubeRevenue:
    kube: Kube
    contract_sales: int  # paid deliveries to order takers
    chain_sales: int  # its lots other KUBEs of the chain used
    chain_inputs: int  # (negative) other KUBEs' lots it used
    fees: int  # (negative) the platform's fee

    @property
    def net(self) -> int:
        return self.contract_sales + self.chain_sales + self.chain_inputs + self.fees


def chain_revenue(session: Session, chain: SupplyChain) -> list[KubeRevenue]:
    """Each KUBE's share of what the chain's paid deliveries brought in (from the ledger; one query)."""
    rows = session.execute(
        select(LedgerEntry.kube_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .join(ContractDelivery, ContractDelivery.id == LedgerEntry.delivery_id)
        .join(Lot, Lot.id == ContractDelivery.lot_id)
        .where(Lot.chain_id == chain.id)
        .group_by(LedgerEntry.kube_id, LedgerEntry.kind)).all()
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for kube_id, kind, amount in rows:
        sums[kube_id][EntryKind(kind).value] += int(amount)
    kubes = {pk.kube_id: pk.kube for p in chain.processes for pk in p.kubes}
    missing = set(sums) - set(kubes)
    if missing:
        kubes.update({k.id: k for k in session.scalars(select(Kube).where(Kube.id.in_(missing)))})
    result = [KubeRevenue(kube, sums[kube_id]["contract"], sums[kube_id]["chain_sale"],
                          sums[kube_id]["chain_input"], sums[kube_id]["fee"]) for kube_id, kube in kubes.items()]
    return sorted(result, key=lambda r: (-r.net, r.kube.name))


def revenue_report(session: Session, actor: User | None, slug: str) -> tuple[SupplyChain, list[KubeRevenue]]:
    """A chain's revenue by KUBE, for its managers, operators, and the members and facilitators of its
    KUBEs (money is the groups' business, not the public's)."""
    chain = chains.chain_by_slug(session, slug)
    if not is_chain_participant(session, actor, chain):
        raise PermissionDenied(N_("Only the chain's KUBEs, their facilitators and operators see its revenue."))
    return chain, chain_revenue(session, chain)


def is_chain_participant(session: Session, actor: User | None, chain: SupplyChain) -> bool:
    """Its managers, operators, and the members and facilitators of its KUBEs (two queries at most)."""
    if chains.can_manage_chain(session, actor, chain):
        return True
    kube_ids = _chain_kube_ids(chain)
    if not _active(actor) or actor is None or not kube_ids:
        return False
    return session.scalar(select(KubeMember.id).where(KubeMember.user_id == actor.id,
                                                      KubeMember.kube_id.in_(kube_ids)).limit(1)) is not None


def demand_of_contracts(session: Session, actor: User | None, chain: SupplyChain, period: str = "week"
                        ) -> dict[str, Fraction]:
    """contract_demand for the chain's participants only: the contracts are their business (a KUBE's
    own contract with one order taker shows in it)."""
    if not is_chain_participant(session, actor, chain):
        raise PermissionDenied(N_("Only the chain's KUBEs, their facilitators and operators see the demand of "
                                  "its contracts."))
    return contract_demand(session, chain, period)
