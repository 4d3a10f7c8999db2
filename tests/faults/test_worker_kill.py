"""Workers die mid-request (SIGKILL under gunicorn): checkouts, payments and expiry stay whole and exact.

The real app runs under gunicorn with several sync workers on the test database (a SQLite file in WAL mode,
or PostgreSQL). Buyers place checkouts concurrently (bank transfer and cash on delivery) over HTTP while
workers serving a request are killed; then an operator confirms transfers while workers are killed again;
then the expiry runs twice. A killed request must leave nothing half-made: each transaction commits whole
or not at all, so stock, reservations, payments and ledger entries add up exactly.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Product
from marketplace.common import utcnow
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderLine, OrderStatus, PaymentMethod
from tests import factories
from tests.faults.server import Answer, Client, Disconnected, Server, gunicorn, sqlite_wal

WORKERS = 4
BUYERS = 12
STOCK = 6  # per product: small, so that buyers run out while others are placing
KILLS = 4
HOLDING = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.SHIPPED,
           OrderStatus.DELIVERED, OrderStatus.COMPLETED)


@pytest.fixture
def wal(database_url: str) -> Iterator[None]:
    with sqlite_wal(database_url):
        yield


def _seed(session: Session) -> tuple[list[Product], list[str], str]:
    """Two KUBEs with two products each (small stock), buyers and an operator; returns the e-mails."""
    world = factories.build_world(session)
    products = [world.product_a, world.product_b,
                factories.make_product(session, world.kube_a, world.category, "Gula Aren A"),
                factories.make_product(session, world.kube_b, world.category, "Tikar Pandan B")]
    for product in products:
        product.stock = STOCK
    buyers = [factories.make_user(session, f"fault_buyer_{n}").email for n in range(BUYERS)]
    session.commit()
    return products, buyers, world.operator.email


def _login(client: Client, email: str) -> None:
    answer = client.retrying("POST", "/auth/login", {"email": email, "password": factories.PASSWORD})
    assert answer.status in (302, 303), answer.body[:300]


def _assert_no_server_error(answer: Answer) -> Answer:
    assert answer.status < 500, answer.body[:500]
    return answer


def _shop(port: int, email: str, products: list[tuple[int, int]], turn: int, placed: list[int]) -> Client:
    """One buyer: up to three checkouts of one or two products, alternating bank transfer and cash."""
    client = Client(port)
    _login(client, email)
    for attempt in range(3):
        first = products[(turn + attempt) % len(products)]
        second = products[(turn + attempt + 1) % len(products)]
        for product_id, _kube_id in (first, second)[: 1 + (turn + attempt) % 2]:
            _assert_no_server_error(client.retrying("POST", "/cart/add", {"product_id": str(product_id),
                                                                          "quantity": "1"}))
        form = {"payment_method": "manual" if (turn + attempt) % 2 else "cod",
                "recipient_name": "Budi", "recipient_phone": "0812000111"}
        form.update({f"delivery-{kube_id}": "pickup" for _pid, kube_id in products})
        answer = _assert_no_server_error(client.retrying("POST", "/checkout", form))
        if answer.status in (302, 303) and "/orders/checkout/" in answer.location:
            placed.append(int(answer.location.rstrip("/").rsplit("/", 1)[1]))
        else:
            # Out of stock (the form again), or the cart was empty: start the next try afresh.
            client.retrying("GET", "/cart")
            for product_id, _kube_id in products:
                client.retrying("POST", f"/cart/{product_id}/remove", {})
    return client


def _run_with_kills(server: Server, jobs: list[Callable[[], object]], kills: int) -> None:
    """Run the jobs in threads while SIGKILLing `kills` workers that are serving a request."""
    errors: list[BaseException] = []

    def guarded(job: Callable[[], object]) -> None:
        try:
            job()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    done = 0
    while done < kills and any(t.is_alive() for t in threads):
        if server.kill_serving_worker(timeout=2) is not None:
            done += 1
            time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client never finished"
    if errors:
        raise errors[0]
    server.wait_for_workers(WORKERS)


def _stock_accounts(session: Session, initial: dict[int, int]) -> dict[int, int]:
    """Per product: the stock left plus what orders still hold (pending or sold) must be the initial stock."""
    held = dict(session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity)).join(Order)
        .where(Order.status.in_([s.value for s in HOLDING])).group_by(OrderLine.product_id)
    ).all())
    stock = dict(session.execute(select(Product.id, Product.stock).where(Product.id.in_(list(initial)))).all())
    return {pid: stock[pid] + int(held.get(pid) or 0) for pid in initial}


def _assert_nothing_half_made(session: Session, initial: dict[int, int]) -> None:
    checkouts = session.scalars(select(Checkout)).all()
    assert checkouts, "no checkout was placed at all"
    for checkout in checkouts:
        assert checkout.orders, f"checkout {checkout.id} has no orders"
        assert checkout.total == sum(o.total for o in checkout.orders)
        for order in checkout.orders:
            assert order.lines, f"order {order.id} has no lines"
            assert order.goods_total == sum(line.line_total for line in order.lines)
            assert [e.to_status for e in order.events][:1] == ["pending_payment"]
    orphans = session.scalar(select(func.count(OrderLine.id)).outerjoin(Order, OrderLine.order_id == Order.id)
                             .where(Order.id.is_(None)))
    assert orphans == 0
    assert _stock_accounts(session, initial) == initial


@pytest.mark.usefixtures("wal")
def test_killed_workers_leave_checkouts_payments_and_expiry_exact(
    app: Flask, session: Session, database_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    products, buyers, operator = _seed(session)
    initial = {p.id: p.stock for p in products}
    catalogue = [(p.id, p.kube_id) for p in products]

    with gunicorn(database_url, tmp_path, workers=WORKERS) as server:
        # 1. Checkouts, while workers die.
        placed: list[int] = []
        clients: list[Client] = []

        def shopper(n: int) -> Callable[[], object]:
            return lambda: clients.append(_shop(server.port, buyers[n], catalogue, n, placed))

        _run_with_kills(server, [shopper(n) for n in range(BUYERS)], KILLS)
        assert len(server.killed) >= 1, f"no worker was caught serving a request:\n{server.log_tail()}"
        # At least one request was cut: its buyer saw the connection drop and pressed the button again.
        assert sum(c.disconnects for c in clients) >= 1

        session.expire_all()
        _assert_nothing_half_made(session, initial)
        checkouts = session.scalars(select(Checkout).order_by(Checkout.id)).all()
        # Every checkout a buyer was shown exists (and no other one was made behind a cut connection but
        # the one a retried button press may have placed first).
        assert set(placed) <= {c.id for c in checkouts}
        methods = Counter(c.payment_method for c in checkouts)
        assert methods[PaymentMethod.MANUAL] >= 2 and methods[PaymentMethod.COD] >= 1, methods
        # The buyers wanted more than there was: some were refused, and nothing was sold twice.
        assert sum(_stock_accounts(session, initial).values()) == sum(initial.values())

        # 2. The operator confirms two of every three bank transfers (two tabs racing on each), while workers
        # die again.
        manual = [c.id for c in checkouts if c.payment_method == PaymentMethod.MANUAL]
        to_pay = [cid for n, cid in enumerate(manual) if n % 3 != 2]
        session.rollback()  # hold no snapshot while the server writes
        desk = Client(server.port)
        _login(desk, operator)

        def confirm(checkout_id: int) -> Callable[[], object]:
            def job() -> None:
                tab = Client(server.port)
                tab.cookies = dict(desk.cookies)
                try:
                    _assert_no_server_error(tab.request("POST", f"/admin/payments/{checkout_id}/confirm", {}))
                except Disconnected:
                    _assert_no_server_error(tab.retrying("POST", f"/admin/payments/{checkout_id}/confirm", {}))
            return job

        _run_with_kills(server, [confirm(cid) for cid in to_pay for _tab in range(2)], kills=2)

    session.expire_all()
    paid_orders = session.scalars(select(Order).join(Checkout).where(Checkout.id.in_(to_pay))).all()
    assert paid_orders
    ledger = Counter(session.execute(select(LedgerEntry.order_id, LedgerEntry.kind)).all())
    for order in paid_orders:
        assert order.status == OrderStatus.PAID and order.paid_at is not None
        assert [e.to_status for e in order.events].count("paid") == 1
        assert ledger[(order.id, EntryKind.SALE)] == 1
        assert ledger[(order.id, EntryKind.FEE)] == (1 if order.platform_fee else 0)
    assert {order_id for order_id, _kind in ledger} == {o.id for o in paid_orders}
    sales = session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.kind == EntryKind.SALE))
    assert sales == sum(o.goods_total for o in paid_orders)
    _assert_nothing_half_made(session, initial)

    # 3. The rest expires: the expiry runs twice (as two overlapping cron runs would), stock goes back once.
    later = utcnow() + timedelta(days=15)
    waiting = session.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.PENDING_PAYMENT))
    assert waiting
    assert orders.expire_due(session, later) == waiting
    session.commit()
    assert orders.expire_due(session, later) == 0
    session.commit()
    session.expire_all()
    sold = dict(session.execute(select(OrderLine.product_id, func.sum(OrderLine.quantity)).join(Order)
                                .where(Order.status == OrderStatus.PAID).group_by(OrderLine.product_id)).all())
    stock = dict(session.execute(select(Product.id, Product.stock)).all())
    assert {pid: stock[pid] for pid in initial} == {pid: initial[pid] - int(sold.get(pid) or 0) for pid in initial}
    expired_events = session.scalars(select(OrderEvent.order_id).where(OrderEvent.to_status == "expired")).all()
    assert sorted(expired_events) == sorted(set(expired_events)) and len(expired_events) == waiting
    assert time.monotonic() - started < 90, "the fault test should stay well under a minute"
