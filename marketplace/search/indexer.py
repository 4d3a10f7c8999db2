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
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from marketplace.search import documents
from marketplace.search.backend import IndexUnavailable, SearchBackend
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
    # The outbox rows visible now are reflected in what we are about to read; only those are deleted after.
    # (Not "every id up to the highest": on PostgreSQL a transaction still open may hold a lower id, and its
    # change, committed after we read its product, must still be drained.)
    seen = list(session.scalars(select(SearchOutbox.id)))
    session.commit()
    count = backend.rebuild(documents.all_docs(session))
    for start in range(0, len(seen), 1000):
        session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(seen[start:start + 1000])))
    session.commit()
    return count


def pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SearchOutbox)) or 0


SessionScope = Callable[[], AbstractContextManager[Session]]


class Coordination(Protocol):
    """Who may write the index, and how a failed search anywhere asks the writer for a rebuild."""

    def writer(self, *, wait: bool = False) -> AbstractContextManager[bool]:
        """Hold the writer lock; yields False at once when another process holds it (unless `wait`)."""
        ...

    def ask_rebuild(self) -> None: ...

    def rebuild_asked(self, pause: float) -> bool:
        """A rebuild was asked for (`pause`: the least time between rebuilds, where the writers share it)."""
        ...

    def clear_rebuild(self) -> None: ...


class LocalCoordination:
    """The processes of one host: a lock file next to the index, and a REBUILD marker file beside it."""

    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        self.marker = lock_path.with_name("REBUILD")

    def writer(self, *, wait: bool = False) -> AbstractContextManager[bool]:
        return writer_lock(self.lock_path, wait=wait)

    def ask_rebuild(self) -> None:
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        self.marker.touch()

    def rebuild_asked(self, pause: float) -> bool:
        return self.marker.exists()

    def clear_rebuild(self) -> None:
        self.marker.unlink(missing_ok=True)


class Indexer:
    """Keeps the index in step; at most one process writes at a time (the holder of the lock).

    A failed search anywhere asks for a rebuild by leaving a marker file next to the lock, so the process
    that holds the lock (maybe a separate `flask search indexer`) sees it. Rebuilds asked for by searches
    are at most one per REBUILD_PAUSE seconds, so a bug that is not the index cannot keep it rebuilding.
    A backend shared by several hosts (PostgreSQL) brings its own `coordination` instead of the files."""

    REBUILD_PAUSE = 60.0

    def __init__(self, backend: SearchBackend, session_scope: SessionScope, lock_path: Path,
                 interval: float = 0.5, coordination: Coordination | None = None) -> None:
        self.backend = backend
        self.session_scope = session_scope
        self.lock_path = lock_path
        self.marker = lock_path.with_name("REBUILD")
        self.coordination: Coordination = coordination or LocalCoordination(lock_path)
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._last_rebuild = -self.REBUILD_PAUSE

    def mark_broken(self) -> None:
        """The index failed a search: rebuild it on the next round of whichever process writes."""
        try:
            self.coordination.ask_rebuild()
        except Exception:
            log.exception("cannot ask for a search index rebuild")
        self._wake.set()

    def _needs_rebuild(self) -> bool:
        if (time.monotonic() - self._last_rebuild >= self.REBUILD_PAUSE
                and self.coordination.rebuild_asked(self.REBUILD_PAUSE)):
            self._last_rebuild = time.monotonic()  # the pause counts from rebuilds that searches asked for
            return True
        try:
            self.backend.check()
        except IndexUnavailable:
            return True
        return False

    def run_once(self, *, wait: bool = False) -> int:
        """Rebuild if needed, then drain the outbox; 0 when another process holds the lock."""
        with self.coordination.writer(wait=wait) as mine:
            if not mine:
                return 0
            with self.session_scope() as session:
                if self._needs_rebuild():
                    log.warning("search index missing or unreadable: rebuilding it from the database")
                    self.coordination.clear_rebuild()
                    count = rebuild(session, self.backend)
                    log.warning("search index rebuilt with %d products", count)
                try:
                    return drain(session, self.backend)
                except IndexUnavailable:
                    session.rollback()
                    self.mark_broken()  # the index cannot take changes: rebuild it next round
                    raise

    def run_forever(self) -> None:
        """Rounds every `interval` seconds until stop(); errors are logged and the next round tries again."""
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("search indexer round failed; retrying")
            self._wake.wait(self.interval)
            self._wake.clear()

    def start(self) -> None:
        """Start the background thread in this process (again after a fork)."""
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stop.clear()
            self._thread = threading.Thread(target=self.run_forever, name="search-indexer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None
