"""Checkout throughput on PostgreSQL, and no oversell: concurrent buyers placing bank-transfer checkouts
through the real order service (marketplace.orders.services.place_checkout, one transaction each, committed
as the checkout view does) against a few products with a limited stock.

    python -m bench.load.checkout [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
                                  [--procs 8] [--products 4] [--stock 400] [--seconds 30]

`--procs` processes (each one a buyer at a time, like gunicorn workers) take the next unused buyer of the
bench data for every checkout (a buyer may hold only a few unpaid checkouts). The products' stock is set to
`--stock` first. Afterwards: stock left + quantities in this run's orders = the stock set, and no stock is
below zero. Prints orders/s (placed orders over the wall time until the stock ran out or time was up).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from typing import Any

from sqlalchemy import func, select, update

from marketplace.orders.models import Order, OrderLine


def _buyer(database_url: str, buyer_ids: list[int], product_ids: list[int], seconds: float, seed: int,
           ready: Any, results: Any) -> None:
    """One process: once every process is ready, place checkouts until the stock is gone or time is up; puts
    (placed, refused as sold out, other refusals, seconds busy) on `results`."""
    import random

    from marketplace import create_app
    from marketplace.auth.models import User
    from marketplace.common import DomainError
    from marketplace.extensions import db
    from marketplace.orders import services
    from marketplace.orders.services import OutOfStock

    rng = random.Random(seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SEARCH_INDEXER": "off"})
    placed = sold_out = errors = 0
    busy = 0.0
    with app.app_context():
        session = db.session
        session.execute(select(1))  # connected before the start
        ready.wait(timeout=300)
        deadline = time.time() + seconds
        left = set(product_ids)
        for buyer_id in buyer_ids:
            if time.time() >= deadline or not left:
                break
            product_id = rng.choice(sorted(left))
            started = time.perf_counter()
            buyer = session.get(User, buyer_id)
            try:
                services.place_checkout(session, buyer, [(product_id, rng.choice((1, 1, 2, 3)))],  # type: ignore[arg-type]
                                        payment_method="manual", fee_bps=200)
                session.commit()
                placed += 1
            except OutOfStock:
                session.rollback()
                sold_out += 1
                left.discard(product_id)
            except DomainError:
                session.rollback()
                errors += 1
            busy += time.perf_counter() - started
        session.remove()
        db.engine.dispose()
    results.put((placed, sold_out, errors, busy))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.checkout", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--products", type=int, default=4)
    parser.add_argument("--stock", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("the checkout benchmark is for PostgreSQL")

    from marketplace import create_app
    from marketplace.auth.models import User
    from marketplace.catalog.models import Kube, Product, ProductStatus
    from marketplace.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SEARCH_INDEXER": "off"})
    with app.app_context():
        session = db.session
        products = list(session.scalars(
            select(Product.id).join(Product.kube)
            .where(Product.status == ProductStatus.PUBLISHED, Kube.status.in_(("active", "verified")),
                   Product.min_order_qty == 1, Kube.pickup_enabled.is_(True))
            .order_by(Product.id).limit(args.products)))
        session.execute(update(Product).where(Product.id.in_(products)).values(stock=args.stock))
        first_order = (session.scalar(select(func.max(Order.id))) or 0) + 1
        # Buyers without unpaid checkouts: from the newest generated buyers back (earlier runs used others).
        buyers: list[int] = list(session.scalars(
            select(User.id).where(User.email.like("pembeli.%"), ~select(Order.id).where(
                Order.buyer_id == User.id, Order.status == "pending_payment").exists())
            .order_by(User.id.desc()).limit(args.procs * 2_000)))
        session.commit()
    share = [buyers[i::args.procs] for i in range(args.procs)]
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(args.procs + 1)
    queue = context.Queue()
    procs = [context.Process(target=_buyer, args=(args.database_url, share[i], products, args.seconds, i, ready,
                                                  queue)) for i in range(args.procs)]
    for proc in procs:
        proc.start()
    ready.wait(timeout=300)  # every process has its app and a connection: the clock starts now
    started = time.perf_counter()
    results: list[Any] = [queue.get(timeout=args.seconds + 300) for _ in procs]
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
    placed = sum(r[0] for r in results)
    busy = max(r[3] for r in results)
    with app.app_context():
        session = db.session
        stock = dict(session.execute(select(Product.id, Product.stock).where(Product.id.in_(products))).all())
        taken = dict(session.execute(
            select(OrderLine.product_id, func.sum(OrderLine.quantity)).join(OrderLine.order)
            .where(Order.id >= first_order, OrderLine.product_id.in_(products)).group_by(OrderLine.product_id)
        ).all())
        orders = session.scalar(select(func.count(Order.id)).where(Order.id >= first_order)) or 0
        db.engine.dispose()
    balanced = all(stock[p] + int(taken.get(p, 0)) == args.stock for p in products)
    print(f"{args.procs} concurrent buyers, {len(products)} products x stock {args.stock}")
    print(f"orders placed: {placed} ({orders} in the database), refused as sold out: {sum(r[1] for r in results)}, "
          f"other refusals: {sum(r[2] for r in results)}")
    print(f"stock left: {stock}; sold: {({p: int(taken.get(p, 0)) for p in products})}")
    print(f"stock + sold = stock set for every product: {balanced}; negative stock: "
          f"{any(v < 0 for v in stock.values())}")
    print(f"{placed / max(elapsed, 1e-9):.0f} orders/s ({placed} orders in {elapsed:.1f} s from the common start "
          f"until the last buyer stopped; the busiest process worked {busy:.1f} s)")
    return 0 if balanced and placed == orders and min(stock.values()) >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
