"""A search backend on SQLite FTS5 (standard library sqlite3), giving the same answers as the Whoosh backend.

It is built like the Whoosh backend: the full-text index finds the documents containing every query term,
and the rest runs on numpy column arrays. Both halves were measured at 100,000 products (bench/search.py):
- FTS5 hands over 56,000 matching rowids in ~7 ms (one `group_concat`), but every per-row step in SQL costs
  about a microsecond: a GROUP BY per facet over such a match took 15–50 ms, the five disjunctive facets
  60–150 ms, and FTS5's `bm25()` ~1 µs per match (55 ms to rank 56,000). On numpy arrays the facets take
  ~2 ms and the ranking below ~3 ms.
- Ranking is BM25F as Whoosh computes it (per-field length normalisation, Whoosh's idf, the name field
  weighted NAME_BOOST, a sold-out product's term weights scaled by SOLD_OUT_BOOST), with one difference:
  FTS5 tells whether a field holds a term, not how often, so each term counts once per field.

The text goes in already analysed by marketplace.search.analysis (the very terms Whoosh indexes), so FTS5
only splits on spaces: the `ascii` tokenizer with `-` as a token character does exactly that for our terms
(they hold lowercase letters, digits and hyphens only, and the ascii tokenizer keeps every non-ASCII
character inside a token), so "oleh-oleh" or "kopi" come back as the very tokens stored.

Layout on disk: `<root>/CURRENT` names the live file `<root>/fts-<n>.sqlite3`; a rebuild writes a new file and
swaps the pointer, so searches keep answering from the old one meanwhile (the previous file is kept for
readers in other processes, older ones are removed). The live file is in WAL mode: `apply` never blocks
readers, and a search reads its columns and its matches from one snapshot.

Tables: `docs` (one narrow row per product: the filter, sort and length columns, loaded into numpy once per
index version), `content` (the analysed name and text, and the spelling words), `fts` (an external-content
FTS5 index over `content`, kept in step by triggers), `spell` (documents per spelling word, for completions
and corrections) and `meta` (format and version: `apply` bumps the version, which tells every process to
reload its columns).
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from marketplace.search.analysis import analyse, query_terms, stem, words
from marketplace.search.backend import Facets, SearchDoc, SearchHits, SearchQuery
from marketplace.search.whoosh_backend import (
    NAME_BOOST,
    SOLD_OUT_BOOST,
    IndexUnavailable,
    _Columns,
    _facets,
    _sorted_page,
    spell_words,
)

FORMAT = "1"  # bump when the tables change: an index in another format is rebuilt, not misread
SUGGEST_SCAN = 2_000  # as Whoosh: completions are ranked among the first 2,000 words of the prefix
BM25_B, BM25_K1 = 0.75, 1.2  # Whoosh's BM25F defaults
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_CHAR = "\U0010ffff"  # `word < prefix || _MAX_CHAR` bounds a prefix range on an index
_DOC_COLUMNS = "product_id, category_id, parent_id, province, kube_id, price, in_stock, published, name_len, text_len"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE docs (
    product_id INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL,
    parent_id INTEGER NOT NULL,
    province INTEGER NOT NULL,
    kube_id INTEGER NOT NULL,
    price INTEGER NOT NULL,
    in_stock INTEGER NOT NULL,
    published INTEGER NOT NULL,
    name_len INTEGER NOT NULL,  -- terms in the analysed name and text: BM25 normalises by field length
    text_len INTEGER NOT NULL
);
CREATE TABLE content (product_id INTEGER PRIMARY KEY, name TEXT NOT NULL, text TEXT NOT NULL, spell TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(
    name, text, content='content', content_rowid='product_id', tokenize="ascii tokenchars '-'"
);
CREATE TABLE spell (word TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
"""

# Created after the bulk load of a rebuild: loading first and indexing once is several times faster.
_TRIGGERS = """
CREATE TRIGGER content_ai AFTER INSERT ON content BEGIN
    INSERT INTO fts (rowid, name, text) VALUES (new.product_id, new.name, new.text);
END;
CREATE TRIGGER content_ad AFTER DELETE ON content BEGIN
    INSERT INTO fts (fts, rowid, name, text) VALUES ('delete', old.product_id, old.name, old.text);
END;
CREATE TRIGGER content_au AFTER UPDATE ON content BEGIN
    INSERT INTO fts (fts, rowid, name, text) VALUES ('delete', old.product_id, old.name, old.text);
    INSERT INTO fts (rowid, name, text) VALUES (new.product_id, new.name, new.text);
END;
"""

_INSERT_DOC = f"INSERT INTO docs ({_DOC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_CONTENT = "INSERT INTO content (product_id, name, text, spell) VALUES (?, ?, ?, ?)"


@dataclass(frozen=True)
class _Row:
    doc: tuple[int, ...]
    content: tuple[int, str, str, str]


def _row(doc: SearchDoc) -> _Row:
    name = analyse(doc.name)
    # The same "text" Whoosh indexes: every field analysed on its own, joined with spaces.
    text = [t for field in (doc.name, doc.description, doc.kube_name, doc.category_names, doc.region_names)
            for t in analyse(field)]
    province = int(doc.province_code) if doc.province_code.isdigit() else 0
    return _Row(
        (doc.product_id, doc.category_id, doc.category_parent_id, province, doc.kube_id, doc.price,
         1 if doc.in_stock else 0, doc.published_ts, len(name), len(text)),
        (doc.product_id, " ".join(name), " ".join(text), spell_words(doc)),
    )


def _match(terms: Sequence[str], column: str | None = None) -> str:
    """An FTS5 query for documents holding every term. Each term is quoted: a quoted string is always a
    plain token to FTS5, so AND, NOT, NEAR, `*`, `:` or `^` typed by a shopper stay words."""
    quoted = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    return f"{column} : ({quoted})" if column else quoted


def _clamp(value: int) -> int:
    """A filter value numpy can compare (an absurd number from a URL must not raise OverflowError)."""
    return min(max(value, _INT64_MIN), _INT64_MAX)


def _bm25(idf: float, tf: np.ndarray, length: np.ndarray, avg: float) -> np.ndarray:
    """Whoosh's bm25() over arrays (tf 0 scores 0)."""
    return idf * (tf * (BM25_K1 + 1)) / (tf + BM25_K1 * ((1 - BM25_B) + BM25_B * length / avg))


def levenshtein(a: str, b: str, limit: int) -> int:
    """The edit distance of `a` and `b`, or `limit + 1` as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class _Snapshot:
    """The `docs` table as numpy arrays, sorted by product id, for one index version."""

    key: tuple[str, str]  # (generation, version)
    cols: _Columns
    name_len: np.ndarray
    text_len: np.ndarray
    avg_name: float
    avg_text: float


def _load(conn: sqlite3.Connection, key: tuple[str, str]) -> _Snapshot:
    rows = conn.execute(f"SELECT {_DOC_COLUMNS} FROM docs ORDER BY product_id").fetchall()
    table = np.array(rows, dtype=np.int64).reshape(len(rows), 10)
    pid, category, parent, province, kube, price, stock, published, name_len, text_len = table.T
    count = len(rows)
    cols = _Columns(pid=pid.copy(), category=category.copy(), parent=parent.copy(), province=province.copy(),
                    kube=kube.copy(), price=price.copy(), stock=stock.copy(), published=published.copy(),
                    live=np.arange(count, dtype=np.int64))
    return _Snapshot(key, cols, name_len.astype(np.float64), text_len.astype(np.float64),
                     float(name_len.mean()) if count else 1.0, float(text_len.mean()) if count else 1.0)


class _Local(threading.local):
    conn: sqlite3.Connection | None = None
    generation: str | None = None


class Fts5Backend:
    """Search over an SQLite FTS5 index in `root` (see the module docstring for the layout)."""

    name = "fts5"

    def __init__(self, root: str | os.PathLike[str], *, mmap_mb: int = 256) -> None:
        self.root = Path(root)
        self.mmap_mb = mmap_mb
        self._local = _Local()
        # One snapshot of the columns for all threads: loading 100,000 rows takes ~0.1 s, once per version.
        self._snapshot_lock = threading.Lock()
        self._snapshot: _Snapshot | None = None

    # --- where the index lives -----------------------------------------------------------------------

    @property
    def _pointer(self) -> Path:
        return self.root / "CURRENT"

    def current_generation(self) -> str | None:
        try:
            name = self._pointer.read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def _open(self, generation: str) -> sqlite3.Connection:
        path = (self.root / generation).resolve()
        if not path.is_file():
            raise IndexUnavailable(f"search index {generation} is missing")
        conn: sqlite3.Connection | None = None
        try:
            # mode=rw: a missing file is an error, never a new empty database.
            conn = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=30.0)
            conn.execute(f"PRAGMA mmap_size = {self.mmap_mb * 1024 * 1024}")
            conn.execute("PRAGMA synchronous = NORMAL")  # the index is rebuildable: WAL + NORMAL is plenty
            row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row is None or row[0] != FORMAT:
                raise IndexUnavailable(f"search index {generation} has another format ({row and row[0]})")
        except IndexUnavailable:
            if conn is not None:
                conn.close()
            raise
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise IndexUnavailable(f"search index {generation} cannot be opened: {exc}") from exc
        return conn

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection to the live file, reopened when a rebuild swapped it."""
        local = self._local
        generation = self.current_generation()
        if generation is None:
            self.close()
            raise IndexUnavailable("no search index yet")
        # An open connection would keep reading a deleted file: check it is still there.
        if local.conn is not None and local.generation == generation and (self.root / generation).is_file():
            return local.conn
        self.close()
        local.conn = self._open(generation)
        local.generation = generation
        return local.conn

    def close(self) -> None:
        """Close this thread's connection (other threads keep theirs)."""
        if self._local.conn is not None:
            self._local.conn.close()
            self._local.conn = None
            self._local.generation = None

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        conn = self._conn()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:  # a garbled page: the answer is a rebuild, not a 500
            self.close()
            raise IndexUnavailable(f"search index cannot be read: {exc}") from exc

    def _columns(self, conn: sqlite3.Connection) -> _Snapshot:
        """The column arrays of the version `conn` sees (call inside its read transaction)."""
        version = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        key = (self._local.generation or "", version[0] if version else "")
        with self._snapshot_lock:
            if self._snapshot is None or self._snapshot.key != key:
                self._snapshot = _load(conn, key)
            return self._snapshot

    @staticmethod
    def _rowids(conn: sqlite3.Connection, match: str) -> np.ndarray:
        """Rowids (ascending) matching an FTS5 query: one string from SQLite beats one Python row per hit."""
        joined = conn.execute("SELECT group_concat(rowid) FROM fts WHERE fts MATCH ?", (match,)).fetchone()[0]
        if not joined:
            return np.zeros(0, dtype=np.int64)
        return np.array(joined.split(","), dtype=np.int64)

    # --- reading ---------------------------------------------------------------------------------------

    def check(self) -> None:
        self.close()  # a fresh open re-reads the file, as a new worker would
        self._read("SELECT count(*) FROM spell")
        self._read("SELECT rowid FROM fts WHERE fts MATCH '\"x\"' LIMIT 1")

    def doc_count(self) -> int:
        return int(self._read("SELECT count(*) FROM docs")[0][0])

    def search(self, q: SearchQuery) -> SearchHits:
        terms = query_terms(q.text)
        conn = self._conn()
        try:
            conn.execute("BEGIN")  # one snapshot: the version, the matches and the name postings agree
            try:
                return self._search(conn, q, terms)
            finally:
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise IndexUnavailable(f"search index cannot be read: {exc}") from exc

    def _search(self, conn: sqlite3.Connection, q: SearchQuery, terms: list[str]) -> SearchHits:
        snap = self._columns(conn)
        cols = snap.cols
        if q.text.strip() and not terms:
            matched = np.zeros(0, dtype=np.int64)  # only stopwords or symbols: nothing to look for
        elif terms:
            rowids = self._rowids(conn, _match(terms))
            matched = np.searchsorted(cols.pid, rowids).clip(max=max(cols.pid.size - 1, 0))  # array positions
            if matched.size and not np.array_equal(cols.pid[matched], rowids):
                matched = matched[cols.pid[matched] == rowids]  # (never seen: content and docs change together)
        else:
            matched = cols.live

        # One mask per filter over the matched documents (as WhooshBackend.search).
        masks: dict[str, np.ndarray] = {}
        if q.category_ids:
            masks["category"] = np.isin(cols.category[matched], np.array([_clamp(i) for i in q.category_ids]))
        if q.province:
            masks["province"] = cols.province[matched] == (_clamp(int(q.province)) if q.province.isdigit() else -1)
        if q.kube_id is not None:
            masks["kube"] = cols.kube[matched] == _clamp(q.kube_id)
        if q.min_price is not None or q.max_price is not None:
            prices = cols.price[matched]
            mask = np.ones(matched.size, dtype=bool)
            if q.min_price is not None:
                mask &= prices >= _clamp(q.min_price)
            if q.max_price is not None:
                mask &= prices <= _clamp(q.max_price)
            masks["price"] = mask
        if q.in_stock:
            masks["in_stock"] = cols.stock[matched] == 1

        def others(skip: str | None) -> np.ndarray:
            mask = np.ones(matched.size, dtype=bool)
            for key, value in masks.items():
                if key != skip:
                    mask &= value
            return mask

        facets = _facets(cols, matched, others) if matched.size else Facets()
        selected = matched[others(None)]
        total = int(selected.size)
        start = (q.page - 1) * q.per_page
        if start < 0 or q.per_page <= 0 or start >= total:
            ids: list[int] = []
        elif q.sort == "relevance" and terms:
            ids = self._ranked(conn, snap, terms, selected, int(matched.size), start, q.per_page)
        else:
            ids = _sorted_page(cols, selected, "newest" if q.sort == "relevance" else q.sort, start, q.per_page)
        return SearchHits(product_ids=ids, total=total, page=q.page, per_page=q.per_page, terms=terms,
                          facets=facets)

    def _ranked(self, conn: sqlite3.Connection, snap: _Snapshot, terms: Sequence[str], selected: np.ndarray,
                matched: int, start: int, per_page: int) -> list[int]:
        """A page of `selected` by BM25F over the name (weighted NAME_BOOST) and text fields, as Whoosh
        scores `And([Or([Term("name", t, boost=NAME_BOOST), Term("text", t)]) ...])`, ties by product id."""
        cols = snap.cols
        count = cols.pid.size
        pids = cols.pid[selected]
        # A sold-out product's postings weigh SOLD_OUT_BOOST (Whoosh's document boost).
        weight = np.where(cols.stock[selected] == 1, 1.0, SOLD_OUT_BOOST)
        name_len, text_len = snap.name_len[selected], snap.text_len[selected]
        score = np.zeros(selected.size)
        for term in terms:
            in_name = self._rowids(conn, _match([term], "name"))
            if in_name.size:
                hit = np.searchsorted(in_name, pids).clip(max=in_name.size - 1)
                tf_name = np.where(in_name[hit] == pids, weight, 0.0)
                score += NAME_BOOST * _bm25(_idf(count, in_name.size), tf_name, name_len, snap.avg_name)
            # Every selected document holds every term in its text; with one term, the matches are its
            # document frequency.
            text_docs = matched if len(terms) == 1 else self._doc_freq(conn, term)
            score += _bm25(_idf(count, text_docs), weight, text_len, snap.avg_text)
        # The best start + per_page, ties by product id: a partition finds the cut-off score, then only
        # the candidates at or above it are sorted.
        wanted = start + per_page
        if wanted < score.size:
            cutoff = np.partition(score, score.size - wanted)[score.size - wanted]
            keep = np.flatnonzero(score >= cutoff)
        else:
            keep = np.arange(score.size)
        order = keep[np.lexsort((pids[keep], -score[keep]))]
        return [int(p) for p in pids[order[start:wanted]]]

    @staticmethod
    def _doc_freq(conn: sqlite3.Connection, term: str) -> int:
        return int(conn.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (_match([term]),)).fetchone()[0])

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        typed = words(prefix[:200])
        if not typed or len(typed[-1]) < 2 or limit <= 0:
            return []
        head, last = typed[:-1], typed[-1]
        rows = self._read(
            "SELECT word FROM (SELECT word, docs FROM spell WHERE word >= ? AND word < ? ORDER BY word LIMIT ?) "
            "ORDER BY docs DESC, word LIMIT ?",
            (last, last + _MAX_CHAR, SUGGEST_SCAN, limit),
        )
        return [" ".join([*head, word]) for (word,) in rows]

    def correct(self, text: str) -> str | None:
        typed = words(text[:200])[:12]
        if not typed:
            return None
        changed = False
        out: list[str] = []
        for word in typed:
            term = stem(word)
            if not term or not word.isalpha() or self._read(
                "SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1", (_match([term]),)
            ):
                out.append(word)
                continue
            found = self._nearest(word)
            if found is not None and found != word:
                out.append(found)
                changed = True
            else:
                out.append(word)
        return " ".join(out) if changed else None

    def _nearest(self, word: str) -> str | None:
        """The closest spelling word with the same first letter, within 2 edits (1 for words of up to 4
        letters); among equally close ones the one in most documents, then the first alphabetically."""
        maxdist = 2 if len(word) > 4 else 1
        rows = self._read(
            "SELECT word, docs FROM spell WHERE word >= ? AND word < ? AND length(word) BETWEEN ? AND ?",
            (word[0], word[0] + _MAX_CHAR, len(word) - maxdist, len(word) + maxdist),
        )
        best: tuple[int, int, str] | None = None
        for candidate, docs in rows:
            distance = levenshtein(word, candidate, maxdist)
            if distance <= maxdist and (best is None or (distance, -docs, candidate) < best):
                best = (distance, -docs, candidate)
        return best[2] if best else None

    # --- writing (the indexer holds the indexer lock around these) ----------------------------------

    def apply(self, docs: Iterable[SearchDoc], removed: Iterable[int]) -> None:
        # Analyse before taking the write lock: Sastrawi is the slow part.
        rows = {doc.product_id: _row(doc) for doc in docs}  # a product listed twice: its last version wins
        ids = sorted(set(rows) | set(removed))
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                spell: Counter[str] = Counter()
                for chunk in _chunks(ids, 500):
                    sql = f"SELECT spell FROM content WHERE product_id IN ({', '.join('?' * len(chunk))})"
                    for (old,) in conn.execute(sql, chunk):
                        spell.subtract(old.split())
                conn.executemany("DELETE FROM docs WHERE product_id = ?", ((i,) for i in ids))
                conn.executemany("DELETE FROM content WHERE product_id = ?", ((i,) for i in ids))
                conn.executemany(_INSERT_DOC, (row.doc for row in rows.values()))
                conn.executemany(_INSERT_CONTENT, (row.content for row in rows.values()))
                for row in rows.values():
                    spell.update(row.content[3].split())
                conn.executemany(
                    "INSERT INTO spell (word, docs) VALUES (?, ?) "
                    "ON CONFLICT (word) DO UPDATE SET docs = docs + excluded.docs",
                    ((w, n) for w, n in spell.items() if n),
                )
                conn.execute("DELETE FROM spell WHERE docs <= 0")
                conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise IndexUnavailable(f"search index cannot be written: {exc}") from exc

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        generation = f"fts-{time.time_ns()}.sqlite3"
        path = self.root / generation
        try:
            count = _build(path, docs)
        except BaseException:
            for leftover in _files(path):
                leftover.unlink(missing_ok=True)
            raise
        self._swap(generation)
        return count

    def _swap(self, generation: str) -> None:
        previous = self.current_generation()
        tmp = self.root / f"CURRENT.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(generation)
        os.replace(tmp, self._pointer)
        # Keep the previous file (another process may still be reading it); drop older ones.
        keep = {generation, previous}
        for child in self.root.glob("fts-*.sqlite3"):
            if child.name not in keep:
                for leftover in _files(child):
                    leftover.unlink(missing_ok=True)

    def ensure(self) -> bool:
        """Create an empty index when there is none; True when one was created."""
        generation = self.current_generation()
        if generation is not None and (self.root / generation).is_file():
            return False
        self.rebuild([])
        return True


def _idf(count: int, doc_freq: int) -> float:
    """Whoosh's idf."""
    return math.log(count / (doc_freq + 1)) + 1


def _build(path: Path, docs: Iterable[SearchDoc]) -> int:
    """Write a complete index file at `path`; returns the number of documents."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Nothing reads this file until the pointer names it, and a crash leaves only a stray file: no
        # journal, no syncing while loading.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")
        conn.executescript(_SCHEMA)
        spell: Counter[str] = Counter()
        contents: list[tuple[int, str, str, str]] = []
        count = 0

        def rows() -> Iterator[tuple[int, ...]]:
            nonlocal count
            for doc in docs:
                row = _row(doc)
                spell.update(row.content[3].split())
                contents.append(row.content)
                count += 1
                yield row.doc

        conn.execute("BEGIN")
        # OR REPLACE: a product listed twice is indexed once (its last version).
        conn.executemany(_INSERT_DOC.replace("INSERT", "INSERT OR REPLACE", 1), rows())
        conn.executemany(_INSERT_CONTENT.replace("INSERT", "INSERT OR REPLACE", 1), contents)
        del contents[:]
        conn.execute("INSERT INTO fts (fts) VALUES ('rebuild')")
        conn.executemany("INSERT INTO spell (word, docs) VALUES (?, ?)", spell.items())
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", (("format", FORMAT), ("version", "0")))
        conn.execute("COMMIT")
        conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")  # one b-tree per term: fastest to read
        conn.executescript(_TRIGGERS)
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    return count


def _files(path: Path) -> list[Path]:
    """An index file with its WAL and shared-memory files."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
