"""A search backend on SQLite FTS5 (standard library only), giving the same answers as the Whoosh backend.

The text goes in already analysed by marketplace.search.analysis (the same terms Whoosh indexes), so FTS5
only has to split on spaces: the `ascii` tokenizer with `-` as a token character does exactly that for our
terms (ASCII letters and digits are token characters, every non-ASCII character is one too, and terms hold
nothing else), so "oleh-oleh" or "café" -> "cafe" come back as the very tokens stored.

Layout on disk: `<root>/CURRENT` names the live file `<root>/fts-<n>.sqlite3`; a rebuild writes a new file and
swaps the pointer, so searches keep answering from the old one meanwhile (the previous file is kept for
readers in other processes, older ones are removed). The live file is in WAL mode, so `apply` never blocks
readers.

Tables: `docs` holds one row per product (filter and sort columns, the analysed text, the spelling words);
`fts` is an external-content FTS5 index over `docs.name` and `docs.text`, kept in step by triggers; `spell`
counts the documents per spelling word, for completions and corrections.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from marketplace.search.analysis import analyse, query_terms, stem, words
from marketplace.search.backend import PRICE_BUCKETS, Facets, SearchDoc, SearchHits, SearchQuery
from marketplace.search.whoosh_backend import NAME_BOOST, SOLD_OUT_BOOST, IndexUnavailable, spell_words

FORMAT = "1"  # bump when the tables change: an index in another format is rebuilt, not misread
SUGGEST_SCAN = 2_000  # like Whoosh: completions are ranked among the first 2,000 words of the prefix
_INT64 = (-(2**63), 2**63 - 1)
# The largest character: `word < prefix || MAX_CHAR` bounds a prefix range on an index.
_MAX_CHAR = "\U0010ffff"
# MATERIALIZED (3.35+) makes SQLite evaluate the text match once for all the facet counts.
_MATERIALIZED = "MATERIALIZED" if sqlite3.sqlite_version_info >= (3, 35, 0) else ""

_TABLES = """
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
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    spell TEXT NOT NULL
);
CREATE VIRTUAL TABLE fts USING fts5(
    name, text, content='docs', content_rowid='product_id', tokenize="ascii tokenchars '-'"
);
CREATE TABLE spell (word TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
"""

# Created after the bulk load of a rebuild (loading first and indexing once is several times faster).
_TRIGGERS_AND_INDEXES = """
CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO fts (rowid, name, text) VALUES (new.product_id, new.name, new.text);
END;
CREATE TRIGGER docs_ad AFTER DELETE ON docs BEGIN
    INSERT INTO fts (fts, rowid, name, text) VALUES ('delete', old.product_id, old.name, old.text);
END;
CREATE TRIGGER docs_au AFTER UPDATE ON docs BEGIN
    INSERT INTO fts (fts, rowid, name, text) VALUES ('delete', old.product_id, old.name, old.text);
    INSERT INTO fts (rowid, name, text) VALUES (new.product_id, new.name, new.text);
END;
CREATE INDEX docs_category ON docs (category_id);
CREATE INDEX docs_province ON docs (province);
CREATE INDEX docs_kube ON docs (kube_id);
CREATE INDEX docs_price ON docs (price);
CREATE INDEX docs_published ON docs (published);
"""

_INSERT_DOC = "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

# The price bucket of a row, from PRICE_BUCKETS (computed at query time, so changing the buckets needs
# no rebuild).
_BUCKET_SQL = (
    "CASE "
    + " ".join(f"WHEN pr < {high} THEN {i}" for i, (_low, high) in enumerate(PRICE_BUCKETS) if high is not None)
    + f" ELSE {len(PRICE_BUCKETS) - 1} END"
)

_FACETS = ("category", "province", "kube", "price", "in_stock")


def _row(doc: SearchDoc) -> tuple[Any, ...]:
    name = " ".join(analyse(doc.name))
    # The same "text" Whoosh indexes: every field analysed on its own, joined with spaces.
    text = " ".join(
        " ".join(analyse(t)) for t in (doc.name, doc.description, doc.kube_name, doc.category_names, doc.region_names)
    )
    province = int(doc.province_code) if doc.province_code.isdigit() else 0
    return (doc.product_id, doc.category_id, doc.category_parent_id, province, doc.kube_id, doc.price,
            1 if doc.in_stock else 0, doc.published_ts, name, text, spell_words(doc))


def _clamp(value: int) -> int:
    """A filter value SQLite can bind (an absurd number from a URL must not raise OverflowError)."""
    return min(max(value, _INT64[0]), _INT64[1])


def _match(terms: Sequence[str]) -> str:
    # Every term quoted: a quoted string is always a plain token to FTS5, so AND, NOT, NEAR, "*", ":" or
    # "^" typed by a shopper stay words. Implicit AND between the strings.
    return " ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _filters(q: SearchQuery) -> dict[str, tuple[str, list[int]]]:
    """SQL conditions (on the columns of the matched set `m`) per filter, with their parameters."""
    out: dict[str, tuple[str, list[int]]] = {}
    if q.category_ids:
        ids = [_clamp(i) for i in q.category_ids]
        out["category"] = (f"c IN ({', '.join('?' * len(ids))})", ids)
    if q.province:
        # As Whoosh: codes are compared as numbers ("07" == "7"); a non-numeric code matches nothing.
        out["province"] = ("p = ?", [_clamp(int(q.province)) if q.province.isdigit() else -1])
    if q.kube_id is not None:
        out["kube"] = ("k = ?", [_clamp(q.kube_id)])
    if q.min_price is not None or q.max_price is not None:
        parts: list[str] = []
        params: list[int] = []
        if q.min_price is not None:
            parts.append("pr >= ?")
            params.append(_clamp(q.min_price))
        if q.max_price is not None:
            parts.append("pr <= ?")
            params.append(_clamp(q.max_price))
        out["price"] = (" AND ".join(parts), params)
    if q.in_stock:
        out["in_stock"] = ("s = 1", [])
    return out


def _where(filters: dict[str, tuple[str, list[int]]], skip: str | None = None) -> tuple[str, list[int]]:
    parts: list[str] = []
    params: list[int] = []
    for key, (sql, values) in filters.items():
        if key != skip:
            parts.append(sql)
            params.extend(values)
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


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


class _Local(threading.local):
    conn: sqlite3.Connection | None = None
    generation: str | None = None


class Fts5Backend:
    """Search over an SQLite FTS5 index in `root` (see the module docstring for the layout)."""

    name = "fts5"

    def __init__(self, root: str | os.PathLike[str], *, mmap_mb: int = 256, cache_mb: int = 32) -> None:
        self.root = Path(root)
        self.mmap_mb = mmap_mb
        self.cache_mb = cache_mb
        self._local = _Local()

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
            conn.execute(f"PRAGMA cache_size = {-self.cache_mb * 1024}")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA synchronous = NORMAL")  # the index is rebuildable: WAL + NORMAL is plenty
            row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row is None or row[0] != FORMAT:
                raise IndexUnavailable(f"search index {generation} has another format ({row and row[0]})")
            conn.execute("SELECT rowid FROM fts WHERE fts MATCH '\"x\"' LIMIT 1").fetchall()
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
        if local.conn is not None and local.generation == generation:
            if (self.root / generation).is_file():  # an open connection would keep reading a deleted file
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

    # --- reading ---------------------------------------------------------------------------------------

    def check(self) -> None:
        self.close()  # a fresh open re-reads the file, as a new worker would
        self._read("SELECT count(*) FROM spell")

    def doc_count(self) -> int:
        return int(self._read("SELECT count(*) FROM docs")[0][0])

    def search(self, q: SearchQuery) -> SearchHits:
        terms = query_terms(q.text)
        if q.text.strip() and not terms:  # only stopwords or symbols: nothing to look for
            return SearchHits(product_ids=[], total=0, page=q.page, per_page=q.per_page, terms=terms,
                              facets=Facets())
        filters = _filters(q)
        ranked = q.sort == "relevance" and bool(terms)

        # The matched set, materialised once: the text match (if any) with the columns filters, facets and
        # sorting need. The score is only worth computing when the page is ordered by it.
        score = (f", bm25(fts, {NAME_BOOST}, 1.0) * (CASE d.in_stock WHEN 1 THEN 1.0 ELSE {SOLD_OUT_BOOST} END)"
                 " AS score") if ranked else ""
        cols = ("d.product_id AS id, d.category_id AS c, d.province AS p, d.kube_id AS k, d.price AS pr, "
                "d.in_stock AS s, d.published AS pub")
        params: list[Any] = []
        if terms:
            source = f"SELECT {cols}{score} FROM fts JOIN docs AS d ON d.product_id = fts.rowid WHERE fts MATCH ?"
            params.append(_match(terms))
        else:
            source = f"SELECT {cols} FROM docs AS d"

        # Each facet counts the matched set with every *other* filter applied (see backend.Facets).
        parts: list[str] = []
        for kind, facet in enumerate(_FACETS):
            where, values = _where(filters, skip=facet)
            if facet == "in_stock":
                where = (where + " AND s = 1") if where else " WHERE s = 1"
                parts.append(f"SELECT {kind}, 1, count(*) FROM m{where}")
            else:
                column = {"category": "c", "province": "p", "kube": "k", "price": _BUCKET_SQL}[facet]
                parts.append(f"SELECT {kind}, {column} AS v, count(*) FROM m{where} GROUP BY v")
            params.extend(values)
        where, values = _where(filters)
        parts.append(f"SELECT {len(_FACETS)}, 0, count(*) FROM m{where}")
        params.extend(values)

        # The page comes out of the same statement (one text match in all), with its sort key: a compound
        # SELECT does not promise to keep a subquery's order, so Python puts the <= per_page rows in order.
        start = (q.page - 1) * q.per_page
        sort = q.sort if q.sort in ("price_asc", "price_desc") else ("relevance" if ranked else "newest")
        if start >= 0 and q.per_page > 0:
            key, direction = {"relevance": ("score", "ASC"), "price_asc": ("pr", "ASC"),
                              "price_desc": ("pr", "DESC"), "newest": ("pub", "DESC")}[sort]
            parts.append(f"SELECT * FROM (SELECT -1, id, {key} FROM m{where} "
                         f"ORDER BY {key} {direction}, id {direction} LIMIT ? OFFSET ?)")
            params.extend([*values, q.per_page, start])

        sql = f"WITH m AS {_MATERIALIZED} ({source}) " + " UNION ALL ".join(parts)
        facets = Facets()
        total = 0
        page: list[tuple[Any, int]] = []
        for kind, value, count in self._read(sql, params):
            if kind == -1:
                page.append((count, value))
            elif kind == 0:
                facets.category[int(value)] = count
            elif kind == 1:
                facets.province[f"{int(value):02d}"] = count
            elif kind == 2:
                facets.kube[int(value)] = count
            elif kind == 3:
                facets.price[int(value)] = count
            elif kind == 4:
                facets.in_stock = count
            else:
                total = count
        page.sort(reverse=sort in ("price_desc", "newest"))
        return SearchHits(product_ids=[pid for _, pid in page], total=total, page=q.page, per_page=q.per_page,
                          terms=terms, facets=facets)

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
        """The closest spelling word (same first letter, within 2 edits, 1 for short words), the most
        frequent among equally close ones."""
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
        rows = {doc.product_id: _row(doc) for doc in docs}  # the last version of a product wins
        ids = sorted(set(rows) | set(removed))
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                spell: Counter[str] = Counter()
                for chunk in _chunks(ids, 500):
                    sql = f"SELECT spell FROM docs WHERE product_id IN ({', '.join('?' * len(chunk))})"
                    for (old,) in conn.execute(sql, chunk):
                        spell.subtract(old.split())
                conn.executemany("DELETE FROM docs WHERE product_id = ?", ((i,) for i in ids))
                conn.executemany(_INSERT_DOC, rows.values())
                for row in rows.values():
                    spell.update(row[-1].split())
                conn.executemany(
                    "INSERT INTO spell (word, docs) VALUES (?, ?) "
                    "ON CONFLICT (word) DO UPDATE SET docs = docs + excluded.docs",
                    ((w, n) for w, n in spell.items() if n),
                )
                conn.execute("DELETE FROM spell WHERE docs <= 0")
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


def _build(path: Path, docs: Iterable[SearchDoc]) -> int:
    """Write a complete index file at `path`; returns the number of documents."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Nothing reads this file until the pointer names it, and a crash leaves only a stray file: no
        # journal, no syncing while loading.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")
        conn.executescript(_TABLES)
        spell: Counter[str] = Counter()
        count = 0

        def rows() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            for doc in docs:
                row = _row(doc)
                spell.update(row[-1].split())
                count += 1
                yield row

        conn.execute("BEGIN")
        # OR REPLACE: a product listed twice is indexed once (its last version).
        conn.executemany(_INSERT_DOC.replace("INSERT", "INSERT OR REPLACE", 1), rows())
        conn.execute("INSERT INTO fts (fts) VALUES ('rebuild')")
        conn.executemany("INSERT INTO spell (word, docs) VALUES (?, ?)", spell.items())
        conn.execute("INSERT INTO meta (key, value) VALUES ('format', ?)", (FORMAT,))
        conn.execute("COMMIT")
        conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")  # one b-tree per term: fastest to read
        conn.executescript(_TRIGGERS_AND_INDEXES)
        conn.execute("ANALYZE")
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
