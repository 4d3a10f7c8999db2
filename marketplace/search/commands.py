"""flask search reindex | drain | indexer | status."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from marketplace.search import indexer
from marketplace.search.runtime import runtime
from marketplace.web import db_session

search_cli = AppGroup("search", help="The product search index.")


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the index from the database into a fresh directory and swap it in."""
    rt = runtime()
    started = time.perf_counter()
    with indexer.writer_lock(rt.indexer.lock_path, wait=True):
        count = indexer.rebuild(db_session(), rt.backend)
        drained = indexer.drain(db_session(), rt.backend)
    elapsed = time.perf_counter() - started
    click.echo(f"Indexed {count} products in {elapsed:.1f} s ({rt.backend.name}); {drained} later changes applied.")


@search_cli.command("drain")
def drain() -> None:
    """Apply the pending changes once (rebuilding first when the index is missing or broken)."""
    rt = runtime()
    applied = rt.indexer.run_once(wait=True)
    click.echo(f"Search index ready: {rt.backend.doc_count()} products; {applied} pending changes applied.")


@search_cli.command("indexer")
def run_indexer() -> None:
    """Keep the index in step until stopped (for set-ups with MARKETPLACE_SEARCH_INDEXER=off)."""
    rt = runtime()
    click.echo(f"Search indexer running every {rt.indexer.interval} s; Ctrl+C stops it.")
    try:
        while True:
            rt.indexer.run_once()
            time.sleep(rt.indexer.interval)
    except KeyboardInterrupt:
        pass


@search_cli.command("status")
def status() -> None:
    """How many products are indexed and how many changes are waiting."""
    rt = runtime()
    try:
        count: int | str = rt.backend.doc_count()
    except Exception as exc:
        count = f"unreadable ({exc})"
    click.echo(f"backend: {rt.backend.name}\nindexed products: {count}\n"
               f"pending changes: {indexer.pending(db_session())}")


