"""flask search reindex | drain | indexer | status."""

from __future__ import annotations

import contextlib
import time

import click
from flask import current_app
from flask.cli import AppGroup

from marketplace.search import indexer, services
from marketplace.search.runtime import index_root, make_backend, runtime
from marketplace.web import db_session

search_cli = AppGroup("search", help="The product search index.")


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the index from the database into a fresh directory and swap it in."""
    rt = runtime()
    # A full build may use several processes (MARKETPLACE_SEARCH_BUILD_PROCS); the app's own indexer thread
    # rebuilds in one, since forking a serving process with threads is asking for trouble.
    config = current_app.config
    builder = make_backend(config["SEARCH_BACKEND"], index_root(config), config["SEARCH_BUILD_PROCS"],
                           engine=getattr(rt.backend, "engine", None))
    started = time.perf_counter()
    with rt.indexer.coordination.writer(wait=True):
        count = indexer.rebuild(db_session(), builder)
        rt.indexer.coordination.clear_rebuild()
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
    with contextlib.suppress(KeyboardInterrupt):
        rt.indexer.run_forever()


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




@search_cli.command("purge-log")
@click.option("--days", type=click.IntRange(1, 100_000), default=services.LOG_DAYS, show_default=True)
def purge_log(days: int) -> None:
    """Delete search log rows older than DAYS (run daily from cron)."""
    deleted = services.purge_log(db_session(), days)
    db_session().commit()
    click.echo(f"Deleted {deleted} search log rows older than {days} days.")
