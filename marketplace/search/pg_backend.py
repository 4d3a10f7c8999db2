"""A search backend on PostgreSQL full-text search, for set-ups with more than one app host.

The index lives in the app's own database, so every app host reads the same one and nothing is kept on
local disk. It answers like the Whoosh and FTS5 backends (tests/search/test_contract.py holds all three
to the same contract):

- Documents carry the very terms marketplace.search.analysis gives the other backends (Sastrawi stems,
  proper nouns kept, "oleh-oleh" one word). They are written as a `tsvector` literal, so PostgreSQL's own
  parser never re-splits them: `to_tsvector('simple', 'oleh-oleh')` would add two stray `oleh` lexemes.
  Each term carries its position and a weight: A in the name, B in the KUBE, category and region names,
  C in the description. A GIN index on the column finds the documents.
- A query is the analysed terms, each quoted, joined with `&` and cast to `tsquery`: every term must
  match, and nothing a shopper types (`name:(`, `*`, `!`, `<->`) is ever read as query syntax.
- Relevance is `ts_rank_cd` (cover density over the weights), halved for a sold-out product so it ranks
  below an otherwise identical one in stock; equal scores go by product id, so pages never overlap.
- One statement answers a search: the matches are read once (a materialised CTE), then the total, the
  page and every facet (each with every *other* filter applied) are counted from them.
- Completions and spelling corrections come from a words table (name and category words with the number
  of documents holding each), as the FTS5 backend does.

Tables (`<prefix>` is "search" in the app): `<prefix>_documents` (one row per product: the filter and sort
columns, the `tsvector`, the product's spelling words), `<prefix>_words` and `<prefix>_state` (format,
last rebuild, a rebuild request). Nothing needs a migration: the first indexer round finds no index and
rebuilds, which creates the tables. A rebuild fills fresh tables and swaps them in by renaming, in one
transaction: searches keep reading the old ones until the commit.

Several app hosts share one writer: the indexer's lock is a PostgreSQL advisory lock (not a file), and a
failed search asks for a rebuild with a row in the state table that whichever host writes next sees.
"""

# ruff: noqa: S608 - the SQL here is built from our own table names and fixed fragments; every value typed
# by a user (the query's terms too) is a bound parameter.
from __future__ import annotations

import logging
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from marketplace.search import arrays
from marketplace.search.analysis import analyse, query_terms, stem, words
from marketplace.search.backend import PRICE_BUCKETS, Facets, IndexUnavailable, SearchDoc, SearchHits, SearchQuery
from marketplace.search.whoosh_backend import SOLD_OUT_BOOST, spell_words

log = logging.getLogger(__name__)

FORMAT = "1"  # bump when the tables change: an index in another format is rebuilt, not misread
MAX_POSITION = 16_383  # PostgreSQL's largest tsvector position (larger ones are set to it)
MAX_POSITIONS = 255  # positions kept per lexeme, as to_tsvector keeps them
SUGGEST_SCAN = 2_000  # as Whoosh: completions are ranked among the first 2,000 words of the prefix
BATCH = 1_000
_MAX_CHAR = "\U0010ffff"  # `word < prefix || _MAX_CHAR` bounds a prefix range (the column sorts by code point)
_PREFIX = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
_LOCK_CLASS = 0x5053  # the first key of the indexer's advisory lock ("PS"); the second comes from the prefix
_WEIGHTS = ("A", "B", "C")

_COLUMNS = ("product_id", "category_id", "parent_id", "province", "kube_id", "price", "in_stock", "published",
            "tsv", "spell")


def _quote(term: str) -> str:
    """A lexeme quoted for tsvector/tsquery input: a quoted string is always one plain lexeme."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(fields: Sequence[tuple[Sequence[str], str]]) -> str:
    """The `tsvector` of analysed terms, given as (terms, weight) per field in order: positions run on
    across fields, at most MAX_POSITIONS per lexeme and none beyond MAX_POSITION."""
    positions: dict[str, list[tuple[int, str]]] = {}
    position = 0
    for terms, weight in fields:
        for term in terms:
            position = min(position + 1, MAX_POSITION)
            found = positions.setdefault(term, [])
            if len(found) < MAX_POSITIONS and (not found or found[-1][0] != position):
                found.append((position, weight))
    return " ".join(f"{_quote(t)}:{','.join(f'{p}{w}' for p, w in found)}" for t, found in positions.items())


def tsquery_literal(terms: Sequence[str]) -> str:
    """A `tsquery` matching documents that hold every term."""
    return " & ".join(_quote(t) for t in terms)


def _row(doc: SearchDoc) -> dict[str, Any]:
    # The same analysis as the other backends, field by field (a word never joins two fields' words).
    middle = [t for part in (doc.kube_name, doc.category_names, doc.region_names) for t in analyse(part)]
    tsv = tsvector_literal([(analyse(doc.name), "A"), (middle, "B"), (analyse(doc.description), "C")])
    code = doc.province_code
    return {
        "product_id": doc.product_id, "category_id": doc.category_id, "parent_id": doc.category_parent_id,
        "province": int(code) if code.isascii() and code.isdigit() else 0, "kube_id": doc.kube_id,
        "price": doc.price, "in_stock": bool(doc.in_stock), "published": doc.published_ts, "tsv": tsv,
        "spell": spell_words(doc),
    }


def _sqlstate(exc: DBAPIError) -> str:
    orig = exc.orig
    return str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")


def _missing(exc: DBAPIError) -> bool:
    """A table or column that is not there (class 42): no index yet, or one of an older format."""
    return _sqlstate(exc).startswith("42")


class PostgresBackend:
    """Search over tables in the app's PostgreSQL database (see the module docstring)."""

    name = "postgres"

    def __init__(self, engine: Engine, *, prefix: str = "search") -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError(f"the postgres search backend needs a PostgreSQL database, not {engine.dialect.name}")
        if not _PREFIX.match(prefix):
            raise ValueError(f"not a usable table prefix: {prefix!r}")
        self.engine = engine
        # Reads are single statements: without BEGIN and ROLLBACK each search is one round trip.
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.prefix = prefix
        self.documents = f"{prefix}_documents"
        self.words = f"{prefix}_words"
        self.state = f"{prefix}_state"
        self.coordination = PostgresCoordination(self)

    # --- reading ---------------------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self._reader.connect() as conn:
                yield conn
        except DBAPIError as exc:
            if _missing(exc):
                raise IndexUnavailable(f"search index cannot be read: {exc.orig}") from exc
            raise

    def check(self) -> None:
        with self._reading() as conn:
            row = conn.execute(text(
                f"SELECT (SELECT value FROM {self.state} WHERE key = 'format'), "
                f"EXISTS (SELECT 1 FROM {self.documents}), EXISTS (SELECT 1 FROM {self.words})"
            )).one()
        if row[0] != FORMAT:
            raise IndexUnavailable(f"search index has another format ({row[0]})")

    def doc_count(self) -> int:
        with self._reading() as conn:
            return int(conn.scalar(text(f"SELECT count(*) FROM {self.documents}")) or 0)

    def search(self, q: SearchQuery) -> SearchHits:
        terms = query_terms(q.text)
        if q.text.strip() and not terms:  # only stopwords or symbols: nothing to look for
            with self._reading() as conn:  # (still a missing index says so)
                conn.execute(text(f"SELECT 1 FROM {self.documents} LIMIT 0"))
            return SearchHits([], 0, q.page, q.per_page, terms, Facets())
        sql, params = self._statement(q, terms)
        with self._reading() as conn:
            rows = conn.execute(text(sql), params).all()
        facets = Facets()
        total = 0
        page: list[tuple[int, int]] = []
        for part, key, n, in_stock in rows:
            if part == 6:
                page.append((int(n), int(key)))
            elif part == 5:
                total, facets.in_stock = int(n), int(in_stock)
            elif n:  # a value found only among results another filter removes is not offered
                if part == 0:
                    facets.category[int(key)] = int(n)
                elif part == 1:
                    facets.province[f"{key:02d}"] = int(n)
                elif part == 2:
                    facets.kube[int(key)] = int(n)
                else:
                    facets.price[int(key)] = int(n)
        return SearchHits([pid for _, pid in sorted(page)], total, q.page, q.per_page, terms, facets)

    def _statement(self, q: SearchQuery, terms: list[str]) -> tuple[str, dict[str, Any]]:
        """One statement for the whole answer: rows of (part, key, count, in stock), parts 0-3 the category,
        province, KUBE and price facets, 5 the total and the in-stock count, 6 the page (key = product id,
        count = place on the page). The facets and the total are counted in one pass over the matches
        (grouping sets, each count with its own filters)."""
        params: dict[str, Any] = {}
        conditions: dict[str, str] = {}
        if q.category_ids:
            conditions["category"] = "category_id = ANY(CAST(:categories AS bigint[]))"
            params["categories"] = [arrays.clamp(i) for i in q.category_ids]
        if q.province:
            conditions["province"] = "province = CAST(:province AS bigint)"
            code = q.province
            params["province"] = arrays.clamp(int(code)) if code.isascii() and code.isdigit() else -1
        if q.kube_id is not None:
            conditions["kube"] = "kube_id = CAST(:kube AS bigint)"
            params["kube"] = arrays.clamp(q.kube_id)
        prices = []
        if q.min_price is not None:
            prices.append("price >= CAST(:min_price AS bigint)")
            params["min_price"] = arrays.clamp(q.min_price)
        if q.max_price is not None:
            prices.append("price <= CAST(:max_price AS bigint)")
            params["max_price"] = arrays.clamp(q.max_price)
        if prices:
            conditions["price"] = " AND ".join(prices)
        if q.in_stock:
            conditions["in_stock"] = "in_stock"

        def where(skip: str | None = None) -> str:
            chosen = [f"({c})" for name, c in conditions.items() if name != skip]
            return " AND ".join(chosen) if chosen else "TRUE"

        ranked = q.sort == "relevance" and bool(terms)
        matched = ""
        rank = ""
        if terms:
            params["query"] = tsquery_literal(terms)
            matched = " WHERE tsv @@ CAST(:query AS tsquery)"
            if ranked:
                rank = (", CAST(ts_rank_cd(tsv, CAST(:query AS tsquery)) AS float8) * "
                        f"CASE WHEN in_stock THEN 1.0 ELSE {float(SOLD_OUT_BOOST)!r} END AS rank")
        order = {
            "price_asc": "price, product_id",
            "price_desc": "price DESC, product_id DESC",
        }.get(q.sort, "rank DESC, product_id" if ranked else "published DESC, product_id DESC")
        bucket = "CASE " + " ".join(
            f"WHEN price < {int(high)} THEN {i}" for i, (_low, high) in enumerate(PRICE_BUCKETS) if high is not None
        ) + f" ELSE {len(PRICE_BUCKETS) - 1} END"
        start = (q.page - 1) * q.per_page

        def counted(skip: str | None, extra: str = "") -> str:
            condition = " AND ".join(c for c in (where(skip) if conditions else "", extra) if c and c != "TRUE")
            return f"count(*) FILTER (WHERE {condition})" if condition else "count(*)"

        facet_sets = (("category", "category_id"), ("province", "province"), ("kube", "kube_id"), ("price", "bucket"))
        part = " ".join(f"WHEN GROUPING({column}) = 0 THEN {i}" for i, (_, column) in enumerate(facet_sets))
        count = " ".join(f"WHEN GROUPING({column}) = 0 THEN {counted(name)}" for name, column in facet_sets)
        parts = [
            f"SELECT CASE {part} ELSE 5 END AS part, "
            "CAST(coalesce(category_id, province, kube_id, bucket, 0) AS bigint) AS key, "
            f"CASE {count} ELSE {counted(None)} END AS n, {counted('in_stock', 'in_stock')} AS in_stock "
            f"FROM (SELECT category_id, province, kube_id, price, in_stock, {bucket} AS bucket FROM m) f "
            "GROUP BY GROUPING SETS ((category_id), (province), (kube_id), (bucket), ())"
        ]
        if start >= 0 and q.per_page > 0:
            params["limit"] = arrays.clamp(q.per_page)
            params["offset"] = arrays.clamp(start)
            parts.append(
                f"(SELECT 6, CAST(product_id AS bigint), row_number() OVER (ORDER BY {order}), 0 FROM "
                f"(SELECT * FROM m WHERE {where()} ORDER BY {order} "
                "LIMIT CAST(:limit AS bigint) OFFSET CAST(:offset AS bigint)) p)"
            )
        sql = (
            "WITH m AS MATERIALIZED (SELECT product_id, category_id, province, kube_id, price, in_stock, "
            f"published{rank} FROM {self.documents}{matched})\n" + "\nUNION ALL ".join(parts)
        )
        return sql, params

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        typed = words(prefix[:200])
        if not typed or len(typed[-1]) < 2 or limit < 1:
            return []
        head, last = typed[:-1], typed[-1]
        with self._reading() as conn:
            found = conn.execute(text(
                f"SELECT word FROM (SELECT word, docs FROM {self.words} WHERE word >= :low AND word < :high "
                "ORDER BY word LIMIT CAST(:scan AS bigint)) c ORDER BY docs DESC, word LIMIT CAST(:limit AS bigint)"
            ), {"low": last, "high": last + _MAX_CHAR, "scan": SUGGEST_SCAN, "limit": min(limit, SUGGEST_SCAN)})
            return [" ".join([*head, word]) for (word,) in found]

    def correct(self, text_: str) -> str | None:
        """Each word that finds nothing is replaced by the nearest name or category word sharing its first
        letter: smallest edit distance first (at most 1 for words of up to 4 letters, else 2), then the
        one in most documents, then the first alphabetically (as the other backends)."""
        typed = words(text_[:200])[:12]
        if not typed:
            return None
        changed = False
        out: list[str] = []
        with self._reading() as conn:
            for word in typed:
                term = stem(word)
                if not term or not word.isalpha() or conn.scalar(text(
                    f"SELECT EXISTS (SELECT 1 FROM {self.documents} WHERE tsv @@ CAST(:query AS tsquery))"
                ), {"query": tsquery_literal([term])}):
                    out.append(word)
                    continue
                found = self._nearest(conn, word)
                if found is not None and found != word:
                    out.append(found)
                    changed = True
                else:
                    out.append(word)
        return " ".join(out) if changed else None

    def _nearest(self, conn: Connection, word: str) -> str | None:
        maxdist = 2 if len(word) > 4 else 1
        rows = conn.execute(text(
            f"SELECT word, docs FROM {self.words} WHERE word >= :low AND word < :high "
            "AND length(word) BETWEEN :shortest AND :longest"
        ), {"low": word[0], "high": word[0] + _MAX_CHAR, "shortest": len(word) - maxdist,
            "longest": len(word) + maxdist})
        best: tuple[int, int, str] | None = None
        for candidate, docs in rows:
            distance = arrays.levenshtein(word, candidate, maxdist)
            if distance <= maxdist and (best is None or (distance, -docs, candidate) < best):
                best = (distance, -docs, candidate)
        return best[2] if best else None

    # --- writing (the indexer holds the writer lock around these) -----------------------------------

    def _insert(self, table: str) -> Any:
        values = ", ".join("CAST(:tsv AS tsvector)" if c == "tsv" else f":{c}" for c in _COLUMNS)
        return text(f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({values})")

    def apply(self, docs: Iterable[SearchDoc], removed: Iterable[int]) -> None:
        # Analyse before the transaction: Sastrawi is the slow part.
        rows = {doc.product_id: _row(doc) for doc in docs}  # a product listed twice: its last version wins
        ids = sorted(set(rows) | {int(i) for i in removed})
        if not ids:
            return
        spell: Counter[str] = Counter()
        try:
            with self.engine.begin() as conn:
                for start in range(0, len(ids), BATCH):
                    chunk = ids[start:start + BATCH]
                    for (old,) in conn.execute(text(
                        f"DELETE FROM {self.documents} WHERE product_id = ANY(CAST(:ids AS integer[])) "
                        "RETURNING spell"
                    ), {"ids": chunk}):
                        spell.subtract(old.split())
                values = list(rows.values())
                for start in range(0, len(values), BATCH):
                    conn.execute(self._insert(self.documents), values[start:start + BATCH])
                for row in values:
                    spell.update(row["spell"].split())
                self._count_words(conn, self.words, {w: n for w, n in spell.items() if n})
        except DBAPIError as exc:
            if _missing(exc):
                raise IndexUnavailable(f"search index cannot take changes: {exc.orig}") from exc
            raise

    @staticmethod
    def _count_words(conn: Connection, table: str, deltas: dict[str, int]) -> None:
        if not deltas:
            return
        items = sorted(deltas.items())
        conn.execute(text(
            f"INSERT INTO {table} AS w (word, docs) SELECT * FROM unnest(CAST(:words AS text[]), "
            "CAST(:docs AS integer[])) ON CONFLICT (word) DO UPDATE SET docs = w.docs + excluded.docs"
        ), {"words": [w for w, _ in items], "docs": [n for _, n in items]})
        conn.execute(text(f"DELETE FROM {table} WHERE word = ANY(CAST(:words AS text[])) AND docs <= 0"),
                     {"words": [w for w, n in items if n < 0]})

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Fill fresh tables, index them, and swap them in by renaming, all in one transaction."""
        documents, words_ = f"{self.documents}_next", f"{self.words}_next"
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {documents}, {words_}"))
            conn.execute(text(
                f"CREATE TABLE {documents} (product_id integer PRIMARY KEY, category_id integer NOT NULL, "
                "parent_id integer NOT NULL, province smallint NOT NULL, kube_id integer NOT NULL, "
                "price bigint NOT NULL, in_stock boolean NOT NULL, published bigint NOT NULL, "
                "tsv tsvector NOT NULL, spell text NOT NULL)"
            ))
            conn.execute(text(f'CREATE TABLE {words_} (word text COLLATE "C" PRIMARY KEY, docs integer NOT NULL)'))
            latest: dict[int, dict[str, Any]] = {}
            count = 0
            spell: Counter[str] = Counter()

            def flush() -> None:
                conn.execute(text(
                    f"DELETE FROM {documents} WHERE product_id = ANY(CAST(:ids AS integer[]))"
                ), {"ids": list(latest)})
                conn.execute(self._insert(documents), list(latest.values()))
                latest.clear()

            seen: dict[int, str] = {}  # product id -> its spelling words (a product sent twice counts once)
            for doc in docs:
                row = _row(doc)
                if doc.product_id in seen:
                    spell.subtract(seen[doc.product_id].split())
                else:
                    count += 1
                seen[doc.product_id] = row["spell"]
                spell.update(row["spell"].split())
                latest[doc.product_id] = row
                if len(latest) >= BATCH:
                    flush()
            if latest:
                flush()
            del seen
            counted = [(w, n) for w, n in sorted(spell.items()) if n > 0]
            for start in range(0, len(counted), 10 * BATCH):
                chunk = counted[start:start + 10 * BATCH]
                conn.execute(text(
                    f"INSERT INTO {words_} (word, docs) SELECT * FROM unnest(CAST(:words AS text[]), "
                    "CAST(:docs AS integer[]))"
                ), {"words": [w for w, _ in chunk], "docs": [n for _, n in chunk]})
            # The GIN index in one pass after loading: much quicker than growing it row by row.
            conn.execute(text(f"CREATE INDEX {documents}_tsv ON {documents} USING gin (tsv)"))
            conn.execute(text(f"ANALYZE {documents}"))
            conn.execute(text(f"ANALYZE {words_}"))
            # The swap waits for searches running on the old tables (milliseconds), never for long.
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
            conn.execute(text(f"DROP TABLE IF EXISTS {self.documents}, {self.words}"))
            conn.execute(text(f"ALTER TABLE {documents} RENAME TO {self.documents}"))
            conn.execute(text(f"ALTER TABLE {words_} RENAME TO {self.words}"))
            conn.execute(text(f"ALTER INDEX {documents}_pkey RENAME TO {self.documents}_pkey"))
            conn.execute(text(f"ALTER INDEX {documents}_tsv RENAME TO {self.documents}_tsv"))
            conn.execute(text(f"ALTER INDEX {words_}_pkey RENAME TO {self.words}_pkey"))
            conn.execute(text(f"CREATE TABLE IF NOT EXISTS {self.state} (key text PRIMARY KEY, value text NOT NULL)"))
            conn.execute(text(
                f"INSERT INTO {self.state} (key, value) VALUES ('format', :format), "
                "('rebuilt_at', CAST(extract(epoch FROM now()) AS text)) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ), {"format": FORMAT})
        return count

    def drop(self) -> None:
        """Remove the index tables (when leaving this backend, and after tests)."""
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {self.documents}, {self.words}, {self.state}, "
                              f"{self.documents}_next, {self.words}_next"))


class PostgresCoordination:
    """Who writes the index, for every app host: a PostgreSQL advisory lock held for one indexer round
    (on a connection of its own), and rebuild requests kept in the state table."""

    def __init__(self, backend: PostgresBackend) -> None:
        self.backend = backend
        key = zlib.crc32(backend.prefix.encode())
        self._key = {"a": _LOCK_CLASS, "b": key - 2**32 if key >= 2**31 else key}  # two int4 keys

    @contextmanager
    def writer(self, *, wait: bool = False) -> Iterator[bool]:
        """Hold the writer lock; yields False at once when another process (on any host) holds it."""
        conn = self.backend.engine.connect()
        try:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), self._key)
                mine = True
            else:
                mine = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"), self._key))
            conn.commit()  # the lock belongs to the session: no transaction stays open while it is held
            if not mine:
                yield False
                return
            try:
                yield True
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), self._key)
                    conn.commit()
                except Exception:
                    # Never hand a connection that may still hold the lock back to the pool.
                    conn.invalidate()
                    raise
        finally:
            conn.close()

    def ask_rebuild(self) -> None:
        try:
            with self.backend.engine.begin() as conn:
                conn.execute(text(
                    f"INSERT INTO {self.backend.state} (key, value) VALUES ('rebuild', "
                    "CAST(extract(epoch FROM now()) AS text)) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                ))
        except DBAPIError as exc:
            if not _missing(exc):
                raise
            # No state table means no index yet: the next round builds one anyway.

    def rebuild_asked(self, pause: float) -> bool:
        """A rebuild was asked for and the last one is at least `pause` seconds old (on the database's
        clock: hosts' clocks may differ)."""
        try:
            with self.backend.engine.connect() as conn:
                return bool(conn.scalar(text(
                    f"SELECT EXISTS (SELECT 1 FROM {self.backend.state} WHERE key = 'rebuild') AND "
                    f"coalesce(extract(epoch FROM now()) - (SELECT CAST(value AS float8) FROM {self.backend.state} "
                    "WHERE key = 'rebuilt_at'), :pause) >= :pause"
                ), {"pause": pause}))
        except DBAPIError as exc:
            if _missing(exc):
                return False  # no index yet: check() says so
            raise

    def clear_rebuild(self) -> None:
        try:
            with self.backend.engine.begin() as conn:
                conn.execute(text(f"DELETE FROM {self.backend.state} WHERE key = 'rebuild'"))
        except DBAPIError as exc:
            if not _missing(exc):
                raise
