"""Posting to the KUBE ledger (no flask here). Orders post when they are paid, refunded, or paid in cash.

A paid order credits the KUBE with its goods total and the courier fee (the KUBE sends the parcel) and debits
the platform's fee, which was fixed on the order when it was placed. A refund reverses what the order credited.
Cash on delivery is already in the KUBE's hands, so its total is debited as "cash": what is left is the fee the
KUBE owes, settled from its next payout. Each (order, kind) is posted once (a UNIQUE constraint backs it).

The KUBE's members, its facilitator and operators read the ledger; operators record payouts (bank transfers
to the KUBE's account), which debit it, and see every KUBE's balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lokal.rupiah import format_rupiah
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from marketplace.audit import services as audit
from marketplace.auth.models import User
from marketplace.catalog.models import Kube
from marketplace.catalog.permissions import is_assigned_facilitator, member_role
from marketplace.common import (
    N_,
    ConflictError,
    NotFoundError,
    Page,
    PermissionDenied,
    ValidationError,
    clean_int,
    clean_text,
    utcnow,
)
from marketplace.ledger.models import EntryKind, LedgerEntry, Payout
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


# --- Reading the ledger, and payouts ----------------------------------------------------------------

MAX_PER_PAGE = 200
MAX_AMOUNT = 10**12


def _require_operator(actor: User) -> None:
    if not actor.is_authenticated or actor.is_disabled or not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))


def _require_reader(session: Session, actor: User, kube: Kube) -> None:
    """The KUBE's members (any role), its assigned facilitators and operators read its ledger. Outsiders to a
    KUBE that is not public do not learn that it exists (404), as on the KUBE's other pages."""
    if actor.is_authenticated and not actor.is_disabled and (
            actor.is_operator or member_role(session, actor, kube.id) is not None
            or is_assigned_facilitator(session, actor, kube.id)):
        return
    if not kube.is_public:
        raise NotFoundError(N_("KUBE not found."))
    raise PermissionDenied(N_("Only the KUBE's members, its facilitator and operators see its ledger."))


def _kube(session: Session, kube_id: int) -> Kube:
    kube = session.get(Kube, kube_id)
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    return kube


@dataclass(frozen=True)
class LedgerLine:
    """One entry, with its payout (bank reference and account) when it is one."""

    entry: LedgerEntry
    payout: Payout | None


@dataclass(frozen=True)
class KubeLedger:
    kube: Kube
    balance: int  # what the platform owes the KUBE (negative: what the KUBE owes the platform)
    totals: dict[EntryKind, int]  # the sum of each kind (every kind present, zero included)
    entries: Page[LedgerLine]  # newest first


def kube_ledger(session: Session, actor: User, kube_id: int, page: int = 1, per_page: int = 50) -> KubeLedger:
    """A KUBE's ledger: the balance, the totals per kind and one page of entries, newest first (three queries
    after the permission check, for any number of entries)."""
    kube = _kube(session, kube_id)
    _require_reader(session, actor, kube)
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    totals = dict.fromkeys(EntryKind, 0)
    count = 0
    for kind, number, amount in session.execute(
        select(LedgerEntry.kind, func.count(), func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.kube_id == kube_id).group_by(LedgerEntry.kind)
    ):
        totals[EntryKind(kind)] = int(amount)
        count += number
    rows = session.execute(
        select(LedgerEntry, Payout).outerjoin(Payout, Payout.id == LedgerEntry.payout_id)
        .where(LedgerEntry.kube_id == kube_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
        .options(joinedload(Payout.recorded_by))
    ).all()
    lines = [LedgerLine(entry, payout) for entry, payout in rows]
    return KubeLedger(kube, sum(totals.values()), totals, Page(lines, count, page, per_page))


@dataclass(frozen=True)
class BankAccount:
    bank_name: str
    account_number: str
    account_holder: str


def payout_account(session: Session, actor: User, kube_id: int) -> BankAccount | None:
    """For operators: the KUBE's bank account a payout is transferred to (None while it has none)."""
    _require_operator(actor)
    return _account_of(_kube(session, kube_id))


def _account_of(kube: Kube) -> BankAccount | None:
    if not (kube.bank_name and kube.bank_account_number and kube.bank_account_holder):
        return None
    return BankAccount(kube.bank_name, kube.bank_account_number, kube.bank_account_holder)


def _clean_amount(value: object) -> int:
    """A payout amount in whole Rupiah: "150000", "150.000" and "Rp150.000" all work; zero and less do not."""
    if isinstance(value, str):
        text = value.strip()
        if text[:2].lower() == "rp":
            text = text[2:].strip()
        value = text
    amount = clean_int(value, field="amount", minimum=-MAX_AMOUNT, maximum=MAX_AMOUNT)
    if amount <= 0:
        raise ValidationError(N_("Enter the amount transferred, more than Rp0."), field="amount")
    return amount


def record_payout(session: Session, actor: User, kube_id: int, amount: object, reference: object,
                  note: object = "", now: datetime | None = None) -> Payout:
    """An operator transferred `amount` to the KUBE's bank account: record it (with the account as it is now
    and the bank's reference) and debit the ledger. At most the balance; the caller rolls back on any error.

    Two payouts at once must not both pass the balance check: the KUBE's row is locked first (PostgreSQL),
    and the balance is checked again after the debit is written (SQLite, which takes its write lock there)."""
    now = now or utcnow()
    _require_operator(actor)
    cleaned = _clean_amount(amount)
    ref = clean_text(reference, field="reference", max_length=80)
    text = clean_text(note, field="note", max_length=1000, required=False)
    kube = session.scalar(select(Kube).where(Kube.id == kube_id).with_for_update()
                          .execution_options(populate_existing=True))
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    account = _account_of(kube)
    if account is None:
        raise ValidationError(N_("This KUBE has no bank account for payouts yet: its officers enter "
                                 "it on the KUBE's profile page."))
    available = balance(session, kube_id)
    if cleaned > available:
        if available <= 0:
            raise ValidationError(N_("Nothing to pay out: the balance is %(balance)s."), field="amount",
                                  balance=format_rupiah(available))
        raise ValidationError(N_("At most the balance, %(balance)s, can be paid out."), field="amount",
                              balance=format_rupiah(available))
    payout = Payout(kube_id=kube_id, amount=cleaned, bank_name=account.bank_name,
                    bank_account_number=account.account_number, bank_account_holder=account.account_holder,
                    reference=ref, note=text, recorded_by_id=actor.id, created_at=now)
    session.add(payout)
    session.flush()
    session.add(LedgerEntry(kube_id=kube_id, kind=EntryKind.PAYOUT, amount=-cleaned, payout_id=payout.id,
                            note=text, created_at=now))
    session.flush()
    if balance(session, kube_id) < 0:
        raise ConflictError(N_("Another payout to this KUBE was recorded at the same moment. Reload the page and "
                               "check the balance."))
    audit.record(session, actor, "payout.recorded", payout, amount=cleaned, reference=ref,
                 bank_name=account.bank_name, account_number=account.account_number)
    return payout


@dataclass(frozen=True)
class KubeBalance:
    kube_id: int
    name: str
    slug: str
    balance: int
    has_bank_account: bool
    last_payout_at: datetime | None


def balances(session: Session, actor: User) -> list[KubeBalance]:
    """For operators: every KUBE with entries in the ledger, largest balance first (one query)."""
    _require_operator(actor)
    totals = (select(LedgerEntry.kube_id, func.sum(LedgerEntry.amount).label("balance"))
              .group_by(LedgerEntry.kube_id).subquery())
    last = (select(Payout.kube_id, func.max(Payout.created_at).label("last_payout_at"))
            .group_by(Payout.kube_id).subquery())
    rows = session.execute(
        select(Kube.id, Kube.name, Kube.slug, Kube.bank_name, Kube.bank_account_number, Kube.bank_account_holder,
               totals.c.balance, last.c.last_payout_at)
        .join(totals, totals.c.kube_id == Kube.id)
        .outerjoin(last, last.c.kube_id == Kube.id)
        .order_by(totals.c.balance.desc(), Kube.name, Kube.id)
    ).all()
    return [KubeBalance(kube_id, name, slug, int(amount or 0), bool(bank and number and holder), last_at)
            for kube_id, name, slug, bank, number, holder, amount, last_at in rows]
