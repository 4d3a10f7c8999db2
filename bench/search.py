"""Whoosh and SQLite FTS5 on the same synthetic KUBE catalogue: build time, query time, and whether they agree.

    python -m bench.search [--products 100000] [--kubes 2000] [--repeat 3] [--procs 2]

Both backends get the very same documents and the same Indonesian analysis (Sastrawi's stem cache is
emptied before each build, so neither inherits the other's warm cache). Every timed query is one
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

from bench.catalogue import KINDS, generate, query_mix
from marketplace.search import analysis
from marketplace.search.backend import SearchBackend, SearchDoc, SearchHits, SearchQuery
from marketplace.search.fts5_backend import Fts5Backend
from marketplace.search.whoosh_backend import WhooshBackend


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


def _build(backend: WhooshBackend | Fts5Backend, docs: Sequence[SearchDoc]) -> float:
    analysis.stem.cache_clear()  # both builds pay for stemming: the second must not reuse the first's cache
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


def _size_mb(path: Path) -> float:
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
    args = parser.parse_args(argv)

    # One-time costs (loading Sastrawi's dictionary, the region names) are not part of either build.
    analysis.analyse("pengolahan kelapa Banggai")
    started = time.perf_counter()
    docs = list(generate(args.products, args.kubes))
    generate_s = time.perf_counter() - started
    queries = query_mix()
    print(f"catalogue: {len(docs):,} products in {generate_s:.1f} s; {len(queries)} queries", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        whoosh_backend = WhooshBackend(Path(tmp) / "whoosh", build_procs=args.procs)
        fts_backend = Fts5Backend(Path(tmp) / "fts5")
        print("building the Whoosh index...", file=sys.stderr)
        whoosh_s = _build(whoosh_backend, docs)
        print("building the FTS5 index...", file=sys.stderr)
        fts_s = _build(fts_backend, docs)
        analyse_s = _analysis_time(docs)
        count = len(docs)
        docs.clear()  # the queries do not need them
        backends: dict[str, SearchBackend] = {"whoosh": whoosh_backend, "fts5": fts_backend}

        # First round, on empty caches (each backend loads its columns, postings...), doubling as the
        # agreement check.
        print("querying...", file=sys.stderr)
        first: dict[tuple[str, str], list[float]] = {}
        same_counts = dict.fromkeys(KINDS, 0)
        same_page = dict.fromkeys(KINDS, 0)
        per_kind = dict.fromkeys(KINDS, 0)
        for kind, query in queries:
            results: list[SearchHits] = []
            for name, backend in backends.items():
                start = time.perf_counter()
                results.append(_run(backend, kind, query))
                first.setdefault((name, kind), []).append(time.perf_counter() - start)
            per_kind[kind] += 1
            same_counts[kind] += _same_counts(results[0], results[1])
            same_page[kind] += results[0].product_ids == results[1].product_ids

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
        print("| median / p95 ms | Whoosh + Sastrawi | SQLite FTS5 + Sastrawi | same total + facets | same page |")
        print("|---|---|---|---|---|")
        print(f"| index build | {whoosh_s:.1f} s ({count / whoosh_s:,.0f} docs/s) | "
              f"{fts_s:.1f} s ({count / fts_s:,.0f} docs/s) | | |")
        print(f"| index size | {_size_mb(Path(tmp) / 'whoosh'):.0f} MB | {_size_mb(Path(tmp) / 'fts5'):.0f} MB | | |")
        for kind in KINDS:
            label = {"typo": "typo: search + correct + search",
                     "broad": "broad: all products, or words in 25-55 %"}.get(kind, kind.replace("_", " "))
            print(f"| {label} | {_ms(timings['whoosh', kind])} | {_ms(timings['fts5', kind])} | "
                  f"{same_counts[kind]}/{per_kind[kind]} | {same_page[kind]}/{per_kind[kind]} |")
        every = {name: [t for (n, _k), ts in timings.items() if n == name for t in ts] for name in backends}
        cold = {name: [t for (n, _k), ts in first.items() if n == name for t in ts] for name in backends}
        print(f"| all kinds | {_ms(every['whoosh'])} | {_ms(every['fts5'])} | "
              f"{sum(same_counts.values())}/{len(queries)} | {sum(same_page.values())}/{len(queries)} |")
        print(f"| all kinds, first round (empty caches) | {_ms(cold['whoosh'])} | {_ms(cold['fts5'])} | | |")
        print(f"\nEach query is one `search()`: page 1 of 20, the exact total and the category, province, KUBE, "
              f"price and stock facets. Sastrawi alone (cold stem cache) takes {analyse_s:.1f} s of each build. "
              f"Whoosh build processes: {args.procs}; the FTS5 build runs in one. Both rank by the same BM25F "
              f"scores with equal scores in product-id order, so their pages should agree; the last two columns "
              f"count the queries where they do.")
        print(f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
              f"{os.cpu_count()} CPUs, SQLite {sqlite3.sqlite_version}, whoosh-reloaded {whoosh.versionstring()}, "
              f"numpy {np.__version__}; peak memory {rss_mb:,.0f} MB.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
