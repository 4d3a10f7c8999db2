"""A search backend on SQLite FTS5 (standard library sqlite3), giving the same answers as the Whoosh backend.

It is built like the Whoosh backend: the full-text index finds the documents that hold every query term,
and filters, facets, sorting and ranking run on numpy arrays. Measured on the benchmark catalogue (100,000
products, bench/search.py) on a small 2-CPU machine:
- FTS5 hands over 56,000 matching rowids in ~5 ms (one `group_concat`, parsed in C), but every per-row step
  in SQL costs about a microsecond: one GROUP BY over such a match took 15–50 ms, the five disjunctive
  facets 60–150 ms, and ranking with FTS5's `bm25()` 55–70 ms. On numpy arrays the facets take a few ms.
- Ranking is BM25F exactly as WhooshBackend computes it: term frequencies per field from FTS5's instance
  vocabulary, field lengths rounded as Whoosh stores them, Whoosh's idf, B and K1, the name field counted
  NAME_BOOST times, a sold-out product's frequencies scaled by SOLD_OUT_BOOST. Both backends give the same
  scores, so the same pages (ties broken by product id).

The text goes in already analysed by marketplace.search.analysis (the very terms Whoosh indexes), so FTS5
only has to split on spaces: the `ascii` tokenizer with `-` as a token character does exactly that for our
terms (they hold lowercase letters, digits and hyphens only, and the ascii tokenizer keeps every non-ASCII
character inside a token), so "oleh-oleh" comes back as the very token stored.

Layout on disk: `<root>/CURRENT` names the live file `<root>/fts-<n>.sqlite3`; a rebuild writes a new file and
swaps the pointer, so searches keep answering from the old one meanwhile (the previous file is kept for
readers in other processes, older ones are removed). The live file is in WAL mode: `apply` never blocks
readers, and a search reads its columns, matches and postings from one snapshot.

Tables: `docs` (one narrow row per product: the filter, sort and length columns, read into numpy once per
process and then patched), `content` (the analysed name and text, and the spelling words), `fts` (an
external-content FTS5 index over `content`, kept in step by triggers), `spell` (documents per spelling word,
for completions and corrections), `changes` (which products and terms each `apply` touched, so that readers
patch their arrays and keep the postings of untouched terms) and `meta` (format, and the version each
`apply` bumps).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.util.numeric import byte_to_length, length_to_byte

from marketplace.search import arrays
from marketplace.search.analysis import analyse, query_terms, stem, words
from marketplace.search.backend import Generations, IndexUnavailable, SearchDoc, SearchHits, SearchQuery
from marketplace.search.whoosh_backend import K1 as BM25_K1
from marketplace.search.whoosh_backend import NAME_BOOST, SOLD_OUT_BOOST, spell_words
from marketplace.search.whoosh_backend import B as BM25_B

FORMAT = "1"  # bump when the tables change: an index in another format is rebuilt, not misread
SUGGEST_SCAN = 2_000  # as Whoosh: completions are ranked among the first 2,000 words of the prefix
POSTINGS_CACHE = 2_048  # terms whose postings stay in memory (per index version), as Whoosh per segment
_MAX_CHAR = "\U0010ffff"  # `word < prefix || _MAX_CHAR` bounds a prefix range on an index
_SELECT_DOCS = ("SELECT product_id, category_id, parent_id, province, kube_id, price, in_stock, published, name_len, "
                "text_len FROM docs")
_SELECT_SOME_DOCS = ("SELECT product_id, category_id, parent_id, province, kube_id, price, in_stock, published, "
                     "name_len, text_len FROM docs WHERE product_id IN (SELECT value FROM json_each(?))")
_DOC_WIDTH = 10
# An apply records which products and terms it changed, so that readers patch their column arrays and
# keep the postings of untouched terms instead of reloading everything (~0.2 s at 100,000 products).
KEEP_VERSIONS = 1_000  # versions the change log reaches back; a reader further behind reloads
PATCH_LIMIT = 10_000  # an apply changing more products than this is not logged: readers reload

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
CREATE TABLE changes (version INTEGER NOT NULL, product_id INTEGER NOT NULL, terms TEXT NOT NULL);
CREATE INDEX changes_version ON changes (version);
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

_INSERT_DOC = "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # in _SELECT_DOCS's order
_INSERT_CONTENT = "INSERT INTO content (product_id, name, text, spell) VALUES (?, ?, ?, ?)"


@dataclass(frozen=True)
class _Row:
    doc: tuple[int, ...]
    content: tuple[int, str, str, str]


def _row(doc: SearchDoc) -> _Row:
    name = analyse(doc.name)
    # The same "text" Whoosh indexes: every field analysed on its own, joined with spaces.
    text = [t for part in (doc.name, doc.description, doc.kube_name, doc.category_names, doc.region_names)
            for t in analyse(part)]
    province = int(doc.province_code) if doc.province_code.isdigit() else 0
    return _Row(
        (doc.product_id, doc.category_id, doc.category_parent_id, province, doc.kube_id, doc.price,
         1 if doc.in_stock else 0, doc.published_ts, len(name), len(text)),
        (doc.product_id, " ".join(name), " ".join(text), spell_words(doc)),
    )


def _match(terms: Sequence[str]) -> str:
    """An FTS5 query for documents holding every term. Each term is quoted: a quoted string is always a
    plain token to FTS5, so AND, NOT, NEAR, `*`, `:` or `^` typed by a shopper stay words."""
    quoted = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    return quoted


@dataclass(frozen=True)
class _TermPostings:
    """One term's documents (product ids, ascending) and frequencies, per field."""

    name_ids: np.ndarray
    name_tf: np.ndarray
    text_ids: np.ndarray
    text_tf: np.ndarray


@dataclass(frozen=True)
class _Columns:
    """The `docs` table as numpy arrays sorted by product id, for one version of the index."""

    key: tuple[str, int]  # (generation, version)
    table: np.ndarray  # the rows as loaded (one int64 row per product, _SELECT_DOCS), for patching
    pid: np.ndarray
    category: np.ndarray
    province: np.ndarray
    kube: np.ndarray
    price: np.ndarray
    stock: np.ndarray
    published: np.ndarray
    name_len: np.ndarray  # float64, as Whoosh stores them (see _stored_lengths)
    text_len: np.ndarray
    avg_name: float
    avg_text: float
    # Recent terms' postings for ranking, valid for this version (a patched version keeps the ones of
    # the terms its changes did not touch).
    postings: OrderedDict[str, _TermPostings] = field(default_factory=OrderedDict)
    postings_lock: threading.Lock = field(default_factory=threading.Lock)


def _stored_lengths(lengths: np.ndarray) -> np.ndarray:
    """Field lengths as Whoosh stores them: in one byte, exact up to 10 terms, then in ~3 % steps. BM25
    uses them, so rounding the same way makes both backends score (and rank) alike."""
    table = np.array([byte_to_length(length_to_byte(n)) for n in range(int(lengths.max(initial=0)) + 1)])
    return table[lengths].astype(np.float64)


def _columns(key: tuple[str, int], table: np.ndarray, postings: OrderedDict[str, _TermPostings] | None = None
             ) -> _Columns:
    pid, category, _parent, province, kube, price, stock, published, name_len, text_len = (
        np.ascontiguousarray(column) for column in table.T
    )
    # The averages from the exact lengths, as Whoosh's (total length / documents).
    return _Columns(key, table, pid, category, province, kube, price, stock, published,
                    _stored_lengths(name_len), _stored_lengths(text_len),
                    float(name_len.mean()) if pid.size else 1.0, float(text_len.mean()) if pid.size else 1.0,
                    postings if postings is not None else OrderedDict())


def _doc_rows(conn: sqlite3.Connection, ids: Sequence[int] | None = None) -> np.ndarray:
    """Rows of `docs` (all of them, or those of `ids`) as an int64 array."""
    if ids is None:
        rows = conn.execute(_SELECT_DOCS).fetchall()
    else:
        rows = conn.execute(_SELECT_SOME_DOCS, (json.dumps(list(ids)),)).fetchall()
    return np.array(rows, dtype=np.int64).reshape(len(rows), _DOC_WIDTH)


def _load(conn: sqlite3.Connection, key: tuple[str, int]) -> _Columns:
    table = _doc_rows(conn)
    return _columns(key, table[np.argsort(table[:, 0], kind="stable")])


def _patch(conn: sqlite3.Connection, base: _Columns, key: tuple[str, int]) -> _Columns | None:
    """`base` brought up to `key`'s version from the `changes` log, or None when the log does not reach back
    that far (then the caller loads everything)."""
    oldest = conn.execute("SELECT min(version) FROM changes").fetchone()[0]
    if oldest is None or oldest > base.key[1] + 1:
        return None
    changed: set[int] = set()
    terms: set[str] = set()
    for product_id, words_ in conn.execute(
        "SELECT product_id, terms FROM changes WHERE version > ? AND version <= ?", (base.key[1], key[1])
    ):
        changed.add(product_id)
        terms.update(words_.split())
    ids = sorted(changed)
    kept = base.table[~np.isin(base.table[:, 0], np.array(ids, dtype=np.int64))]
    table = np.concatenate([kept, _doc_rows(conn, ids)])
    with base.postings_lock:
        postings = OrderedDict((t, p) for t, p in base.postings.items() if t not in terms)
    return _columns(key, table[np.argsort(table[:, 0], kind="stable")], postings)


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
        # Column arrays shared by all threads, by (generation, version): the newest two (a thread may still
        # be reading the version before an apply).
        self._snapshot_lock = threading.Lock()
        self._snapshots: OrderedDict[tuple[str, int], _Columns] = OrderedDict()

    # --- where the index lives -----------------------------------------------------------------------

    def current_generation(self) -> str | None:
        return Generations(self.root).current()

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
            conn.execute("PRAGMA temp_store = MEMORY")
            # Term frequencies for ranking: FTS5 lists every occurrence of a term with its document and field.
            conn.execute("CREATE VIRTUAL TABLE temp.fts_instance USING fts5vocab(main, 'fts', 'instance')")
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

    def _columns(self, conn: sqlite3.Connection) -> _Columns:
        """The column arrays of the version `conn` sees (call inside its read transaction)."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        key = (self._local.generation or "", int(row[0]) if row else 0)
        with self._snapshot_lock:
            found = self._snapshots.get(key)
            if found is None:
                older = [c for k, c in self._snapshots.items() if k[0] == key[0] and k[1] < key[1]]
                if older:
                    found = _patch(conn, max(older, key=lambda c: c.key[1]), key)
                if found is None:
                    found = _load(conn, key)
                self._snapshots[key] = found
                while len(self._snapshots) > 2:
                    self._snapshots.popitem(last=False)
            return found

    @staticmethod
    def _rowids(conn: sqlite3.Connection, match: str) -> np.ndarray:
        """Rowids (ascending) matching an FTS5 query: one string from SQLite beats one Python row per hit."""
        joined = conn.execute("SELECT group_concat(rowid) FROM fts WHERE fts MATCH ?", (match,)).fetchone()[0]
        return _ints(joined)

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
        cols = self._columns(conn)
        if q.text.strip() and not terms:
            matched = np.zeros(0, dtype=np.int64)  # only stopwords or symbols: nothing to look for
        elif terms:
            rowids = self._matching(conn, cols, terms, ranked=q.sort == "relevance")
            matched = np.searchsorted(cols.pid, rowids).clip(max=max(cols.pid.size - 1, 0))  # array positions
            if matched.size and not np.array_equal(cols.pid[matched], rowids):
                matched = matched[cols.pid[matched] == rowids]  # (never seen: content and docs change together)
        else:
            matched = np.arange(cols.pid.size)


        def ranker(selected: np.ndarray, start: int, per_page: int) -> list[int]:
            return self._ranked(conn, cols, terms, selected, start, per_page)

        return arrays.page(cols, matched, q, terms, ranker)

    def _matching(self, conn: sqlite3.Connection, cols: _Columns, terms: Sequence[str], *, ranked: bool
                  ) -> np.ndarray:
        """Product ids (ascending) holding every term. Ranking needs each term's postings anyway, and cached
        postings cost nothing: then the intersection is taken here, rarest term first. Otherwise FTS5's
        MATCH is the quicker way (it does not read the frequencies)."""
        with cols.postings_lock:
            cached = all(t in cols.postings for t in terms)
        if not (ranked or cached):
            return self._rowids(conn, _match(terms))
        result: np.ndarray | None = None
        for postings in sorted((self._postings(conn, cols, t) for t in terms), key=lambda p: p.text_ids.size):
            result = postings.text_ids if result is None else np.intersect1d(result, postings.text_ids,
                                                                             assume_unique=True)
            if result.size == 0:
                break
        return result if result is not None else np.zeros(0, dtype=np.int64)

    def _ranked(self, conn: sqlite3.Connection, cols: _Columns, terms: Sequence[str], selected: np.ndarray,
                start: int, per_page: int) -> list[int]:
        """A page of `selected` by BM25F as WhooshBackend computes it: Whoosh's idf and B, K1, per-field
        length normalisation, the name field counted NAME_BOOST times, a sold-out product's frequencies
        scaled by SOLD_OUT_BOOST (Whoosh's document boost); summed over the terms, ties by product id."""
        count = cols.pid.size or 1
        pids = cols.pid[selected]
        weight = np.where(cols.stock[selected] == 1, 1.0, SOLD_OUT_BOOST)
        score = np.zeros(selected.size)
        for term in terms:
            postings = self._postings(conn, cols, term)
            for ids, tfs, boost, lengths, avg in (
                (postings.text_ids, postings.text_tf, 1.0, cols.text_len, cols.avg_text),
                (postings.name_ids, postings.name_tf, NAME_BOOST, cols.name_len, cols.avg_name),
            ):
                if ids.size == 0:
                    continue
                pos = np.searchsorted(ids, pids).clip(max=ids.size - 1)
                tf = np.where(ids[pos] == pids, tfs[pos] * weight, 0.0)
                idf = math.log(count / (ids.size + 1)) + 1
                score += boost * idf * (tf * (BM25_K1 + 1)) / (
                    tf + BM25_K1 * ((1 - BM25_B) + BM25_B * lengths[selected] / (avg or 1.0)))
        return arrays.top_page(score, pids, start, per_page)

    @staticmethod
    def _postings(conn: sqlite3.Connection, cols: _Columns, term: str) -> _TermPostings:
        """A term's postings with frequencies per field, from FTS5's instance vocabulary (one row per
        occurrence); cached with the version's columns."""
        with cols.postings_lock:
            found = cols.postings.get(term)
            if found is not None:
                cols.postings.move_to_end(term)
                return found
        # One number per occurrence: the product id doubled, plus one in the name field.
        joined = conn.execute(
            "SELECT group_concat(doc * 2 + (col = 'name')) FROM temp.fts_instance WHERE term = ?", (term,)
        ).fetchone()[0]
        occurrences = _ints(joined)
        in_name = (occurrences & 1).astype(bool)
        name_ids, name_tf = np.unique(occurrences[in_name] >> 1, return_counts=True)
        text_ids, text_tf = np.unique(occurrences[~in_name] >> 1, return_counts=True)
        found = _TermPostings(name_ids, name_tf.astype(np.float64), text_ids, text_tf.astype(np.float64))
        with cols.postings_lock:
            cols.postings[term] = found
            while len(cols.postings) > POSTINGS_CACHE:
                cols.postings.popitem(last=False)
        return found

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
            distance = arrays.levenshtein(word, candidate, maxdist)
            if distance <= maxdist and (best is None or (distance, -docs, candidate) < best):
                best = (distance, -docs, candidate)
        return best[2] if best else None

    # --- writing (the indexer holds the indexer lock around these) ----------------------------------

    def apply(self, docs: Iterable[SearchDoc], removed: Iterable[int]) -> None:
        # Analyse before taking the write lock: Sastrawi is the slow part.
        rows = {doc.product_id: _row(doc) for doc in docs}  # a product listed twice: its last version wins
        ids = sorted(set(rows) | set(removed))
        conn = self._conn()
        if not ids:
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._write(conn, rows, ids)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise IndexUnavailable(f"search index cannot be written: {exc}") from exc

    @staticmethod
    def _write(conn: sqlite3.Connection, rows: dict[int, _Row], ids: list[int]) -> None:
        spell: Counter[str] = Counter()
        touched: dict[int, set[str]] = {i: set() for i in ids}  # terms whose postings change, per product
        for product_id, text, old_spell in conn.execute(
            "SELECT product_id, text, spell FROM content WHERE product_id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        ):
            touched[product_id].update(text.split())
            spell.subtract(old_spell.split())
        conn.executemany("DELETE FROM docs WHERE product_id = ?", ((i,) for i in ids))
        conn.executemany("DELETE FROM content WHERE product_id = ?", ((i,) for i in ids))
        conn.executemany(_INSERT_DOC, (row.doc for row in rows.values()))
        conn.executemany(_INSERT_CONTENT, (row.content for row in rows.values()))
        for product_id, row in rows.items():
            touched[product_id].update(row.content[2].split())
            spell.update(row.content[3].split())
        conn.executemany(
            "INSERT INTO spell (word, docs) VALUES (?, ?) ON CONFLICT (word) DO UPDATE SET docs = docs + excluded.docs",
            ((w, n) for w, n in spell.items() if n),
        )
        conn.execute("DELETE FROM spell WHERE docs <= 0")
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'")
        version = int(conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])
        if len(ids) > PATCH_LIMIT:
            conn.execute("DELETE FROM changes")  # a gap in the log: readers reload everything
        else:
            conn.execute("DELETE FROM changes WHERE version <= ?", (version - KEEP_VERSIONS,))
            conn.executemany("INSERT INTO changes (version, product_id, terms) VALUES (?, ?, ?)",
                             ((version, i, " ".join(terms)) for i, terms in touched.items()))

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
        previous = Generations(self.root).swap(generation)
        # Keep the previous file (another process may still be reading it); drop older ones.
        keep = {generation, previous}
        for child in self.root.glob("fts-*.sqlite3"):
            if child.name not in keep:
                for leftover in _files(child):
                    leftover.unlink(missing_ok=True)

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
        conn.execute("BEGIN")
        batch: list[_Row] = []
        for doc in docs:
            batch.append(_row(doc))
            if len(batch) == 1_000:
                _load_rows(conn, batch)
                batch.clear()
        _load_rows(conn, batch)
        # The full-text index in one pass over `content` (much faster than row by row through triggers).
        conn.execute("INSERT INTO fts (fts) VALUES ('rebuild')")
        spell: Counter[str] = Counter()
        for (words_,) in conn.execute("SELECT spell FROM content"):
            spell.update(words_.split())
        conn.executemany("INSERT INTO spell (word, docs) VALUES (?, ?)", spell.items())
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", (("format", FORMAT), ("version", "0")))
        count = int(conn.execute("SELECT count(*) FROM docs").fetchone()[0])
        conn.execute("COMMIT")
        conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")  # one b-tree per term: fastest to read
        conn.executescript(_TRIGGERS)
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    return count


def _load_rows(conn: sqlite3.Connection, batch: Sequence[_Row]) -> None:
    # OR REPLACE: a product listed twice is indexed once (its last version). No triggers exist yet.
    conn.executemany("INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (r.doc for r in batch))
    conn.executemany("INSERT OR REPLACE INTO content (product_id, name, text, spell) VALUES (?, ?, ?, ?)",
                     (r.content for r in batch))


def _ints(joined: str | None) -> np.ndarray:
    """The integers of a `group_concat` (comma separated; None when nothing matched)."""
    if not joined:
        return np.zeros(0, dtype=np.int64)
    # Parsed in C: a third of the time of str.split() + np.array() at 50,000 numbers.
    return np.fromstring(joined, dtype=np.int64, sep=",")


def _files(path: Path) -> list[Path]:
    """An index file with its WAL and shared-memory files."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
