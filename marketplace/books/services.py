"""A KUBE's cash book (no flask here): monthly income, expenses and profit, and each member's share.

Two sources make the book, and neither is copied into the other:
- the ledger (marketplace.ledger): what the platform credited or debited the KUBE. Income is marketplace
  sales, the courier fees the buyers paid, paid contract deliveries and chain sales (net of refunds);
  expenses are the platform's fee and the chain inputs bought from other KUBEs. Cash-on-delivery settlements
  and payouts only move money between the platform and the KUBE, so they are neither;
- hand-written entries (`CashEntry`): everything else the officers record, with a category and a receipt.

Ledger lines fall in the month of their time in local time (Asia/Jakarta by default); hand entries in the
month of their date. Every figure is whole Rupiah.

Who may do what:
- every member (anggota too), the KUBE's facilitators and operators read the cash book and the monthly totals;
- officers (ketua, sekretaris, bendahara) write entries, record contributions and choose how profit is shared;
- officers, facilitators and operators see every member's share; an anggota sees only their own.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from marketplace.auth.models import User
from marketplace.books.models import (
    EXPENSE_CATEGORIES,
    INCOME_CATEGORIES,
    BookSettings,
    CashEntry,
    Category,
    Contribution,
    Direction,
    ShareBasis,
)
from marketplace.catalog.models import Kube, KubeMember
from marketplace.catalog.permissions import Insider, require_insider
from marketplace.common import N_, NotFoundError, PermissionDenied, ValidationError, clean_text, utcnow
from marketplace.ledger.models import EntryKind, LedgerEntry

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
# The easternmost zone of Indonesia (WIT): a date is "in the future" only once it is so everywhere, so a KUBE in
# Papua can write today's entry in its early morning.
LATEST_TZ = ZoneInfo("Asia/Jayapura")
EARLIEST_DAY = date(2000, 1, 1)

# Ledger kinds that are income (refunds are negative income) and expenses (stored negative, shown positive).
INCOME_KINDS = (EntryKind.SALE, EntryKind.DELIVERY, EntryKind.REFUND, EntryKind.CONTRACT, EntryKind.CHAIN_SALE)
EXPENSE_KINDS = (EntryKind.FEE, EntryKind.CHAIN_INPUT)
BOOK_KINDS = INCOME_KINDS + EXPENSE_KINDS
MAX_AMOUNT = 10**12
MAX_MONTHS = 60  # the longest range one request reads (five years)


# --- Months ------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    """The last day of the month."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def months_between(first: date, last: date) -> list[date]:
    """Every month from `first`'s to `last`'s, both included (empty when last is before first)."""
    months, month = [], month_start(first)
    while month <= month_start(last):
        months.append(month)
        month = add_months(month, 1)
    return months


def parse_month(value: str | None, *, field: str) -> date | None:
    """'2026-11' (or an empty value: None) as the first day of that month; anything else is refused."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValidationError(N_("Give a month as YYYY-MM, e.g. 2026-11."), field=field) from None
    if not 2000 <= parsed.year <= 2100:
        raise ValidationError(N_("Give a month as YYYY-MM, e.g. 2026-11."), field=field)
    return parsed


def this_month(now: datetime | None = None, tz: ZoneInfo = LOCAL_TZ) -> date:
    return month_start((now or utcnow()).astimezone(tz).date())


def month_range(first: date | None, last: date | None, *, default_months: int = 12,
                now: datetime | None = None, tz: ZoneInfo = LOCAL_TZ) -> tuple[date, date]:
    """A checked range of months: by default the last `default_months` up to this month."""
    last = month_start(last) if last else this_month(now, tz)
    first = month_start(first) if first else add_months(last, -(default_months - 1))
    if first > last:
        raise ValidationError(N_("The first month comes after the last."), field="from")
    if len(months_between(first, last)) > MAX_MONTHS:
        raise ValidationError(N_("Ask for at most %(count)d months at a time."), field="from", count=MAX_MONTHS)
    return first, last


def _utc_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants from the local start of `first`'s month to the local start of the month after `last`."""
    start = datetime.combine(month_start(first), time(), tz).astimezone(UTC)
    end = datetime.combine(add_months(month_start(last), 1), time(), tz).astimezone(UTC)
    return start, end


def _month_of_time(session: Session, column: ColumnElement[datetime] | InstrumentedAttribute[datetime],
                   tz: ZoneInfo) -> ColumnElement[str]:
    """'YYYY-MM' of a UTC timestamp in local time, in the database (SQLite or PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(str(tz.key), column), "YYYY-MM")
    # SQLite stores UTC without a zone; the zones of Indonesia keep no daylight saving, so a fixed offset holds.
    offset = datetime.now(tz).utcoffset() or timedelta()
    return func.strftime("%Y-%m", column, f"{int(offset.total_seconds() // 60):+d} minutes")


def _month_of_day(session: Session, column: ColumnElement[date] | InstrumentedAttribute[date]) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _key(month: date) -> str:
    return month.strftime("%Y-%m")


# --- Monthly figures (one query per source for any number of KUBEs) --------------------------------


@dataclass(frozen=True)
class MonthFigures:
    """One KUBE's month. `sales` is the part of income that came through the platform (orders, contracts,
    chains); `grants` the aid or grants written in as income (money in, but not earned: graduation readiness
    leaves it out); `entries` counts the hand-written entries (a sign that the book is kept)."""

    month: date
    income: int = 0
    expenses: int = 0
    sales: int = 0
    entries: int = 0
    grants: int = 0

    @property
    def profit(self) -> int:
        return self.income - self.expenses

    @property
    def earned(self) -> int:
        """Income from the business itself: everything but aid and grants."""
        return self.income - self.grants

    @property
    def earned_profit(self) -> int:
        return self.earned - self.expenses


def monthly_figures(session: Session, kube_ids: Sequence[int], first: date, last: date,
                    tz: ZoneInfo = LOCAL_TZ) -> dict[int, list[MonthFigures]]:
    """Each KUBE's figures for every month from `first` to `last` (months without any activity included, as
    zeros). Two grouped queries whatever the number of KUBEs or months. No permission check: callers check."""
    months = months_between(first, last)
    ids = list(dict.fromkeys(kube_ids))
    totals: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if ids and months:
        start, end = _utc_bounds(first, last, tz)
        ledger_month = _month_of_time(session, LedgerEntry.created_at, tz)
        for kube_id, month, kind, amount in session.execute(
            select(LedgerEntry.kube_id, ledger_month, LedgerEntry.kind, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.kube_id.in_(ids), LedgerEntry.kind.in_(BOOK_KINDS),
                   LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
            .group_by(LedgerEntry.kube_id, ledger_month, LedgerEntry.kind)
        ):
            bucket = totals[(kube_id, month)]
            if EntryKind(kind) in INCOME_KINDS:
                bucket["income"] += int(amount)
                bucket["sales"] += int(amount)
            else:
                bucket["expenses"] -= int(amount)
        cash_month = _month_of_day(session, CashEntry.occurred_on)
        grant = func.sum(case((CashEntry.category == Category.GRANT, CashEntry.amount), else_=0))
        for kube_id, month, direction, amount, count, grants in session.execute(
            select(CashEntry.kube_id, cash_month, CashEntry.direction, func.sum(CashEntry.amount), func.count(),
                   grant)
            .where(CashEntry.kube_id.in_(ids), CashEntry.occurred_on >= months[0],
                   CashEntry.occurred_on <= month_end(months[-1]))
            .group_by(CashEntry.kube_id, cash_month, CashEntry.direction)
        ):
            bucket = totals[(kube_id, month)]
            bucket["income" if Direction(direction) == Direction.INCOME else "expenses"] += int(amount)
            bucket["entries"] += int(count)
            bucket["grants"] += int(grants or 0)
    return {
        kube_id: [MonthFigures(month, **totals.get((kube_id, _key(month)), {})) for month in months]
        for kube_id in ids
    }


# --- Permissions -------------------------------------------------------------------------------------


def _kube(session: Session, kube_id: int) -> Kube:
    kube = session.get(Kube, kube_id)
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    return kube


@dataclass(frozen=True)
class Access(Insider):
    """What the actor is to this KUBE's book."""

    @property
    def sees_all_shares(self) -> bool:
        return self.is_officer or self.facilitator or self.operator

    @property
    def writes(self) -> bool:
        return self.is_officer


def access(session: Session, actor: User, kube: Kube) -> Access:
    """The actor's place in the KUBE's book; outsiders are refused (404 for a KUBE that is not public)."""
    found = require_insider(session, actor, kube,
                            N_("Only the KUBE's members, its facilitator and operators see its cash book."))
    return Access(found.member, found.facilitator, found.operator)


def require_officer(session: Session, actor: User, kube: Kube) -> Access:
    found = access(session, actor, kube)
    if not found.writes:
        raise PermissionDenied(N_("Only the KUBE's ketua, sekretaris and bendahara keep its cash book."))
    return found


def require_finance_reader(session: Session, actor: User, kube_id: int) -> Kube:
    """The finance figures (API): the KUBE's officers, its facilitators and operators, not every anggota."""
    kube = _kube(session, kube_id)
    found = access(session, actor, kube)
    if not (found.is_officer or found.facilitator or found.operator):
        raise PermissionDenied(N_("Only the KUBE's officers, its facilitator and operators read its finances."))
    return kube


def finance(session: Session, actor: User, kube_id: int, first: date | None, last: date | None,
            tz: ZoneInfo = LOCAL_TZ) -> list[MonthFigures]:
    """The KUBE's monthly figures for the API (officers, facilitators, operators)."""
    require_finance_reader(session, actor, kube_id)
    first, last = month_range(first, last, tz=tz)
    return monthly_figures(session, [kube_id], first, last, tz)[kube_id]


# --- Writing the book --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryInput:
    direction: str
    category: str
    amount: object
    occurred_on: date | None
    note: str = ""


def _clean_amount(value: object) -> int:
    """Whole Rupiah typed as 150000, 150.000 or Rp150.000."""
    text = str(value if value is not None else "").strip().replace("Rp", "").replace("rp", "").strip()
    digits = text.replace(".", "").replace(" ", "")
    if not digits.isascii() or not digits.isdigit():
        raise ValidationError(N_("Enter the amount in whole Rupiah, e.g. 150000 or 150.000."), field="amount")
    amount = int(digits)
    if amount <= 0:
        raise ValidationError(N_("The amount must be more than zero."), field="amount")
    if amount > MAX_AMOUNT:
        raise ValidationError(N_("The amount is too large."), field="amount")
    return amount


def add_entry(session: Session, actor: User, kube_id: int, data: EntryInput, receipt_key: str | None = None,
              now: datetime | None = None, tz: ZoneInfo = LOCAL_TZ) -> CashEntry:
    """An officer writes income or an expense into the book (a receipt photo already stored, if any)."""
    kube = _kube(session, kube_id)
    require_officer(session, actor, kube)
    try:
        direction = Direction(data.direction)
    except ValueError:
        raise ValidationError(N_("Choose income or expense."), field="direction") from None
    try:
        category = Category(data.category)
    except ValueError:
        raise ValidationError(N_("Choose a category."), field="category") from None
    allowed = INCOME_CATEGORIES if direction == Direction.INCOME else EXPENSE_CATEGORIES
    if category not in allowed:
        raise ValidationError(N_("This category does not fit the entry's side (income or expense)."),
                              field="category")
    amount = _clean_amount(data.amount)
    today = (now or utcnow()).astimezone(LATEST_TZ).date()
    if data.occurred_on is None:
        raise ValidationError(N_("Give the date."), field="occurred_on")
    if data.occurred_on > today:
        raise ValidationError(N_("The date cannot be in the future."), field="occurred_on")
    if data.occurred_on < EARLIEST_DAY:
        raise ValidationError(N_("The date is too far in the past."), field="occurred_on")
    note = clean_text(data.note, field="note", max_length=500, required=False)
    entry = CashEntry(kube_id=kube.id, direction=direction, category=category, amount=amount,
                      occurred_on=data.occurred_on, note=note, receipt_key=receipt_key, created_by_id=actor.id,
                      created_at=now or utcnow())
    session.add(entry)
    session.flush()
    return entry


def delete_entry(session: Session, actor: User, kube_id: int, entry_id: int) -> CashEntry:
    """An officer removes a wrong hand-written entry (the caller deletes its receipt once committed)."""
    kube = _kube(session, kube_id)
    require_officer(session, actor, kube)
    entry = session.get(CashEntry, entry_id)
    if entry is None or entry.kube_id != kube.id:
        raise NotFoundError(N_("Entry not found."))
    session.delete(entry)
    session.flush()
    return entry


def receipt_entry(session: Session, actor: User, key: str) -> CashEntry:
    """The entry a receipt photo belongs to, for someone who may read that KUBE's book (else 404)."""
    entry = session.scalar(select(CashEntry).where(CashEntry.receipt_key == key))
    if entry is None:
        raise NotFoundError(N_("Receipt not found."))
    try:
        access(session, actor, _kube(session, entry.kube_id))
    except PermissionDenied:
        raise NotFoundError(N_("Receipt not found.")) from None
    return entry


def settings_of(session: Session, kube_id: int) -> BookSettings:
    found = session.get(BookSettings, kube_id)
    return found if found is not None else BookSettings(kube_id=kube_id, share_basis=ShareBasis.EQUAL,
                                                         contribution_unit="hari")


def update_settings(session: Session, actor: User, kube_id: int, basis: str, unit: str) -> BookSettings:
    kube = _kube(session, kube_id)
    require_officer(session, actor, kube)
    try:
        share_basis = ShareBasis(basis)
    except ValueError:
        raise ValidationError(N_("Choose how the profit is shared."), field="share_basis") from None
    unit_text = clean_text(unit, field="contribution_unit", max_length=20, required=False) or "hari"
    found = session.get(BookSettings, kube.id)
    if found is None:
        found = BookSettings(kube_id=kube.id)
        session.add(found)
    found.share_basis = share_basis
    found.contribution_unit = unit_text
    session.flush()
    return found


def record_contributions(session: Session, actor: User, kube_id: int, month: date,
                         amounts: dict[int, object]) -> int:
    """An officer records each member's contribution to a month (user id -> whole units; empty clears it).
    Returns how many members have one recorded now."""
    kube = _kube(session, kube_id)
    require_officer(session, actor, kube)
    month = month_start(month)
    members = {m.user_id for m in session.scalars(select(KubeMember).where(KubeMember.kube_id == kube.id))}
    existing = {c.user_id: c for c in session.scalars(
        select(Contribution).where(Contribution.kube_id == kube.id, Contribution.month == month))}
    for user_id, raw in amounts.items():
        if user_id not in members:
            raise ValidationError(N_("Only the KUBE's members can be credited with a contribution."),
                                  field="contributions")
        text = str(raw if raw is not None else "").strip().replace(".", "")
        if not text:
            if user_id in existing:
                session.delete(existing.pop(user_id))
            continue
        if not text.isascii() or not text.isdigit() or int(text) > 10**9:
            raise ValidationError(N_("Each contribution is a whole number, e.g. 12 (days) or 250 (kg)."),
                                  field="contributions")
        if user_id in existing:
            existing[user_id].amount = int(text)
            existing[user_id].recorded_by_id = actor.id
        else:
            existing[user_id] = Contribution(kube_id=kube.id, user_id=user_id, month=month, amount=int(text),
                                             recorded_by_id=actor.id)
            session.add(existing[user_id])
    session.flush()
    return len(existing)


# --- Reading the book --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookLine:
    """One line of the cash book: from the ledger (`kind` set) or written by hand (`entry` set)."""

    day: date
    income: int
    expense: int
    kind: EntryKind | None = None
    order_id: int | None = None
    entry: CashEntry | None = None


@dataclass(frozen=True)
class MemberShare:
    user_id: int
    name: str
    role: str
    contribution: int | None
    amount: int


@dataclass
class MonthBook:
    kube: Kube
    month: date
    figures: MonthFigures
    lines: list[BookLine]
    by_category: list[tuple[str, Direction, int]]  # (category or ledger kind, side, total)
    basis: ShareBasis  # the basis used this month (contribution falls back to equal without any recorded)
    chosen_basis: ShareBasis
    unit: str
    shares: list[MemberShare]  # everyone's for officers, facilitators and operators; one's own for an anggota
    access: Access
    member_count: int = 0
    contributions: dict[int, int] = field(default_factory=dict)  # for officers' form


def split_profit(profit: int, weights: Sequence[int]) -> list[int]:
    """Whole-Rupiah shares of a positive profit in proportion to `weights` (largest remainders; the shares add
    up to the profit exactly). A loss or no profit shares nothing: every share is 0."""
    total = sum(weights)
    if profit <= 0 or total <= 0:
        return [0] * len(weights)
    shares = [profit * w // total for w in weights]
    rest = profit - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(profit * weights[i] % total), i))
    for i in order[:rest]:
        shares[i] += 1
    return shares


def month_book(session: Session, actor: User, kube_id: int, month: date, tz: ZoneInfo = LOCAL_TZ) -> MonthBook:
    """A month of the KUBE's cash book: every line, totals per category, and the members' shares of profit.
    A constant number of queries whatever the number of lines or members."""
    kube = _kube(session, kube_id)
    found = access(session, actor, kube)
    month = month_start(month)
    figures = monthly_figures(session, [kube.id], month, month, tz)[kube.id][0]
    start, end = _utc_bounds(month, month, tz)
    lines: list[BookLine] = []
    kinds: dict[EntryKind, int] = defaultdict(int)
    for entry in session.scalars(
        select(LedgerEntry).where(LedgerEntry.kube_id == kube.id, LedgerEntry.kind.in_(BOOK_KINDS),
                                  LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
    ):
        kind = EntryKind(entry.kind)
        kinds[kind] += entry.amount
        is_income = kind in INCOME_KINDS
        lines.append(BookLine(entry.created_at.astimezone(tz).date(), entry.amount if is_income else 0,
                              0 if is_income else -entry.amount, kind=kind, order_id=entry.order_id))
    categories: dict[Category, int] = defaultdict(int)
    for entry in session.scalars(
        select(CashEntry).where(CashEntry.kube_id == kube.id, CashEntry.occurred_on >= month,
                                CashEntry.occurred_on <= month_end(month))
    ):
        categories[Category(entry.category)] += entry.amount
        is_income = entry.direction == Direction.INCOME
        lines.append(BookLine(entry.occurred_on, entry.amount if is_income else 0,
                              0 if is_income else entry.amount, entry=entry))
    lines.sort(key=lambda line: (line.day, line.entry is not None, line.entry.id if line.entry else 0))
    by_category: list[tuple[str, Direction, int]] = [
        (kind.value, Direction.INCOME if kind in INCOME_KINDS else Direction.EXPENSE,
         amount if kind in INCOME_KINDS else -amount)
        for kind, amount in sorted(kinds.items(), key=lambda item: BOOK_KINDS.index(item[0])) if amount]
    by_category += [(c.value, Direction.INCOME if c in INCOME_CATEGORIES else Direction.EXPENSE, amount)
                    for c, amount in sorted(categories.items(), key=lambda item: list(Category).index(item[0]))]

    settings = settings_of(session, kube.id)
    members = list(session.execute(
        select(KubeMember, User.name).join(User, User.id == KubeMember.user_id)
        .where(KubeMember.kube_id == kube.id).order_by(KubeMember.id)))
    contributions = {user_id: amount for user_id, amount in session.execute(
        select(Contribution.user_id, Contribution.amount)
        .where(Contribution.kube_id == kube.id, Contribution.month == month))}
    basis = settings.share_basis
    if basis == ShareBasis.CONTRIBUTION and not any(contributions.values()):
        basis = ShareBasis.EQUAL
    weights = [contributions.get(m.user_id, 0) if basis == ShareBasis.CONTRIBUTION else 1 for m, _ in members]
    amounts = split_profit(figures.profit, weights)
    shares = [MemberShare(m.user_id, name, m.role.value,
                          contributions.get(m.user_id) if basis == ShareBasis.CONTRIBUTION else None, amount)
              for (m, name), amount in zip(members, amounts, strict=True)]
    if not found.sees_all_shares:
        shares = [s for s in shares if s.user_id == actor.id]
    return MonthBook(kube, month, figures, lines, by_category, basis, settings.share_basis,
                     settings.contribution_unit, shares, found, member_count=len(members),
                     contributions=contributions if found.writes else {})


def history(session: Session, actor: User, kube_id: int, months: int = 12, now: datetime | None = None,
            tz: ZoneInfo = LOCAL_TZ) -> list[MonthFigures]:
    """The last `months` months up to this one, for the KUBE's chart (anyone who reads its book)."""
    kube = _kube(session, kube_id)
    access(session, actor, kube)
    last = this_month(now, tz)
    return monthly_figures(session, [kube.id], add_months(last, -(months - 1)), last, tz)[kube.id]
