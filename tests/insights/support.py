"""A hand-built dataset for the insights: two provinces, orders in and out of the period, cancelled and refunded
orders, contract sales, searches and sourcing requests. The expected figures are worked out in the comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from marketplace.catalog.models import Category, Kube, KubeStatus, MemberRole, Product, Unit
from marketplace.insights.services import Filters
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders.models import Checkout, DeliveryMethod, Order, OrderLine, OrderStatus, PaymentMethod
from marketplace.search.models import SearchLog
from marketplace.sourcing.models import RequestStatus, Schedule, SourcingRequest
from tests import factories
from tests.factories import World

DONGGALA_VILLAGE = "72.03.12.2020"  # Kampung Baru Sibayu, Balaesang, Kabupaten Donggala, Sulawesi Tengah
PERIOD = Filters(date(2025, 1, 1), date(2025, 6, 30))
ON = date(2025, 6, 1)  # "today" for the open requests
# Personal data that must never show in the insights.
MEMBER_NAME = "Siti Aminah Rahayu"
MEMBER_PHONE = "081299998888"
BUYER_NAME = "Budi Santoso Pembeli"
NIK = "7201014507800001"


@dataclass
class Dataset:
    kube_c: Kube  # Donggala (72.03), active
    product_c: Product  # "minyak kelapa a": the same product kind as product_a, written in another case
    crafts: Category


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def order(session: Session, world: World, kube: Kube, product: Product, quantity: int, status: OrderStatus, *,
          paid_at: datetime | None, created_at: datetime | None = None) -> Order:
    checkout = Checkout(buyer_id=world.buyer.id, payment_method=PaymentMethod.COD, goods_total=0, delivery_total=0,
                        total=0)
    session.add(checkout)
    session.flush()
    goods = product.price * quantity
    placed = Order(checkout_id=checkout.id, kube_id=kube.id, buyer_id=world.buyer.id, status=status,
                   delivery_method=DeliveryMethod.COURIER, goods_total=goods, delivery_fee=10_000,
                   total=goods + 10_000, paid_at=paid_at, created_at=created_at or paid_at or at(2025, 1, 1),
                   recipient_name=BUYER_NAME, recipient_phone=MEMBER_PHONE, address=f"Jl. Mawar 1, NIK {NIK}")
    placed.lines = [OrderLine(product_id=product.id, product_name=product.name, unit=product.unit.value,
                              unit_price=product.price, quantity=quantity, line_total=goods)]
    session.add(placed)
    session.flush()
    return placed


def request(session: Session, world: World, item: str, quantity: str, province: str, regency: str | None, *,
            status: RequestStatus = RequestStatus.OPEN, until: date = date(2099, 12, 31)) -> SourcingRequest:
    req = SourcingRequest(order_taker_id=world.order_taker.id, item=item, item_name=item.replace("-", " ").title(),
                          unit="kg", quantity=Decimal(quantity), schedule=Schedule.MONTHLY,
                          starts_on=date(2025, 1, 1), until=until, province_code=province, regency_code=regency,
                          status=status, note=f"Hubungi {MEMBER_NAME}")
    session.add(req)
    session.flush()
    return req


def search(session: Session, query: str, results: int, when: datetime, page: int = 1) -> None:
    session.add(SearchLog(created_at=when, query=query, terms=query.lower(), filters={}, sort="relevance", page=page,
                          result_count=results, took_ms=3, source="web", backend="database"))


def build_dataset(session: Session, world: World) -> Dataset:
    """Expected, for 2025-01-01..2025-06-30 (local days, Asia/Jakarta, UTC+7):

    province 72 (Sulawesi Tengah): active KUBEs 2 (A, C; D is a draft), orders 3 (#1, #2, #7),
      sales 30.000 + 15.000 + 60.000 = 105.000, contract sales 500.000, open requests 2 (R1, R2);
      72.01 Banggai: 1 KUBE, 2 orders, 45.000, contracts 500.000, 1 request (R1); 72.03 Donggala: 1, 1, 60.000
    province 32 (Jawa Barat): active KUBEs 1, orders 1 (#8), sales 200.000, open requests 1 (R3)
    """
    world.ketua_a.name, world.ketua_a.phone = MEMBER_NAME, MEMBER_PHONE
    world.buyer.name = BUYER_NAME
    crafts = factories.make_category(session, "crafts")
    world.product_b.category_id = crafts.id
    world.product_b.price = 50_000
    kube_c = factories.make_kube(session, "KUBE Donggala C", village=DONGGALA_VILLAGE,
                                 members=[(factories.make_user(session, "ketua_c"), MemberRole.KETUA)])
    product_c = factories.make_product(session, kube_c, world.category, "minyak kelapa a", price=20_000,
                                       unit=Unit.BOTOL)
    factories.make_kube(session, "KUBE Draft D", status=KubeStatus.DRAFT)
    a, b = world.kube_a, world.kube_b
    pa, pb = world.product_a, world.product_b  # 15.000 and 50.000 a bottle
    order(session, world, a, pa, 2, OrderStatus.PAID, paid_at=at(2025, 3, 10, 3))  # 1: in, 30.000
    order(session, world, a, pa, 1, OrderStatus.COMPLETED, paid_at=at(2025, 6, 30, 16))  # 2: 23:00 local, in
    order(session, world, a, pa, 10, OrderStatus.CANCELLED, paid_at=None, created_at=at(2025, 3, 11))  # 3: out
    order(session, world, a, pa, 7, OrderStatus.REFUNDED, paid_at=at(2025, 3, 12))  # 4: refunded, out
    order(session, world, a, pa, 5, OrderStatus.PAID, paid_at=at(2025, 6, 30, 18))  # 5: 1 July local, out
    order(session, world, a, pa, 3, OrderStatus.PAID, paid_at=at(2024, 12, 31, 10))  # 6: before, out
    order(session, world, kube_c, product_c, 3, OrderStatus.PROCESSING, paid_at=None,
          created_at=at(2025, 4, 5))  # 7: cash on delivery on its way, in: 60.000
    order(session, world, b, pb, 4, OrderStatus.DELIVERED, paid_at=at(2025, 5, 1))  # 8: in, 200.000
    order(session, world, a, pa, 1, OrderStatus.PENDING_PAYMENT, paid_at=None, created_at=at(2025, 4, 1))  # 9: out
    session.add_all([
        LedgerEntry(kube_id=a.id, kind=EntryKind.CONTRACT, amount=500_000, created_at=at(2025, 2, 1)),
        LedgerEntry(kube_id=a.id, kind=EntryKind.FEE, amount=-12_500, created_at=at(2025, 2, 1)),
        LedgerEntry(kube_id=b.id, kind=EntryKind.CONTRACT, amount=90_000, created_at=at(2025, 8, 1)),  # out
    ])
    for _ in range(3):
        search(session, "keripik pisang", 5, at(2025, 2, 1))
    search(session, "keripik pisang", 5, at(2025, 2, 1), page=2)  # page 2: the same search, not counted
    search(session, "Sabun Sereh", 0, at(2025, 3, 1))
    search(session, "sabun sereh", 0, at(2025, 3, 2))
    search(session, "gula aren", 0, at(2024, 11, 1))  # before the period
    request(session, world, "arang-tempurung", "100", "72", "72.01")  # R1
    request(session, world, "arang-tempurung", "50.5", "72", None)  # R2: anywhere in province 72
    request(session, world, "sabut", "10", "32", "32.04")  # R3
    request(session, world, "arang-tempurung", "70", "72", "72.01", status=RequestStatus.CLOSED)  # out
    request(session, world, "arang-tempurung", "80", "72", "72.01", until=date(2025, 5, 1))  # ended: out
    session.flush()
    return Dataset(kube_c, product_c, crafts)


def grow(session: Session, world: World, dataset: Dataset, n: int) -> None:
    """More of everything, in more regions: n KUBEs in other provinces, each with a product, an order, a contract
    entry, a request; n more searches."""
    villages = ["11.01.01.2001", "12.01.01.2001", "13.01.01.2001", "14.01.01.2001", "15.01.01.2001",
                "16.01.01.2001", "17.01.01.2001", "18.01.01.2001"]
    for i in range(n):
        village = villages[i % len(villages)]
        category = factories.make_category(session)
        kube = factories.make_kube(session, village=village)
        product = factories.make_product(session, kube, category, price=1000 * (i + 1))
        order(session, world, kube, product, 1, OrderStatus.PAID, paid_at=at(2025, 2, 1 + i))
        session.add(LedgerEntry(kube_id=kube.id, kind=EntryKind.CONTRACT, amount=1000, created_at=at(2025, 2, 2)))
        request(session, world, f"item-{i}", "1", village[:2], village[:5])
        search(session, f"cari {i}", i, at(2025, 2, 3))
    session.flush()
