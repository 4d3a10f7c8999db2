"""The single writer: drains the search outbox into the index, and rebuilds it.

Only the holder of an exclusive file lock next to the index writes, so several gunicorn workers (each with
an indexer thread) or a separate `flask search indexer` process never meet Whoosh's writer lock. Each batch
re-reads the current rows, so the order of changes does not matter and re-applying a batch is harmless:
the outbox rows are deleted only after the index commit, and a crash in between just applies them again.

Like a CLI command, this module commits its own transactions (it runs outside any request).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from marketplace.search import documents
from marketplace.search.backend import SearchBackend
from marketplace.search.models import SearchOutbox

log = logging.getLogger(__name__)

BATCH = 1000


@contextmanager
def writer_lock(path: Path, *, wait: bool = False) -> Iterator[bool]:
    """Hold the indexer lock; yields False at once when another process holds it (unless `wait`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def drain_batch(session: Session, backend: SearchBackend, batch: int = BATCH) -> int:
    """Apply up to `batch` outbox rows to the index; returns how many were applied."""
    rows = session.execute(
        select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.ref_id).order_by(SearchOutbox.id).limit(batch)
    ).all()
    if not rows:
        session.rollback()
        return 0
    product_ids = {r.ref_id for r in rows if r.kind == "product"}
    product_ids |= documents.product_ids_of(
        session,
        kube_ids=[r.ref_id for r in rows if r.kind == "kube"],
        category_ids=[r.ref_id for r in rows if r.kind == "category"],
    )
    docs, removed = documents.load(session, product_ids)
    backend.apply(docs, removed)
    session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in rows])))
    session.commit()
    return len(rows)


def drain(session: Session, backend: SearchBackend, batch: int = BATCH) -> int:
    """Apply the whole outbox; returns the number of rows applied."""
    total = 0
    while applied := drain_batch(session, backend, batch):
        total += applied
    return total


def rebuild(session: Session, backend: SearchBackend) -> int:
    """Rebuild the index from the database into a fresh directory and swap it in."""
    # Changes recorded before we start reading are in the rebuilt index; later ones are drained after.
    high = session.scalar(select(func.max(SearchOutbox.id))) or 0
    session.commit()
    count = backend.rebuild(documents.all_docs(session))
    session.execute(delete(SearchOutbox).where(SearchOutbox.id <= high))
    session.commit()
    return count


def pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SearchOutbox)) or 0


SessionScope = Callable[[], AbstractContextManager[Session]]


class Indexer:
    """Keeps one process's view of the index in step; at most one process writes at a time."""

    def __init__(self, backend: SearchBackend, session_scope: SessionScope, lock_path: Path,
                 interval: float = 0.5) -> None:
        self.backend = backend
        self.session_scope = session_scope
        self.lock_path = lock_path
        self.interval = interval
        self._broken = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def mark_broken(self) -> None:
        """A search failed on the index: rebuild it on the next round (and wake the thread)."""
        self._broken.set()
        self._wake.set()

    def run_once(self, *, wait: bool = False) -> int:
        """Rebuild if needed, then drain the outbox; 0 when another process holds the lock."""
        with writer_lock(self.lock_path, wait=wait) as mine:
            if not mine:
                return 0
            with self.session_scope() as session:
                if not self._broken.is_set():
                    try:
                        self.backend.check()
                    except Exception:
                        self._broken.set()
                if self._broken.is_set():
                    log.warning("search index missing or unreadable: rebuilding it from the database")
                    count = rebuild(session, self.backend)
                    self._broken.clear()
                    log.warning("search index rebuilt with %d products", count)
                return drain(session, self.backend)

    def start(self) -> None:
        """Start the background thread in this process (again after a fork)."""
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="search-indexer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("search indexer round failed; retrying")
            self._wake.wait(self.interval)
            self._wake.clear()
