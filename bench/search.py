"""Whoosh, SQLite FTS5 and PostgreSQL full-text on the same synthetic KUBE catalogue: build time, query time,
and whether they agree.

    python -m bench.search [--products 100000] [--kubes 2000] [--repeat 3] [--procs 2]
        [--backends whoosh,fts5,postgres] [--database-url postgresql+psycopg://...]

Every backend gets the very same documents and the same Indonesian analysis (Sastrawi's stem cache is
emptied before each build, so none inherits another's warm cache). The PostgreSQL backend needs a database
(--database-url, or MARKETPLACE_BENCH_DATABASE_URL): it builds its tables there under a prefix of its own
and drops them afterwards. Every timed query is one
`search()` call, which always returns page 1, the exact total and all the facet counts; the "typo" kind is
`search()` + `correct()` + `search()` of the corrected text, as the service does when a query finds little.
Prints a Markdown table (figures for the README).
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import whoosh
from sqlalchemy import create_engine
from sqlalchemy import text as sql

from bench.catalogue import KINDS, generate, query_mix
from marketplace.search import analysis
from marketplace.search.backend import SearchBackend, SearchDoc, SearchHits, SearchQuery
from marketplace.search.fts5_backend import Fts5Backend
from marketplace.search.pg_backend import PostgresBackend
from marketplace.search.whoosh_backend import WhooshBackend

LABELS = {"whoosh": "Whoosh + Sastrawi", "fts5": "SQLite FTS5 + Sastrawi", "postgres": "PostgreSQL FTS + Sastrawi"}


def _run(backend: SearchBackend, kind: str, query: SearchQuery) -> SearchHits:
    hits = backend.search(query)
    if kind == "typo":
        fixed = backend.correct(query.text)
        if fixed:
            hits = backend.search(replace(query, text=fixed))
    return hits


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _build(backend: SearchBackend, docs: Sequence[SearchDoc]) -> float:
    analysis.stem.cache_clear()  # every build pay for stemming: the second must not reuse the first's cache
    return _timed(lambda: backend.rebuild(docs))


def _analysis_time(docs: Sequence[SearchDoc]) -> float:
    """Seconds to analyse every text field of `docs` with a cold stem cache: the share of a build that is
    Sastrawi's, whichever backend."""
    analysis.stem.cache_clear()
    start = time.perf_counter()
    for d in docs:
        for text in (d.name, d.description, d.kube_name, d.category_names, d.region_names):
            analysis.analyse(text)
    return time.perf_counter() - start


def _size_mb(backend: SearchBackend, path: Path) -> float:
    if isinstance(backend, PostgresBackend):
        with backend.engine.connect() as conn:
            size = conn.scalar(sql("SELECT pg_total_relation_size(CAST(:d AS regclass)) + "
                                    "pg_total_relation_size(CAST(:w AS regclass))"),
                               {"d": backend.documents, "w": backend.words})
        return int(size or 0) / 1e6
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _ms(values: Sequence[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} / {_percentile(values, 0.95) * 1000:.1f}"


def _same_counts(a: SearchHits, b: SearchHits) -> bool:
    return (a.total, a.facets, a.terms) == (b.total, b.facets, b.terms)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--kubes", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds over the query mix")
    parser.add_argument("--procs", type=int, default=2,
                        help="processes for the Whoosh build (the app's default, MARKETPLACE_SEARCH_BUILD_PROCS)")
    parser.add_argument("--backends", default="whoosh,fts5",
                        help="comma-separated, the first is the reference for the agreement columns")
    parser.add_argument("--database-url", default=os.environ.get("MARKETPLACE_BENCH_DATABASE_URL", ""),
                        help="PostgreSQL database for the postgres backend")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    if not names or any(n not in LABELS for n in names) or len(set(names)) != len(names):
        parser.error(f"--backends takes distinct names among {', '.join(LABELS)}")
    if "postgres" in names and not args.database_url.startswith("postgresql"):
        parser.error("the postgres backend needs --database-url postgresql+psycopg://...")

    # One-time costs (loading Sastrawi's dictionary, the region names) are not part of either build.
    analysis.analyse("pengolahan kelapa Banggai")
    started = time.perf_counter()
    docs = list(generate(args.products, args.kubes))
    generate_s = time.perf_counter() - started
    queries = query_mix()
    print(f"catalogue: {len(docs):,} products in {generate_s:.1f} s; {len(queries)} queries", file=sys.stderr)

    engine = create_engine(args.database_url) if "postgres" in names else None
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        backends: dict[str, SearchBackend] = {}
        for name in names:
            if name == "whoosh":
                backends[name] = WhooshBackend(Path(tmp) / "whoosh", build_procs=args.procs)
            elif name == "fts5":
                backends[name] = Fts5Backend(Path(tmp) / "fts5")
            else:
                assert engine is not None
                backends[name] = PostgresBackend(engine, prefix=f"bench_search_{os.getpid()}")
        try:
            return _measure(args, backends, docs, queries, Path(tmp))
        finally:
            for backend in backends.values():
                if isinstance(backend, PostgresBackend):
                    backend.drop()
            if engine is not None:
                engine.dispose()


def _measure(args: argparse.Namespace, backends: dict[str, SearchBackend], docs: list[SearchDoc],
             queries: list[tuple[str, SearchQuery]], tmp: Path) -> int:
    build_s: dict[str, float] = {}
    for name, backend in backends.items():
        print(f"building the {name} index...", file=sys.stderr)
        build_s[name] = _build(backend, docs)
    analyse_s = _analysis_time(docs)
    count = len(docs)
    docs.clear()  # the queries do not need them
    names = list(backends)
    others = names[1:]  # compared with the first

    # First round, on empty caches (each backend loads its columns, postings...), doubling as the
    # agreement check.
    print("querying...", file=sys.stderr)
    first: dict[tuple[str, str], list[float]] = {}
    same_counts = {(name, kind): 0 for name in others for kind in KINDS}
    same_page = {(name, kind): 0 for name in others for kind in KINDS}
    per_kind = dict.fromkeys(KINDS, 0)
    for kind, query in queries:
        results: dict[str, SearchHits] = {}
        for name, backend in backends.items():
            start = time.perf_counter()
            results[name] = _run(backend, kind, query)
            first.setdefault((name, kind), []).append(time.perf_counter() - start)
        per_kind[kind] += 1
        for name in others:
            same_counts[name, kind] += _same_counts(results[names[0]], results[name])
            same_page[name, kind] += results[names[0]].product_ids == results[name].product_ids

    # Warm rounds. The backends take turns query by query, so that a busy moment on the machine does
    # not land on one of them only.
    timings: dict[tuple[str, str], list[float]] = {}
    order = list(backends.items())
    for _ in range(args.repeat):
        for kind, query in queries:
            order.reverse()
            for name, backend in order:
                seconds = _timed(functools.partial(_run, backend, kind, query))
                timings.setdefault((name, kind), []).append(seconds)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n### Search: {count:,} products, {args.kubes:,} KUBEs, {len(queries)} queries x {args.repeat} "
          f"rounds, warm, one process\n")
    agree = [f"{title} ({name})" for name in others for title in ("same total + facets", "same page")]
    print("| median / p95 ms | " + " | ".join([LABELS[n] for n in names] + agree) + " |")
    print("|---" * (1 + len(names) + len(agree)) + "|")
    blank = " |" * len(agree)
    print("| index build | " + " | ".join(f"{build_s[n]:.1f} s ({count / build_s[n]:,.0f} docs/s)" for n in names)
          + f" |{blank}")
    print("| index size | " + " | ".join(f"{_size_mb(backends[n], tmp / n):.0f} MB" for n in names) + f" |{blank}")
    for kind in KINDS:
        label = {"typo": "typo: search + correct + search",
                 "broad": "broad: all products, or words in 25-55 %"}.get(kind, kind.replace("_", " "))
        counts = [f"{same[n, kind]}/{per_kind[kind]}" for n in others for same in (same_counts, same_page)]
        print(f"| {label} | " + " | ".join([_ms(timings[n, kind]) for n in names] + counts) + " |")
    every = {name: [t for (n, _k), ts in timings.items() if n == name for t in ts] for name in names}
    cold = {name: [t for (n, _k), ts in first.items() if n == name for t in ts] for name in names}
    totals = [f"{sum(same[n, k] for k in KINDS)}/{len(queries)}" for n in others for same in (same_counts, same_page)]
    print("| all kinds | " + " | ".join([_ms(every[n]) for n in names] + totals) + " |")
    print("| all kinds, first round (empty caches) | " + " | ".join(_ms(cold[n]) for n in names) + f" |{blank}")
    print(f"\nEach query is one `search()`: page 1 of 20, the exact total and the category, province, KUBE, "
          f"price and stock facets. Sastrawi alone (cold stem cache) takes {analyse_s:.1f} s of each build. "
          f"Whoosh build processes: {args.procs}; the others build in one. Whoosh and FTS5 rank by the same "
          f"BM25F scores, PostgreSQL by ts_rank_cd (so its pages differ where scores do); equal scores go in "
          f"product-id order. The agreement columns count the queries where a backend matches the first.")
    versions = ""
    if any(isinstance(b, PostgresBackend) for b in backends.values()):
        pg = next(b for b in backends.values() if isinstance(b, PostgresBackend))
        with pg.engine.connect() as conn:
            versions = f", PostgreSQL {conn.scalar(sql('SHOW server_version'))}"
    print(f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
          f"{os.cpu_count()} CPUs, SQLite {sqlite3.sqlite_version}, whoosh-reloaded {whoosh.versionstring()}, "
          f"numpy {np.__version__}{versions}; peak memory {rss_mb:,.0f} MB.")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
