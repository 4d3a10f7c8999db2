"""How long a committed change takes to become searchable in a running app (its indexer thread).

    python -m bench.freshness [--changes 20] [--interval 0.5] [--products 2000]

Makes a temporary SQLite database with a KUBE and `--products` products, starts the app's indexer thread
(as the first request of a process does), then renames one product at a time and polls the search API
until the new name is found. Prints the median and worst delay from COMMIT to searchable.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from marketplace import create_app
from marketplace.catalog.models import BusinessKind, Category, Kube, KubeStatus, Product, ProductStatus, Unit
from marketplace.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="indexer polling interval, seconds")
    parser.add_argument("--products", type=int, default=2000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="freshness-"))
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'db.sqlite3'}", "SEARCH_DIR": str(tmp / "search"),
        "MEDIA_ROOT": str(tmp / "media"), "SEARCH_INDEXER": "thread", "SEARCH_INTERVAL": args.interval,
        "SECRET_KEY": "bench-only-secret-key",
    })
    with app.app_context():
        db.create_all()
        category = Category(slug="oils", name_id="Minyak", name_en="Oils")
        kube = Kube(name="KUBE Nyiur", slug="kube-nyiur", province_code="72", regency_code="72.01",
                    district_code="72.01.01", village_code="72.01.01.1006", business_kind=BusinessKind.PRODUCTION,
                    status=KubeStatus.ACTIVE)
        db.session.add_all([category, kube])
        db.session.flush()
        products = [Product(kube_id=kube.id, category_id=category.id, name=f"Minyak Kelapa {i}", slug=f"m-{i}",
                            unit=Unit.LITER, price=20_000 + i, stock=5, status=ProductStatus.PUBLISHED)
                    for i in range(args.products)]
        db.session.add_all(products)
        db.session.commit()
        client = app.test_client()
        client.get("/")  # starts the indexer thread, which builds the index
        while client.get("/api/v1/search?q=minyak").get_json()["degraded"]:
            time.sleep(0.05)
        delays = []
        for n in range(args.changes):
            word = f"segarbaru{n}x"
            product = db.session.get(Product, products[n * 7 % len(products)].id)
            assert product is not None
            product.name = f"Minyak {word}"
            db.session.commit()
            committed = time.perf_counter()
            while client.get(f"/api/v1/search?q={word}").get_json()["total"] == 0:
                time.sleep(0.01)
            delays.append(time.perf_counter() - committed)
        app.extensions["search"].indexer.stop()
    delays.sort()
    print(f"{args.changes} changes, {args.products} products, indexer interval {args.interval} s: "
          f"commit -> searchable median {statistics.median(delays) * 1000:.0f} ms, "
          f"worst {delays[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
