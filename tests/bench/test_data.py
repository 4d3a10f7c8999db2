"""bench.data at a tiny scale: the counts asked for, rows that hang together, whole Rupiah, and the app's
pages answering on what it wrote."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench import data
from marketplace.auth.models import User
from marketplace.books.services import LOCAL_TZ, add_months, monthly_figures, this_month
from marketplace.catalog.models import Kube, KubeMember, MemberRole, Product, ProductStatus
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderLine, OrderStatus
from marketplace.payments.models import Refund
from tests.conftest import _empty_all_tables, login

SCALE = 0.002

# (child table, column, parent table): every non-null reference must find its row.
REFERENCES = (
    ("kube_members", "kube_id", "kubes"), ("kube_members", "user_id", "users"),
    ("facilitator_assignments", "kube_id", "kubes"), ("facilitator_assignments", "facilitator_id", "users"),
    ("products", "kube_id", "kubes"), ("products", "category_id", "categories"),
    ("products", "created_by_id", "users"), ("checkouts", "buyer_id", "users"),
    ("orders", "checkout_id", "checkouts"), ("orders", "kube_id", "kubes"), ("orders", "buyer_id", "users"),
    ("order_lines", "order_id", "orders"), ("order_lines", "product_id", "products"),
    ("order_events", "order_id", "orders"), ("order_events", "actor_id", "users"),
    ("ledger_entries", "order_id", "orders"), ("ledger_entries", "kube_id", "kubes"),
    ("refunds", "order_id", "orders"), ("refunds", "checkout_id", "checkouts"),
)


def _load(session: Session) -> dict[str, int]:
    counts = data.load(session, scale=SCALE)
    session.commit()
    return counts


def test_counts_and_references(session: Session) -> None:
    counts = _load(session)
    sizes = data.scaled(SCALE)
    assert session.scalar(select(func.count(Kube.id))) == sizes["kubes"] == counts["kubes"]
    assert session.scalar(select(func.count(Product.id))) == sizes["products"]
    assert session.scalar(select(func.count(Order.id))) == sizes["orders"]
    assert session.scalar(select(func.count(User.id)).where(User.email.like("pembeli.%"))) == sizes["buyers"]
    members = dict(session.execute(select(KubeMember.kube_id, func.count()).group_by(KubeMember.kube_id)).all())
    assert len(members) == sizes["kubes"] and all(5 <= n <= 20 for n in members.values())
    assert session.scalar(select(func.count(KubeMember.id)).where(KubeMember.role == MemberRole.KETUA)) == \
        sizes["kubes"]
    for child, column, parent in REFERENCES:
        orphans = session.scalar(text(
            f"SELECT COUNT(*) FROM {child} c WHERE c.{column} IS NOT NULL "  # noqa: S608 - fixed names above
            f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{column})"))
        assert orphans == 0, (child, column)
    # Every order has lines and a history that starts with its placing; each checkout holds one order.
    assert session.scalar(select(func.count(Order.id)).where(~Order.lines.any())) == 0
    assert session.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.from_status.is_(None))) == \
        sizes["orders"]
    assert session.scalar(select(func.count(Checkout.id))) == sizes["orders"]
    # Real regions, spread over more than one province once there are a few KUBEs.
    assert all(k.village_code.startswith(k.district_code) for k in session.scalars(select(Kube)))


def test_money_is_whole_rupiah_and_adds_up(session: Session) -> None:
    _load(session)
    for line in session.scalars(select(OrderLine)):
        assert isinstance(line.unit_price, int) and line.unit_price > 0
        assert line.line_total == line.unit_price * line.quantity
    for order in session.scalars(select(Order)):
        assert isinstance(order.total, int)
        assert order.goods_total == sum(line.line_total for line in order.lines)
        assert order.total == order.goods_total + order.delivery_fee
        assert order.checkout.total == order.total
        entries = {EntryKind(e.kind): e.amount for e in session.scalars(
            select(LedgerEntry).where(LedgerEntry.order_id == order.id))}
        if order.status == OrderStatus.REFUNDED:
            assert sum(entries.values()) == 0 and entries[EntryKind.REFUND] < 0
        elif order.paid_at is not None:
            assert entries[EntryKind.SALE] == order.goods_total
            assert entries.get(EntryKind.FEE, 0) == -order.platform_fee
        else:
            assert entries == {}
    assert session.scalar(select(func.count(Refund.id))) == \
        session.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.REFUNDED))
    statuses = set(session.scalars(select(Order.status).distinct()))
    assert {OrderStatus.COMPLETED, OrderStatus.CANCELLED} <= statuses
    assert all(isinstance(p, int) and p > 0 for p in session.scalars(select(Product.price)))


def test_orders_span_eighteen_months_and_fill_the_books(session: Session) -> None:
    _load(session)
    oldest, newest = session.execute(select(func.min(Order.created_at), func.max(Order.created_at))).one()
    now = data.today_utc()
    assert oldest < now - timedelta(days=500) and newest > now - timedelta(days=20) and newest <= now
    kube_ids = list(session.scalars(select(Kube.id)))
    month = this_month(now, LOCAL_TZ)
    figures = monthly_figures(session, kube_ids, add_months(month, -18), month)
    assert sum(f.income for rows in figures.values() for f in rows) > 0


def test_the_same_seed_gives_the_same_data(session: Session) -> None:
    _load(session)

    def snapshot() -> list[tuple[object, ...]]:
        return [tuple(row) for row in session.execute(
            select(Kube.slug, Kube.village_code, Product.name, Product.price, Product.stock)
            .join(Product.kube).order_by(Product.id))] + \
            [tuple(row) for row in session.execute(select(Order.total, Order.status, Order.created_at)
                                                   .order_by(Order.id))]

    first = snapshot()
    _empty_all_tables()
    _load(session)
    assert snapshot() == first


def test_pages_answer_on_the_data(app: Flask, session: Session) -> None:
    _load(session)
    indexed, _took = data.build_index(app)
    assert indexed > 0
    kube = session.scalars(select(Kube).where(Kube.status == "active").order_by(Kube.id)).first()
    assert kube is not None
    product = session.scalars(select(Product).where(Product.kube_id == kube.id,
                                                    Product.status == ProductStatus.PUBLISHED)).first()
    n = int(kube.slug.rsplit("-", 1)[1])
    client = app.test_client()
    paths = ["/", "/products", "/products?page=2", "/kube", f"/kube/{kube.slug}", "/search?q=kelapa"]
    if product is not None:
        paths.append(f"/product/{product.id}/{product.slug}")
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()
    ketua = login(app.test_client(), data.ketua_email(n), data.BENCH_PASSWORD)
    for path in (f"/my-kube/{kube.slug}", f"/my-kube/{kube.slug}/orders"):
        response = ketua.get(path)
        assert response.status_code == 200, path
        response.close()
    buyer = login(app.test_client(), data.buyer_email(1), data.BENCH_PASSWORD)
    response = buyer.get("/orders")
    assert response.status_code == 200
    response.close()
