"""The load benchmark: gunicorn serving the app on the large dataset (bench.data) in PostgreSQL, locust in a
second process on loopback, then the same for a bare Flask app (the ceiling).

    python -m bench.load.run [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
                             [--users 30] [--time 60] [--workers N] [--worker-class sync|gthread]

Three measurements, each against a fresh gunicorn:
1. the mix (bench/load/locustfile.py: browsing, search, products, KUBEs, cart, checkout by bank transfer,
   officers' dashboards) with think time, `--users` users for `--time` seconds: requests/s, p50/p95/p99 per page;
2. saturation: catalogue pages, product pages and the bare Flask page, each asked for without think time by
   `--saturate-users` users: the most requests/s the set-up gives, and the ratio to the bare page.

The app runs as in production (MARKETPLACE_ENV=production, a random secret key) with two honest exceptions
for a plain-http loopback run: cookies are not marked Secure (MARKETPLACE_SESSION_COOKIE_SECURE=0), and rate
limits are off (MARKETPLACE_RATELIMIT_ENABLED=0) since every simulated user comes from 127.0.0.1.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PAGES = ("home", "catalogue", "search", "product", "kube", "cart add", "login", "checkout form", "checkout",
         "dashboard", "kube orders")


def targets(database_url: str) -> dict[str, Any]:
    """Ids, slugs and sign-ins the locust users pick from, read from the bench database."""
    engine = create_engine(database_url)
    public = "k.status IN ('active', 'verified')"
    with engine.connect() as conn:
        products = [dict(id=r[0], slug=r[1]) for r in conn.execute(text(
            f"SELECT p.id, p.slug FROM products p JOIN kubes k ON k.id = p.kube_id "  # noqa: S608 - fixed text
            f"WHERE p.status = 'published' AND {public} ORDER BY p.id"))][::7][:8000]
        stocked = [dict(id=r[0], slug=r[1], min_qty=r[2]) for r in conn.execute(text(
            f"SELECT p.id, p.slug, p.min_order_qty FROM products p JOIN kubes k ON k.id = p.kube_id "  # noqa: S608
            f"WHERE p.status = 'published' AND {public} AND p.stock >= 200 AND p.price <= 200000 ORDER BY p.id"))]
        kubes = [r[0] for r in conn.execute(text(f"SELECT k.slug FROM kubes k WHERE {public} ORDER BY k.id"))]  # noqa: S608
        ketuas = [[r[0], r[1]] for r in conn.execute(text(
            f"SELECT u.email, k.slug FROM kubes k JOIN kube_members m ON m.kube_id = k.id "  # noqa: S608
            f"JOIN users u ON u.id = m.user_id WHERE m.role = 'ketua' AND {public} ORDER BY k.id"))]
        # Buyers with no unpaid checkout (a buyer may hold only a few), in a new order each run.
        buyers = [r[0] for r in conn.execute(text(
            "SELECT u.email FROM users u WHERE u.email LIKE 'pembeli.%' AND NOT EXISTS (SELECT 1 FROM orders o "
            "WHERE o.buyer_id = u.id AND o.status = 'pending_payment') ORDER BY u.id"))]
        random.shuffle(buyers)
        provinces = [r[0] for r in conn.execute(text("SELECT DISTINCT province_code FROM kubes ORDER BY 1"))]
    engine.dispose()
    return dict(products=products, stocked=stocked, kubes=kubes, ketuas=ketuas, buyers=buyers, provinces=provinces)


def serve(app: str, env: dict[str, str], args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [str(BIN / "gunicorn"), "--workers", str(args.workers), "--worker-class", args.worker_class,
               "--bind", f"127.0.0.1:{args.port}", "--timeout", "60", "--log-level", "warning", app]
    if args.worker_class == "gthread":
        command[1:1] = ["--threads", str(args.threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own gunicorn, fixed arguments
    deadline = time.monotonic() + 60
    path = "/healthz" if "marketplace" in app else "/"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}{path}", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer on port {args.port}")


def swarm(mode: str, users: int, seconds: int, env: dict[str, str], args: argparse.Namespace,
          workdir: Path) -> dict[str, dict[str, float]]:
    """Run locust headless against the server; per request name: requests/s, failures, p50/p95/p99 (ms)."""
    prefix = workdir / mode
    subprocess.run([str(BIN / "locust"), "-f", str(ROOT / "bench" / "load" / "locustfile.py"), "--headless",  # noqa: S603
                    "--users", str(users), "--spawn-rate", str(max(1, users // 5)), "--run-time", f"{seconds}s",
                    "--host", f"http://127.0.0.1:{args.port}", "--csv", str(prefix), "--only-summary",
                    "--loglevel", "WARNING", "--stop-timeout", "5"],
                   cwd=ROOT, env=dict(env, BENCH_LOAD_MODE=mode), check=False)
    out: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            out[row["Name"]] = {"requests": float(row["Request Count"]), "failures": float(row["Failure Count"]),
                                "rps": float(row["Requests/s"]), "p50": float(row["50%"]),
                                "p95": float(row["95%"]), "p99": float(row["99%"])}
    return out


def table(title: str, stats: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'page':<15}{'requests':>9}{'fail':>6}{'req/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
    for name in [*PAGES, *sorted(set(stats) - set(PAGES) - {"Aggregated"}), "Aggregated"]:
        if name in stats:
            s = stats[name]
            print(f"{name:<15}{s['requests']:>9.0f}{s['failures']:>6.0f}{s['rps']:>9.1f}{s['p50']:>8.0f}"
                  f"{s['p95']:>8.0f}{s['p99']:>8.0f}")


def main(argv: list[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m bench.load.run", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--search-dir", default="instance/bench-search", help="the index bench.data built")
    parser.add_argument("--users", type=int, default=30, help="users of the mix (with think time)")
    parser.add_argument("--saturate-users", type=int, default=16, help="users without think time")
    parser.add_argument("--time", type=int, default=60, help="seconds of the mix")
    parser.add_argument("--saturate-time", type=int, default=30, help="seconds of each saturation run")
    parser.add_argument("--workers", type=int, default=2 * cores + 1)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread)")
    parser.add_argument("--port", type=int, default=8377)
    parser.add_argument("--skip-mix", action="store_true")
    parser.add_argument("--skip-saturation", action="store_true", help="the mix only")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="pasarkube-load-"))
    (workdir / "targets.json").write_text(json.dumps(targets(args.database_url)), encoding="utf-8")
    env = dict(os.environ, MARKETPLACE_ENV="production", MARKETPLACE_SECRET_KEY=secrets.token_hex(32),
               MARKETPLACE_BASE_URL=f"http://127.0.0.1:{args.port}",
               MARKETPLACE_MAIL_DIR=str(workdir / "mail"),
               MARKETPLACE_SESSION_COOKIE_SECURE="0", MARKETPLACE_RATELIMIT_ENABLED="0",
               MARKETPLACE_DATABASE_URL=args.database_url, MARKETPLACE_SEARCH_DIR=str(ROOT / args.search_dir),
               BENCH_LOAD_TARGETS=str(workdir / "targets.json"), PYTHONPATH=str(ROOT))
    print(f"gunicorn: {args.workers} {args.worker_class} workers"
          f"{f' x {args.threads} threads' if args.worker_class == 'gthread' else ''} on {cores} cores; "
          f"locust on the same machine")
    results: dict[str, dict[str, dict[str, float]]] = {}
    server = serve("marketplace:create_app()", env, args)
    try:
        if not args.skip_mix:
            results["mix"] = swarm("mix", args.users, args.time, env, args, workdir)
            table(f"Mix: {args.users} users with 0.5-2 s think time, {args.time} s", results["mix"])
        for mode in () if args.skip_saturation else ("catalogue", "product"):
            results[mode] = swarm(mode, args.saturate_users, args.saturate_time, env, args, workdir)
            table(f"Saturation, {mode}: {args.saturate_users} users, no think time, {args.saturate_time} s",
                  results[mode])
    finally:
        server.terminate()
        server.wait(30)
    if args.skip_saturation:
        return 0
    server = serve("bench.load.hello:app", env, args)
    try:
        results["hello"] = swarm("hello", args.saturate_users, args.saturate_time, env, args, workdir)
        table(f"Saturation, bare Flask: {args.saturate_users} users, no think time, {args.saturate_time} s",
              results["hello"])
    finally:
        server.terminate()
        server.wait(30)
    hello = results["hello"]["hello"]["rps"]
    print()
    for mode in ("catalogue", "product"):
        rps = results[mode][mode]["rps"]
        print(f"{mode}: {rps:.1f} req/s = {100 * rps / hello:.0f} % of bare Flask ({hello:.1f} req/s); target >= 40 %")
    (workdir / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"(raw figures in {workdir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
