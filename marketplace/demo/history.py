"""Eighteen months of demo history, so that cash books, charts, dashboards, graduation readiness and demand
insights have something real to show. No flask here; the caller commits.

For every demo KUBE with published products: marketplace orders from the demo buyers, month by month, with
their lines, their history (OrderEvent), their ledger entries as the real flow posts them (marketplace.ledger:
SALE, DELIVERY and FEE when paid, CASH too for cash on delivery, REFUND when refunded) and refunds; the
officers' hand-written cash book (raw materials, transport, packaging, electricity, sales at the village
market, no receipts), members' days worked (Contribution), and buyers' searches (SearchLog) over the last
twelve months, some of them finding nothing. Everything is drawn from a seeded random.Random (the same `now`
gives the same history), and the rows go in with executemany INSERTs: about 6,500 orders in a few seconds on
SQLite. Most orders are completed (a week after delivery) and about 4 % refunded; orders cancelled before
payment are built too but switched off (CANCELLED_SHARE, see there). Loaded once: nothing is added when a demo
KUBE already has a completed order or anything in its cash book.

Orders have no code of their own in this schema: like the real ones they are shown as "#<id>".

History orders are all older than the demo orders the loader places through the services (the newest history
order is placed before the oldest of those, and at least 15 days before `now`, so every step of its life is in
the past). Each month's orders are placed early enough that all their ledger lines fall in that month.

Profiles, in local months counted back from `now`'s month (M-1 is the last complete month); the graduation
rules are: sales in 6 consecutive months, average monthly profit per member >= Rp500.000 over the last 6
complete months, the last 3 months' profit >= 90 % of the 3 before, cash book entries in 5 of those 6 months:
- KUBE Nyiur Melambai (8 members) is clearly ready: 18 months of steadily growing sales (about Rp9 juta a
  month at the start, Rp15 juta now), the book kept every month, days worked recorded, profit shared by
  contribution. KUBE Getas Bahari (8) is ready too, a little smaller, also sharing by contribution.
- KUBE Mutiara Kelapa (7) is close: good sales, but the book was written in only 3 of the last 6 months.
- KUBE Pisang Agung (8) is close: steady sales and a kept book, but profit per member stays just under
  Rp500.000 (about Rp470.000).
- KUBE Kopi Sekincau (9) is seasonal: its coffee harvest peaked about eight (and twenty) months ago and its
  lean season falls in the last three complete months wherever the demo is loaded, so the dip rule fails.
- KUBE Busa Nyiur (5) is a new group: about four months of history (from M-4), starting with its UEP aid.
- KUBE Tiwul Sumber Rejeki (5, suspended) stopped selling three months ago: nothing from M-3 on.
The other KUBEs sell at their own pace and keep their books in most months.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session, joinedload

from marketplace.auth.models import User
from marketplace.books.models import BookSettings, CashEntry, Contribution, Direction, ShareBasis
from marketplace.books.models import Category as BookCategory
from marketplace.books.services import LOCAL_TZ, add_months, month_end, monthly_figures, this_month
from marketplace.catalog.models import (
    PUBLIC_KUBE_STATUSES,
    FacilitatorAssignment,
    Kube,
    KubeMember,
    KubeStatus,
    MemberRole,
    Product,
    ProductStatus,
)
from marketplace.catalog.models import Category as ProductCategory
from marketplace.common import slugify
from marketplace.demo import data
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.ledger.services import platform_fee
from marketplace.orders import services as orders
from marketplace.orders.models import (
    Checkout,
    DeliveryMethod,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentMethod,
)
from marketplace.payments.models import Refund
from marketplace.search.analysis import analyse, query_terms
from marketplace.search.models import SearchLog

HISTORY_MONTHS = 18
SEARCH_MONTHS = 12  # the search log keeps 13 months (search.services.LOG_DAYS)
_SEED = 20240618
_LAST_DAY_MARGIN = 5  # orders are placed at least this many days before their month ends (ledger in the month)
_LIFETIME = timedelta(days=15)  # placed -> completed takes at most ~12.3 days
_MAX_ORDERS_A_MONTH = 80
_COURIER_MAX_GRAMS = 20_000  # heavier orders are picked up (a pickup truck, not a courier)
S = OrderStatus
# Of the orders placed, the share refunded (paid, then cancelled by the KUBE: the money goes back) and the share
# cancelled before payment. The latter is off: tests/demo/test_demo_load.py checks that every demo order was
# paid; set it to about 0.06 once that check skips cancelled orders.
REFUNDED_SHARE = 0.04
CANCELLED_SHARE = 0.06


@dataclass(frozen=True)
class Profile:
    """How one KUBE's months go. Months are counted back from `now`'s month (1 = the last complete one)."""

    sales: int  # goods sold a month at the start of its history, whole Rupiah
    growth: float = 0.0  # per month
    first: int = HISTORY_MONTHS  # the oldest month with activity
    last: int = 0  # the newest month with activity (0: still selling this month)
    season: float = 0.0  # amplitude of a yearly cycle whose lean months are months 1-3 (and 13-15)
    books: float = 0.7  # share of months with hand-written entries
    book_months: frozenset[int] | None = None  # among months 1-6, exactly these have entries
    cost: float = 0.42  # hand-written expenses as a share of income
    profit_per_member: int | None = None  # instead of `cost`: a month's profit per member
    noise: float = 0.1
    by_contribution: bool = False  # shares profit by days worked (BookSettings)
    raw: str = "Beli bahan baku"
    packaging: str = "Plastik, label dan kardus kemasan"
    equipment: str = "Beli peralatan produksi"
    grant: int = 0  # UEP aid received in its first month


PROFILES: dict[str, Profile] = {
    "kube-nyiur-melambai": Profile(9_000_000, growth=0.03, books=1.0, cost=0.36, noise=0.05, by_contribution=True,
                                   raw="Beli kelapa dari petani Batui", packaging="Karung dan tali rafia",
                                   equipment="Beli mesin pengupas sabut"),
    "kube-getas-bahari": Profile(7_500_000, growth=0.02, books=1.0, cost=0.38, noise=0.05, by_contribution=True,
                                 raw="Beli ikan tenggiri dan sagu di dermaga", packaging="Plastik vakum dan label",
                                 equipment="Beli penggorengan besar dan spinner"),
    "kube-mutiara-kelapa": Profile(8_000_000, growth=0.015, books=0.5, book_months=frozenset({2, 4, 6}),
                                   cost=0.40, raw="Beli daging kelapa dari KUBE Nyiur Melambai",
                                   packaging="Botol kaca dan segel", equipment="Beli alat press VCO"),
    "kube-pisang-agung": Profile(6_300_000, growth=0.01, books=1.0, profit_per_member=470_000, noise=0.06,
                                 raw="Beli pisang kepok dan minyak goreng", packaging="Standing pouch dan label"),
    "kube-kopi-sekincau": Profile(10_000_000, season=0.55, books=1.0, cost=0.38, noise=0.05,
                                  raw="Beli ceri kopi petik merah dari kebun anggota",
                                  packaging="Kemasan valve dan karung goni", equipment="Beli mesin sangrai kecil"),
    "kube-busa-nyiur": Profile(3_500_000, growth=0.08, first=4, books=1.0, cost=0.45,
                               raw="Beli minyak kelapa dan soda api", packaging="Kertas cokelat dan stiker",
                               equipment="Beli cetakan sabun dan panci stainless", grant=10_000_000),
    "kube-tiwul-sumber-rejeki": Profile(2_500_000, growth=-0.01, last=4, books=0.8, cost=0.45,
                                        raw="Beli singkong dan gula jawa"),
    "kube-sinar-tempurung": Profile(6_000_000, growth=0.01, books=0.6, cost=0.45,
                                    raw="Beli tempurung kelapa kering", packaging="Karung dan plastik briket",
                                    equipment="Beli drum pembakaran baru"),
    "kube-belacan-toboali": Profile(4_000_000, growth=0.02, books=0.7, raw="Beli udang rebon dan garam"),
    "kube-lada-putih-mentok": Profile(7_000_000, books=0.7, cost=0.40, raw="Beli lada dari kebun petani Mentok"),
    "kube-bambu-rahayu": Profile(3_500_000, growth=0.01, books=0.5, raw="Beli bambu tali dan bambu hitam"),
    "kube-jahit-mandiri-ujungberung": Profile(9_000_000, growth=0.01, books=0.7, cost=0.45,
                                              raw="Beli kain, benang dan kancing", equipment="Servis mesin jahit"),
    "kube-saluyu-pangalengan": Profile(2_200_000, growth=0.015, books=0.6, raw="Beli susu sapi dan gula"),
    "kube-batik-giri-sekar": Profile(6_000_000, growth=0.01, books=0.8, cost=0.40,
                                     raw="Beli kain mori, malam dan pewarna"),
    "kube-tenun-lio-wolotopo": Profile(5_000_000, books=0.5, cost=0.35, raw="Beli benang dan pewarna alam"),
    "kube-rumput-laut-galesong": Profile(6_000_000, growth=0.01, books=0.6, raw="Beli bibit rumput laut dan tali"),
}
DEFAULT_PROFILE = Profile(3_000_000)

CANCEL_REASONS = ("Salah pilih ukuran, mau pesan ulang", "Jadi beli di pasar dekat rumah",
                  "Transfer belum bisa minggu ini", "Pesanan dobel")
KUBE_CANCEL_REASONS = ("Stok sedang habis, mohon maaf", "Pembeli tidak bisa dihubungi untuk pengiriman")
REFUND_REASONS = ("Stok habis setelah dibayar, uang dikembalikan", "Kurir tidak menjangkau alamat pembeli",
                  "Pembeli minta batal sebelum dikemas")
COURIERS = ("JNE", "J&T", "SiCepat", "POS Indonesia")
MARKET = ("Jualan di pasar desa", "Jualan di hari pasar kecamatan", "Pesanan tetangga untuk hajatan")

# What buyers type (with weights); some find nothing on the platform: demand nobody lists yet.
QUERIES: tuple[tuple[str, int], ...] = (
    ("keripik pisang", 12), ("kripik pisang", 3), ("minyak kelapa", 10), ("vco", 7), ("minyak kelapa murni", 3),
    ("sabun kelapa", 8), ("sabun", 5), ("sabun mandi", 3), ("arang batok", 5), ("arang tempurung", 5),
    ("briket", 4), ("kopi robusta", 8), ("kopi", 6), ("kopi luwak", 3), ("lada putih", 6), ("terasi", 5),
    ("getas", 4), ("kerupuk ikan", 6), ("kemplang", 3), ("besek bambu", 4), ("tampah", 2), ("batik tulis", 5),
    ("tenun ikat", 4), ("tenun", 3), ("sarung tenun", 3), ("rumput laut", 5), ("dodol susu", 3),
    ("kelapa muda", 4), ("kopra", 3), ("sabut kelapa", 3), ("cocopeat", 2), ("tempe", 5), ("keripik tempe", 2),
    ("madu hutan", 6), ("madu", 4), ("gula aren", 5), ("gula semut", 2), ("abon ikan", 2), ("songket", 2),
    ("anyaman rotan", 2), ("beras organik", 3), ("oleh-oleh bangka", 3), ("keripik singkong", 3), ("tiwul", 2),
    ("seragam sekolah", 2), ("mukena", 2), ("jamu", 2), ("ikan asin", 3), ("kacang tanah", 2), ("garam", 2),
)
SEARCH_PROVINCES = ("72", "19", "18", "32", "34", "53", "73", "31", "35")
SORT_WEIGHTS = (("relevance", 80), ("price_asc", 12), ("newest", 5), ("price_desc", 3))


@dataclass
class _Item:
    id: int
    name: str
    unit: str
    price: int
    min_qty: int
    grams: int


@dataclass
class _KubeCtx:
    kube: Kube
    profile: Profile
    products: list[_Item]
    members: list[tuple[int, MemberRole]]
    ketua: int
    bendahara: int

    @property
    def member_count(self) -> int:
        return max(1, len(self.members))


@dataclass
class _Buyer:
    id: int
    name: str
    phone: str
    address: str


@dataclass
class _Order:
    """An order before it is written: its checkout, its own columns, lines, events, ledger and refund."""

    placed: datetime
    checkout: dict[str, Any]
    order: dict[str, Any]
    lines: list[dict[str, Any]]
    events: list[dict[str, Any]]
    ledger: list[dict[str, Any]] = field(default_factory=list)
    refund: dict[str, Any] | None = None


def _local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LOCAL_TZ)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class _History:
    def __init__(self, session: Session, now: datetime, fee_bps: int) -> None:
        self.session = session
        self.now = now.astimezone(UTC)
        self.fee_bps = fee_bps
        self.rng = random.Random(_SEED)
        self.month0 = this_month(now, LOCAL_TZ)
        self.today = self.now.astimezone(LOCAL_TZ).date()

    # --- what is there ------------------------------------------------------------------------------

    def demo_kubes(self) -> list[_KubeCtx]:
        slugs = [slugify(item.name) for item in data.KUBES]
        kubes = list(self.session.scalars(select(Kube).where(Kube.slug.in_(slugs)).order_by(Kube.id)))
        ids = [k.id for k in kubes]
        items: dict[int, list[_Item]] = defaultdict(list)
        for p in self.session.scalars(select(Product).where(Product.kube_id.in_(ids),
                                                            Product.status == ProductStatus.PUBLISHED)
                                      .order_by(Product.id)):
            items[p.kube_id].append(_Item(p.id, p.name, p.unit.value, p.price, p.min_order_qty, p.weight_grams))
        members: dict[int, list[tuple[int, MemberRole]]] = defaultdict(list)
        for m in self.session.scalars(select(KubeMember).where(KubeMember.kube_id.in_(ids)).order_by(KubeMember.id)):
            members[m.kube_id].append((m.user_id, MemberRole(m.role)))
        found = []
        for kube in kubes:
            roles = {role: user_id for user_id, role in reversed(members[kube.id])}
            ketua = roles.get(MemberRole.KETUA)
            if not items[kube.id] or ketua is None:
                continue
            found.append(_KubeCtx(kube, PROFILES.get(kube.slug, DEFAULT_PROFILE), items[kube.id], members[kube.id],
                                  ketua, roles.get(MemberRole.BENDAHARA, ketua)))
        return found

    def buyers(self) -> list[_Buyer]:
        users = {u.email: u for u in self.session.scalars(select(User).where(User.email.in_(data.BUYER_ADDRESSES)))}
        return [_Buyer(users[email].id, users[email].name, users[email].phone or "", address)
                for email, address in data.BUYER_ADDRESSES.items() if email in users]

    def already_loaded(self, kube_ids: list[int]) -> bool:
        """History is there when a demo KUBE has a completed order or anything in its cash book (real use
        never completes an order, and the loader writes nothing else in the cash book)."""
        checks = (
            select(Order.id).where(Order.kube_id.in_(kube_ids), Order.status == S.COMPLETED),
            select(CashEntry.id).where(CashEntry.kube_id.in_(kube_ids)),
            select(Contribution.id).where(Contribution.kube_id.in_(kube_ids)),
        )
        return any(self.session.scalar(check.limit(1)) is not None for check in checks)

    def cutoff(self) -> datetime:
        """History orders are placed before this: before every order already there, and 15 days ago."""
        oldest = self.session.scalar(select(func.min(Order.created_at)))
        latest = self.now - _LIFETIME
        return min(latest, oldest - timedelta(hours=1)) if oldest is not None else latest

    # --- orders -------------------------------------------------------------------------------------

    def target(self, profile: Profile, back: int) -> int:
        """Goods to sell in the month `back` months ago."""
        months_in = profile.first - back
        value = profile.sales * (1 + profile.growth) ** months_in
        if profile.season:
            value *= 1 + profile.season * math.cos(2 * math.pi * (back - 8) / 12)
        return int(value * self.rng.uniform(1 - profile.noise, 1 + profile.noise))

    def placement_days(self, month: date, cutoff: datetime) -> list[date]:
        """The days of `month` an order may be placed on: early enough for its ledger to stay in the month
        and for the whole day (07:00-21:00 local) to be before the cutoff."""
        last = month_end(month) - timedelta(days=_LAST_DAY_MARGIN)
        days = []
        day = month
        while day <= last and _local(day, 21) <= cutoff:
            days.append(day)
            day += timedelta(days=1)
        return days

    def pick_lines(self, ctx: _KubeCtx, budget: int) -> list[tuple[_Item, int]]:
        cheapest = min(p.price * p.min_qty for p in ctx.products)
        affordable = [p for p in ctx.products if p.price * p.min_qty <= max(budget, cheapest)]
        count = min(len(affordable), self.rng.choices((1, 2, 3, 4), (45, 30, 17, 8))[0])
        chosen: list[_Item] = []
        pool = list(affordable)
        for _ in range(count):
            weights = [1 / math.sqrt(p.price * p.min_qty) for p in pool]
            item = self.rng.choices(pool, weights)[0]
            pool.remove(item)
            chosen.append(item)
        lines: list[tuple[_Item, int]] = []
        left = max(budget, cheapest)
        for item in chosen:
            if item.min_qty == 1:
                qty = self.rng.choices((1, 2, 3, 4, 6), (35, 30, 15, 12, 8))[0]
            else:
                qty = item.min_qty * self.rng.choices((1, 2, 3, 5), (50, 25, 15, 10))[0]
            while qty > item.min_qty and item.price * qty > left:
                qty = max(item.min_qty, qty // 2)
            if lines and item.price * qty > left:
                continue
            lines.append((item, qty))
            left -= item.price * qty
        return lines

    def order(self, ctx: _KubeCtx, buyer: _Buyer, operator_id: int, placed: datetime, budget: int,
              outcome: OrderStatus) -> _Order:
        kube = ctx.kube
        chosen = self.pick_lines(ctx, budget)
        goods = sum(item.price * qty for item, qty in chosen)
        grams = sum(item.grams * qty for item, qty in chosen)
        courier_ok = kube.courier_enabled and grams <= _COURIER_MAX_GRAMS
        if courier_ok and (self.rng.random() < 0.7 or not kube.pickup_enabled):
            method = DeliveryMethod.COURIER
        elif kube.pickup_enabled:
            method = DeliveryMethod.PICKUP
        else:
            method = DeliveryMethod.COURIER
        fee = orders.delivery_fee(kube, method, grams)
        total = goods + fee
        # Cash on delivery is paid at the door, so it is never refunded (the KUBE cancels it before sending).
        cod = total <= 1_500_000 and self.rng.random() < 0.25 and outcome != S.REFUNDED
        pay = PaymentMethod.COD if cod else PaymentMethod.MANUAL
        expires = placed + orders.PAYMENT_WINDOWS[pay]
        courier = method == DeliveryMethod.COURIER
        checkout = dict(buyer_id=buyer.id, payment_method=pay, goods_total=goods, delivery_total=fee, total=total,
                        unique_code=0 if cod else self.rng.randint(1, 999), created_at=placed, expires_at=expires)
        row: dict[str, Any] = dict(
            kube_id=kube.id, buyer_id=buyer.id, status=outcome, delivery_method=method, delivery_fee=fee,
            goods_total=goods, total=total, platform_fee=platform_fee(goods, self.fee_bps), weight_grams=grams,
            recipient_name=buyer.name if courier else "", recipient_phone=buyer.phone if courier else "",
            address=buyer.address if courier else "", courier=None, tracking_number=None, created_at=placed,
            expires_at=expires, paid_at=None)
        lines = [dict(product_id=item.id, product_name=item.name, unit=item.unit, unit_price=item.price,
                      quantity=qty, line_total=item.price * qty) for item, qty in chosen]
        built = _Order(placed, checkout, row, lines, [])
        self.life(built, ctx, buyer, operator_id, cod, courier)
        return built

    def life(self, built: _Order, ctx: _KubeCtx, buyer: _Buyer, operator_id: int, cod: bool,
             courier: bool) -> None:
        """The order's steps, as the services record them, and its ledger lines."""
        row, rng = built.order, self.rng
        outcome = row["status"]
        when = built.placed

        def step(from_status: OrderStatus | None, to: OrderStatus, actor: int | None, note: str = "",
                 hours: tuple[float, float] = (0, 0)) -> datetime:
            nonlocal when
            when = when + timedelta(hours=rng.uniform(*hours))
            built.events.append(dict(from_status=from_status.value if from_status else None, to_status=to.value,
                                     actor_id=actor, note=note, created_at=when))
            return when

        step(None, S.PENDING_PAYMENT, buyer.id)
        if outcome == S.CANCELLED:
            if cod:
                step(S.PENDING_PAYMENT, S.PROCESSING, ctx.ketua, hours=(1, 10))
                step(S.PROCESSING, S.CANCELLED, ctx.ketua, rng.choice(KUBE_CANCEL_REASONS), hours=(2, 20))
            else:
                step(S.PENDING_PAYMENT, S.CANCELLED, buyer.id, rng.choice(CANCEL_REASONS), hours=(1, 20))
            row["updated_at"] = when
            return
        if cod:
            step(S.PENDING_PAYMENT, S.PROCESSING, ctx.ketua, hours=(1, 10))
        else:
            paid = step(S.PENDING_PAYMENT, S.PAID, operator_id, orders.PAYMENT_RECEIVED, hours=(1, 6))
            row["paid_at"] = paid
            self.post(built, paid)
            if outcome == S.REFUNDED:
                if rng.random() < 0.5:
                    step(S.PAID, S.PROCESSING, ctx.ketua, hours=(2, 12))
                    before = S.PROCESSING
                else:
                    before = S.PAID
                reason = rng.choice(REFUND_REASONS)
                refunded = step(before, S.REFUNDED, ctx.ketua, reason, hours=(4, 30))
                credited = sum(entry["amount"] for entry in built.ledger)
                if credited:
                    built.ledger.append(self.entry(row, EntryKind.REFUND, -credited, refunded))
                built.refund = dict(provider="manual", amount=row["total"], status="succeeded",
                                    external_id=f"BRI {rng.randint(10**7, 10**8 - 1)}", note=reason,
                                    created_at=refunded, completed_at=refunded + timedelta(hours=rng.uniform(3, 24)))
                row["updated_at"] = when
                return
            step(S.PAID, S.PROCESSING, ctx.ketua, hours=(2, 12))
        if courier:
            row["courier"] = rng.choice(COURIERS)
            row["tracking_number"] = f"{row['courier'][:2].upper()}{rng.randint(10**9, 10**10 - 1)}"
            step(S.PROCESSING, S.SHIPPED, ctx.ketua, f"{row['courier']} {row['tracking_number']}", hours=(12, 36))
        else:
            step(S.PROCESSING, S.SHIPPED, ctx.ketua, orders.READY_FOR_PICKUP, hours=(6, 30))
        if cod:
            cash = step(S.SHIPPED, S.DELIVERED, ctx.bendahara, orders.CASH_RECEIVED,
                        hours=(24, 72) if courier else (2, 24))
            row["paid_at"] = cash
            self.post(built, cash, cash_on_delivery=True)
        else:
            step(S.SHIPPED, S.DELIVERED, buyer.id, hours=(24, 72) if courier else (2, 24))
        step(S.DELIVERED, S.COMPLETED, None, hours=(7 * 24, 7 * 24 + 2))
        row["updated_at"] = when

    def entry(self, row: dict[str, Any], kind: EntryKind, amount: int, when: datetime) -> dict[str, Any]:
        return dict(kube_id=row["kube_id"], kind=kind, amount=amount, note="", created_at=when)

    def post(self, built: _Order, when: datetime, *, cash_on_delivery: bool = False) -> None:
        """ledger.credit_order (and record_cash): the same kinds and amounts; zero amounts are not posted."""
        row = built.order
        for kind, amount in ((EntryKind.SALE, row["goods_total"]), (EntryKind.DELIVERY, row["delivery_fee"]),
                             (EntryKind.FEE, -row["platform_fee"])):
            if amount:
                built.ledger.append(self.entry(row, kind, amount, when))
        if cash_on_delivery and row["total"]:
            built.ledger.append(self.entry(row, EntryKind.CASH, -row["total"], when))

    def month_orders(self, ctx: _KubeCtx, back: int, cutoff: datetime, buyers: list[_Buyer],
                     operator_id: int) -> list[_Order]:
        month = add_months(self.month0, -back)
        days = self.placement_days(month, cutoff)
        usable = (month_end(month) - month).days + 1 - _LAST_DAY_MARGIN
        if not days:
            return []
        target = self.target(ctx.profile, back)
        if back == 0:
            target = target * len(days) // usable
        built: list[_Order] = []
        sold = 0
        weights = [max(1, 4 - index) for index in range(len(buyers))]  # the demo buyer orders most
        while sold < target and len(built) < _MAX_ORDERS_A_MONTH:
            buyer = self.rng.choices(buyers, weights)[0]
            roll = self.rng.random()
            outcome = (S.CANCELLED if roll < CANCELLED_SHARE else S.REFUNDED if roll < CANCELLED_SHARE + REFUNDED_SHARE
                       else S.COMPLETED)
            placed = _utc(_local(self.rng.choice(days), self.rng.randint(7, 19), self.rng.randint(0, 59)))
            made = self.order(ctx, buyer, operator_id, placed, target - sold, outcome)
            if outcome == S.COMPLETED:
                sold += made.order["goods_total"]
            built.append(made)
        return built

    # --- the cash book ------------------------------------------------------------------------------

    def kept_books(self, profile: Profile, back: int) -> bool:
        if back < profile.last or back > profile.first:
            return False
        if profile.book_months is not None and 1 <= back <= 6:
            return back in profile.book_months
        return back in (profile.first, 0) or self.rng.random() < profile.books

    def day_in(self, month: date, low: int, high: int) -> date | None:
        """A day of `month` between its `low`th and `high`th, before today (None when there is none)."""
        last = min(high, month_end(month).day)
        days = [month.replace(day=d) for d in range(low, last + 1) if month.replace(day=d) < self.today]
        return self.rng.choice(days) if days else None

    def cash_rows(self, ctx: _KubeCtx, back: int, income: int, expenses: int) -> list[dict[str, Any]]:
        """The month's hand-written entries; `income` and `expenses` are the month's from the ledger."""
        profile, rng = ctx.profile, self.rng
        month = add_months(self.month0, -back)
        rows: list[dict[str, Any]] = []

        def add(category: BookCategory, amount: int, note: str, low: int, high: int) -> None:
            day = self.day_in(month, low, high)
            if day is None or amount <= 0:
                return
            rows.append(dict(kube_id=ctx.kube.id, direction=Direction.INCOME if category in _INCOME
                             else Direction.EXPENSE, category=category, amount=amount, occurred_on=day, note=note,
                             receipt_key=None, created_by_id=ctx.bendahara,
                             created_at=min(self.now, _utc(_local(day, rng.randint(17, 21), rng.randint(0, 59))))))

        if back == profile.first and profile.grant:
            add(BookCategory.GRANT, profile.grant, "Bantuan UEP KUBE dari Kementerian Sosial", 1, 5)
            add(BookCategory.EQUIPMENT, profile.grant * 6 // 10, profile.equipment, 3, 8)
        grants = sum(r["amount"] for r in rows if r["direction"] == Direction.INCOME)
        if rng.random() < 0.45:
            market = _round(max(income, 1_000_000) * rng.uniform(0.04, 0.12))
            add(BookCategory.OTHER_SALES, market, rng.choice(MARKET), 5, 26)
        income += sum(r["amount"] for r in rows if r["direction"] == Direction.INCOME) - grants
        if profile.profit_per_member is not None:
            profit = ctx.member_count * profile.profit_per_member * rng.uniform(0.97, 1.03)
            spend = _round(income + grants - expenses - profit)
        else:  # the costs of what was sold (an aid grant buys equipment, above)
            spend = _round(income * profile.cost * rng.uniform(0.9, 1.1) - expenses)
        if back != profile.first and back >= 7 and profile.profit_per_member is None and rng.random() < 0.06:
            add(BookCategory.EQUIPMENT, _round(rng.uniform(1_500_000, 4_000_000)), profile.equipment, 8, 20)
        if spend >= 10_000:
            parts = ((BookCategory.RAW_MATERIALS, 0.38, profile.raw, 1, 8),
                     (BookCategory.RAW_MATERIALS, 0.30, profile.raw, 14, 20),
                     (BookCategory.PACKAGING, 0.10, profile.packaging, 3, 12),
                     (BookCategory.TRANSPORT, 0.14, "Ongkos angkut dan bensin", 8, 25),
                     (BookCategory.RENT_UTILITIES, 0.08, "Listrik dan air rumah produksi", 20, 25))
            amounts = [_round(spend * share) for _, share, *_ in parts]
            amounts[0] += spend - sum(amounts)
            for (category, _, note, low, high), amount in zip(parts, amounts, strict=True):
                add(category, amount, note, low, high)
        return rows

    def contribution_rows(self, ctx: _KubeCtx, back: int) -> list[dict[str, Any]]:
        month = add_months(self.month0, -back)
        recorded = min(self.now - timedelta(hours=1), _utc(_local(add_months(month, 1), 19)))
        rows = []
        for user_id, role in ctx.members:
            days = self.rng.randint(12, 24) if role != MemberRole.ANGGOTA else self.rng.randint(6, 22)
            rows.append(dict(kube_id=ctx.kube.id, user_id=user_id, month=month, amount=days,
                             recorded_by_id=ctx.bendahara, created_at=recorded))
        return rows

    # --- searches -----------------------------------------------------------------------------------

    def search_rows(self) -> list[dict[str, Any]]:
        catalogue = []
        for p in self.session.scalars(
            select(Product).join(Product.kube)
            .where(Product.status == ProductStatus.PUBLISHED, Kube.status.in_(PUBLIC_KUBE_STATUSES))
            .options(joinedload(Product.kube), joinedload(Product.category).joinedload(ProductCategory.parent))
            .order_by(Product.id)
        ):
            slugs = {p.category.slug} | ({p.category.parent.slug} if p.category.parent else set())
            catalogue.append((set(analyse(f"{p.name} {p.description or ''} {p.category.name_id}")),
                              p.kube.province_code, slugs))
        counts: dict[tuple[str, str, str], int] = {}

        def found(terms: tuple[str, ...], province: str, category: str) -> int:
            key = (" ".join(terms), province, category)
            if key not in counts:
                counts[key] = sum(1 for words, prov, cats in catalogue
                                  if set(terms) <= words and province in ("", prov) and category in ("", *cats))
            return counts[key]

        queries, weights = [q for q, _ in QUERIES], [w for _, w in QUERIES]
        categories = sorted({slug for _, _, cats in catalogue for slug in cats})
        sorts, sort_weights = [s for s, _ in SORT_WEIGHTS], [w for _, w in SORT_WEIGHTS]
        rows: list[dict[str, Any]] = []
        for back in range(SEARCH_MONTHS - 1, -1, -1):
            month = add_months(self.month0, -back)
            start = _utc(_local(month))
            end = min(self.now, _utc(_local(add_months(month, 1))))
            if end <= start:
                continue
            span = (end - start).total_seconds()
            full = (_utc(_local(add_months(month, 1))) - start).total_seconds()
            count = int((140 + 12 * (SEARCH_MONTHS - 1 - back)) * self.rng.uniform(0.9, 1.1) * span / full)
            for _ in range(count):
                typed = self.rng.choices(queries, weights)[0]
                if self.rng.random() < 0.2:
                    typed = typed.capitalize() if self.rng.random() < 0.8 else typed.upper()
                terms = tuple(query_terms(typed))
                filters: dict[str, Any] = {}
                roll = self.rng.random()
                if roll < 0.15:
                    filters["province"] = self.rng.choice(SEARCH_PROVINCES)
                elif roll < 0.22 and categories:
                    filters["category"] = self.rng.choice(categories)
                total = found(terms, filters.get("province", ""), filters.get("category", ""))
                fallback = self.rng.random() < 0.02
                rows.append(dict(
                    created_at=start + timedelta(seconds=self.rng.uniform(0, span)), query=typed,
                    terms=" ".join(terms)[:200], filters=filters, sort=self.rng.choices(sorts, sort_weights)[0],
                    page=2 if total > 20 and self.rng.random() < 0.15 else 1, result_count=total,
                    took_ms=self.rng.randint(60, 220) if fallback else self.rng.randint(3, 45),
                    source="api" if self.rng.random() < 0.12 else "web",
                    backend="database" if fallback else "whoosh"))
        rows.sort(key=lambda r: r["created_at"])
        return rows

    # --- putting it together ------------------------------------------------------------------------

    def load(self) -> int:
        kubes = self.demo_kubes()
        buyers = self.buyers()
        operator_id = self.session.scalar(select(User.id).where(User.is_operator.is_(True)).order_by(User.id))
        if not kubes or not buyers or operator_id is None or self.already_loaded([c.kube.id for c in kubes]):
            return 0
        cutoff = self.cutoff()
        first_month = add_months(self.month0, -HISTORY_MONTHS)
        existing = monthly_figures(self.session, [c.kube.id for c in kubes], first_month, self.month0)

        built: list[_Order] = []
        cash: list[dict[str, Any]] = []
        contributions: list[dict[str, Any]] = []
        settings: list[dict[str, Any]] = []
        started: dict[int, datetime] = {}
        for ctx in kubes:
            profile = ctx.profile
            mine: list[_Order] = []
            for back in range(min(profile.first, HISTORY_MONTHS), profile.last - 1, -1):
                mine += self.month_orders(ctx, back, cutoff, buyers, operator_id)
            # The month's ledger figures, from what was just built and what was already there.
            income: dict[date, int] = defaultdict(int)
            expenses: dict[date, int] = defaultdict(int)
            for figures in existing[ctx.kube.id]:
                income[figures.month] += figures.income
                expenses[figures.month] += figures.expenses
            for made in mine:
                for line in made.ledger:
                    month = line["created_at"].astimezone(LOCAL_TZ).date().replace(day=1)
                    if line["kind"] in (EntryKind.SALE, EntryKind.DELIVERY, EntryKind.REFUND):
                        income[month] += line["amount"]
                    elif line["kind"] == EntryKind.FEE:
                        expenses[month] -= line["amount"]
            for back in range(min(profile.first, HISTORY_MONTHS), profile.last - 1, -1):
                month = add_months(self.month0, -back)
                if self.kept_books(profile, back):
                    cash += self.cash_rows(ctx, back, income[month], expenses[month])
                    if back >= 1:
                        contributions += self.contribution_rows(ctx, back)
            if profile.by_contribution:
                settings.append(dict(kube_id=ctx.kube.id, share_basis=ShareBasis.CONTRIBUTION,
                                     contribution_unit="hari",
                                     updated_at=_utc(_local(add_months(self.month0, -profile.first)))))
            moments = [o.placed for o in mine] + [_utc(_local(r["occurred_on"])) for r in cash
                                                  if r["kube_id"] == ctx.kube.id]
            if moments:
                started[ctx.kube.id] = min(moments)
            built += mine

        built.sort(key=lambda o: o.placed)
        self.write_orders(built)
        for model, rows in ((CashEntry, cash), (Contribution, contributions), (SearchLog, self.search_rows())):
            _insert(self.session, model, rows)
        known = set(self.session.scalars(select(BookSettings.kube_id)
                                         .where(BookSettings.kube_id.in_([s["kube_id"] for s in settings]))))
        fresh = [s for s in settings if s["kube_id"] not in known]
        _insert(self.session, BookSettings, fresh)
        self.backdate(kubes, started, built)
        self.session.flush()
        return len(built)

    def write_orders(self, built: Sequence[_Order]) -> None:
        """Plain executemany INSERTs with ids taken beforehand (RETURNING thousands of ids is slow here)."""
        if not built:
            return
        checkout_ids = _take_ids(self.session, Checkout.__table__, len(built))
        order_ids = _take_ids(self.session, Order.__table__, len(built))
        checkouts, rows, lines, events, ledger, refunds = [], [], [], [], [], []
        for made, checkout_id, order_id in zip(built, checkout_ids, order_ids, strict=True):
            checkouts.append(dict(made.checkout, id=checkout_id))
            rows.append(dict(made.order, id=order_id, checkout_id=checkout_id))
            lines += [dict(line, order_id=order_id) for line in made.lines]
            events += [dict(event, order_id=order_id) for event in made.events]
            ledger += [dict(entry, order_id=order_id) for entry in made.ledger]
            if made.refund is not None:
                refunds.append(dict(made.refund, order_id=order_id, checkout_id=checkout_id))
        _insert(self.session, Checkout, checkouts)
        _insert(self.session, Order, rows)
        for model, more in ((OrderLine, lines), (OrderEvent, events), (LedgerEntry, ledger), (Refund, refunds)):
            _insert(self.session, model, more)

    def backdate(self, kubes: list[_KubeCtx], started: dict[int, datetime], built: Sequence[_Order]) -> None:
        """The KUBEs, their members and assignments, and the platform's people were there before the history:
        move their dates back where they are later than it (never forward)."""
        if not started:
            return
        for ctx in kubes:
            first = started.get(ctx.kube.id)
            if first is None:
                continue
            kube = ctx.kube
            joined = first - timedelta(days=self.rng.uniform(20, 40))
            if kube.created_at > joined:
                kube.created_at = joined
                if kube.status != KubeStatus.DRAFT and (kube.verified_at is None or kube.verified_at > first):
                    kube.verified_at = joined + timedelta(days=self.rng.uniform(2, 10))
            self.session.execute(update(KubeMember).where(KubeMember.kube_id == kube.id,
                                                          KubeMember.joined_at > kube.created_at)
                                 .values(joined_at=kube.created_at).execution_options(synchronize_session=False))
            self.session.execute(update(FacilitatorAssignment)
                                 .where(FacilitatorAssignment.kube_id == kube.id,
                                        FacilitatorAssignment.assigned_at > kube.created_at)
                                 .values(assigned_at=kube.created_at).execution_options(synchronize_session=False))
            member_ids = [user_id for user_id, _ in ctx.members]
            self.session.execute(update(User).where(User.id.in_(member_ids), User.created_at > kube.created_at)
                                 .values(created_at=kube.created_at).execution_options(synchronize_session=False))
        platform = min(started.values()) - timedelta(days=45)
        emails = [item.email for item in data.PLATFORM_USERS]
        self.session.execute(update(User).where(User.email.in_(emails), User.created_at > platform)
                             .values(created_at=platform).execution_options(synchronize_session=False))
        self.session.flush()
        self.session.expire_all()  # the UPDATEs above went around the identity map


_INCOME = frozenset({BookCategory.OTHER_SALES, BookCategory.SERVICES, BookCategory.GRANT, BookCategory.OTHER_INCOME})


def _take_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys for `table`: from its sequence on PostgreSQL (so later rows never collide),
    after the largest one on SQLite (which numbers new rows from there)."""
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": count}))
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(start + 1, start + count + 1))


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT into the model's table (every row has the same keys)."""
    if rows:
        session.execute(insert(model.__table__), rows)


def _round(amount: float) -> int:
    """To the thousand Rupiah, as people write them in a cash book."""
    return round(amount / 1000) * 1000


def load_history(session: Session, now: datetime, fee_bps: int = 0) -> int:
    """Load the demo history once; returns the number of history orders made (0 when already there, or when
    the demo KUBEs, buyers or operator are missing). `fee_bps` is the platform's fee fixed on each order."""
    return _History(session, now, fee_bps).load()
