"""The default search backend: a Whoosh index on local disk, one per app host.

Whoosh (pure Python) is good at finding and ranking words; it is slow at counting facets, filtering and
sorting by numbers (SEARCH.md measured 140 ms and 62 ms at p95 on 50,000 products). So it does only the
first part here: the posting lists of the query terms give the matching documents, and Whoosh's BM25F ranks
the top of them (using its block-quality skipping). Filters, facet counts and price/date sorting run on
per-segment column arrays loaded once into numpy (a segment never changes once written), which takes a
few milliseconds at 100,000 products.

Layout on disk: `<root>/CURRENT` names the live generation directory `<root>/gen-<n>`; a rebuild writes a new
generation and swaps the pointer, so searches keep answering from the old one meanwhile.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import shutil
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from math import log
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import columns, fields, index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.index import LockError
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from marketplace.search import arrays
from marketplace.search.analysis import STOPWORDS, analyse, query_terms, stem, words
from marketplace.search.backend import (
    Generations,
    IndexUnavailable,
    SearchDoc,
    SearchHits,
    SearchQuery,
)

__all__ = ["IndexUnavailable", "WhooshBackend"]

INDEX_NAME = "products"
NAME_BOOST = 3.0  # a word in the product's name counts three times a word elsewhere
SOLD_OUT_BOOST = 0.5  # a sold-out product ranks below an otherwise identical one in stock
B, K1 = 0.75, 1.2  # Whoosh's BM25F defaults
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


def _schema() -> fields.Schema:
    # The text fields hold terms already analysed by marketplace.search.analysis (space separated), so the
    # pickled schema names no function of ours and every backend gets the very same terms.
    terms = SpaceSeparatedTokenizer()
    return fields.Schema(
        pid=fields.ID(unique=True),
        name=fields.TEXT(analyzer=terms, phrase=False),
        text=fields.TEXT(analyzer=terms, phrase=False),  # name, description, KUBE, category, region
        spell=fields.KEYWORD(lowercase=False, scorable=False),  # unstemmed name/category words, for typos
        c_pid=fields.COLUMN(columns.NumericColumn("q")),
        c_category=fields.COLUMN(columns.NumericColumn("i")),
        c_province=fields.COLUMN(columns.NumericColumn("h")),
        c_kube=fields.COLUMN(columns.NumericColumn("i")),
        c_price=fields.COLUMN(columns.NumericColumn("q")),
        c_stock=fields.COLUMN(columns.NumericColumn("b")),
        c_published=fields.COLUMN(columns.NumericColumn("q")),
    )


SCHEMA = _schema()
COLUMNS = ("c_pid", "c_category", "c_province", "c_kube", "c_price", "c_stock", "c_published")
_NP_TYPES = {"q": ">i8", "i": ">i4", "h": ">i2", "b": "i1", "B": "u1"}


def spell_words(doc: SearchDoc) -> str:
    """Words a correction or a completion may offer: from product names and the Indonesian category names
    only (descriptions are noisy, SEARCH.md; English category words would crowd the completions)."""
    seen = dict.fromkeys(
        w for w in words(f"{doc.name} {doc.category_label or doc.category_names}")
        if len(w) >= 3 and w not in STOPWORDS and w.isalpha()
    )
    return " ".join(seen)


def _fields(doc: SearchDoc) -> dict[str, Any]:
    text = " ".join(
        " ".join(analyse(t)) for t in (doc.name, doc.description, doc.kube_name, doc.category_names, doc.region_names)
    )
    return {
        "pid": str(doc.product_id),
        "name": " ".join(analyse(doc.name)),
        "text": text,
        "spell": spell_words(doc),
        "c_pid": doc.product_id,
        "c_category": doc.category_id,
        "c_province": int(doc.province_code) if doc.province_code.isdigit() else 0,
        "c_kube": doc.kube_id,
        "c_price": doc.price,
        "c_stock": 1 if doc.in_stock else 0,
        "c_published": doc.published_ts,
        "_boost": 1.0 if doc.in_stock else SOLD_OUT_BOOST,
    }


@dataclass
class _Columns:
    """Column arrays of the whole index, indexed by global document number."""

    pid: np.ndarray
    category: np.ndarray
    province: np.ndarray
    kube: np.ndarray
    price: np.ndarray
    stock: np.ndarray
    published: np.ndarray
    name_len: np.ndarray  # field lengths, for BM25
    text_len: np.ndarray
    live: np.ndarray  # global docnums of documents not deleted
    is_live: np.ndarray  # bool per global docnum
    segments: list[tuple[Any, int, _Segment]]  # (reader, offset, cached arrays and postings)
    _avg: dict[str, float] = dataclasses.field(default_factory=dict)

    def avg_length(self, searcher: Searcher, name: str) -> float:
        """Average length of a text field over live documents: Whoosh's exact total minus the (byte-rounded)
        lengths of deleted documents, which Whoosh still counts until a merge."""
        if name not in self._avg:
            lengths = self.name_len if name == "name" else self.text_len
            deleted = float(lengths[~self.is_live].sum()) if self.live.size < self.is_live.size else 0.0
            total = searcher.reader().field_length(name) - deleted
            self._avg[name] = (total / self.live.size) if self.live.size and total > 0 else 1.0
        return self._avg[name]


def _column_array(colreader: Any, typecode: str, doccount: int) -> np.ndarray:
    """One segment's numeric column as an int64 array (reading the fixed-width bytes at once)."""
    dtype = np.dtype(_NP_TYPES[typecode])
    count = colreader._count
    data = np.frombuffer(colreader._dbfile.get(colreader._basepos, count * dtype.itemsize), dtype=dtype,
                         count=count)
    out = np.full(doccount, colreader._default, dtype=np.int64)
    out[:count] = data
    return out


class _Segment:
    """What is cached for one segment: its column arrays and the postings of recent terms. A segment's
    files never change once written (only its deletions do, applied at query time)."""

    # Postings kept per segment, by size: a term's arrays take 16 bytes per document holding it, so 32 MB
    # holds a few hundred common terms and thousands of rare ones.
    POSTINGS_BYTES = 32 * 1024 * 1024

    def __init__(self, reader: Any) -> None:
        doccount = reader.doc_count_all()
        self.doccount = doccount
        self.columns = {
            name: _column_array(reader.column_reader(name, translate=False),
                                SCHEMA[name].column_type._typecode, doccount)
            for name in COLUMNS
        }
        perdoc = reader._perdoc
        self.lengths: dict[str, np.ndarray] = {}
        for field in ("name", "text"):
            lenfield = f"_{field}_len"
            if doccount and perdoc.has_column(lenfield):
                raw = _column_array(perdoc.column_reader(lenfield, LENGTHS_COLUMN), "B", doccount)
                self.lengths[field] = _LENGTHS[raw]
            else:
                self.lengths[field] = np.zeros(doccount, dtype=np.float64)
        self._postings: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def postings(self, reader: Any, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        key = (field, term)
        with self._lock:
            found = self._postings.get(key)
            if found is not None:
                self._postings.move_to_end(key)
                return found
        found = _read_postings(reader, field, term)
        size = found[0].nbytes + found[1].nbytes
        with self._lock:
            if key not in self._postings:
                self._postings[key] = found
                self._bytes += size
            while self._bytes > self.POSTINGS_BYTES and len(self._postings) > 1:
                _, (ids, weights) = self._postings.popitem(last=False)
                self._bytes -= ids.nbytes + weights.nbytes
        return found


_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def _read_postings(reader: Any, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """A term's document numbers and weights (term frequency x document boost) in one segment, deletions
    included. Reads Whoosh's posting blocks whole instead of stepping through them one posting at a time."""
    if (field, term) not in reader:
        return _EMPTY
    matcher = reader.postings(field, term)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child  # the deletion filter; deletions are masked with is_live instead
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if hasattr(matcher, "_goto") and hasattr(matcher, "_read_ids"):
        while True:
            matcher._read_ids()
            matcher._read_weights()
            ids.append(np.asarray(matcher._ids, dtype=np.int64))
            weights.append(np.asarray(matcher._weights, dtype=np.float64))
            if matcher._lastblock:
                break
            matcher._goto(matcher._nextoffset)
    else:  # another codec: the slow, public way
        got_ids: list[int] = []
        got_weights: list[float] = []
        while matcher.is_active():
            got_ids.append(matcher.id())
            got_weights.append(matcher.weight())
            matcher.next()
        ids.append(np.array(got_ids, dtype=np.int64))
        weights.append(np.array(got_weights, dtype=np.float64))
    return np.concatenate(ids), np.concatenate(weights)


def _term_postings(searcher: Searcher, cols: _Columns, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """A term's live global document numbers (sorted) and weights over the whole index."""
    id_parts: list[np.ndarray] = []
    weight_parts: list[np.ndarray] = []
    for reader, offset, segment in cols.segments:
        ids, weights = segment.postings(reader, field, term)
        if ids.size:
            id_parts.append(ids + offset)
            weight_parts.append(weights)
    if not id_parts:
        return _EMPTY
    ids = np.concatenate(id_parts)
    weights = np.concatenate(weight_parts)
    live = cols.is_live[ids]
    if not live.all():
        ids, weights = ids[live], weights[live]
    return ids, weights


class _SegmentCache:
    """The _Segment of every segment in use, by segment id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[str, _Segment] = {}

    def columns(self, searcher: Searcher) -> _Columns:
        parts: dict[str, list[np.ndarray]] = {name: [] for name in (*COLUMNS, "name_len", "text_len")}
        live: list[np.ndarray] = []
        segments: list[tuple[Any, int, _Segment]] = []
        keep: set[str] = set()
        for reader, offset in searcher.reader().leaf_readers():
            segid = reader.segment().segment_id()
            keep.add(segid)
            with self._lock:
                segment = self._segments.get(segid)
            if segment is None or segment.doccount != reader.doc_count_all():
                segment = _Segment(reader)
                with self._lock:
                    self._segments[segid] = segment
            segments.append((reader, offset, segment))
            for name in COLUMNS:
                parts[name].append(segment.columns[name])
            parts["name_len"].append(segment.lengths["name"])
            parts["text_len"].append(segment.lengths["text"])
            if reader.has_deletions():
                ids = np.fromiter(reader.all_doc_ids(), dtype=np.int64)
            else:
                ids = np.arange(segment.doccount, dtype=np.int64)
            live.append(ids + offset)
        with self._lock:
            for segid in list(self._segments):
                if segid not in keep:
                    del self._segments[segid]

        def cat(name: str, dtype: Any = np.int64) -> np.ndarray:
            return np.concatenate(parts[name]) if parts[name] else np.zeros(0, dtype=dtype)

        live_ids = np.concatenate(live) if live else np.zeros(0, dtype=np.int64)
        total = sum(s.doccount for _, _, s in segments)
        is_live = np.zeros(total, dtype=bool)
        is_live[live_ids] = True
        return _Columns(
            pid=cat("c_pid"), category=cat("c_category"), province=cat("c_province"),
            kube=cat("c_kube"), price=cat("c_price"), stock=cat("c_stock"), published=cat("c_published"),
            name_len=cat("name_len", np.float64), text_len=cat("text_len", np.float64),
            live=live_ids, is_live=is_live, segments=segments,
        )


@dataclass
class _Reader:
    """An open searcher with the arrays of its segments; used by one thread at a time."""

    searcher: Searcher
    columns: _Columns
    generation: str


class WhooshBackend:
    """Search over a Whoosh index in `root` (see the module docstring for the layout)."""

    name = "whoosh"

    def __init__(self, root: str | os.PathLike[str], *, build_procs: int = 1, build_limitmb: int = 256) -> None:
        self.root = Path(root)
        self.build_procs = build_procs
        self.build_limitmb = build_limitmb
        self._segments = _SegmentCache()
        # Idle searchers, reused by whichever thread searches next (Whoosh searchers share file handles, so
        # one thread at a time each): works the same with one thread per worker or one per request.
        self._idle: list[_Reader] = []
        self._idle_lock = threading.Lock()

    # --- where the index lives -----------------------------------------------------------------------

    def current_generation(self) -> str | None:
        return Generations(self.root).current()

    def _open(self) -> index.Index:
        generation = self.current_generation()
        if generation is None:
            raise IndexUnavailable("no search index yet")
        # Whoosh leaves a file open when it fails on a broken index: let it go quietly (no ResourceWarning
        # at some random later point), then report the index as unavailable.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                # Opening with our schema means the pickled one in the index is never relied on.
                return index.open_dir(str(self.root / generation), indexname=INDEX_NAME, schema=SCHEMA)
            except Exception as exc:
                message = f"search index {generation} cannot be opened: {exc}"
            gc.collect()
        raise IndexUnavailable(message)

    POOL = 8  # idle searchers kept per process

    @contextmanager
    def _reading(self) -> Iterator[tuple[Searcher, _Columns]]:
        """A searcher of the current index, reopened when the index changed (a cheap check when not).

        Never `Searcher.refresh()`: it reuses segment readers whose deletions have since changed, so an
        updated or removed product would still be found."""
        generation = self.current_generation()
        reader: _Reader | None = None
        with self._idle_lock:
            while self._idle:
                candidate = self._idle.pop()
                if candidate.generation == generation and candidate.searcher.up_to_date():
                    reader = candidate
                    break
                candidate.searcher.close()
        if reader is None:
            reader = self._new_reader(generation)
        try:
            yield reader.searcher, reader.columns
        except BaseException:
            reader.searcher.close()
            raise
        with self._idle_lock:
            if len(self._idle) < self.POOL:
                self._idle.append(reader)
                return
        reader.searcher.close()

    def _new_reader(self, generation: str | None) -> _Reader:
        if generation is None:
            raise IndexUnavailable("no search index yet")
        ix = self._open()
        searcher = None
        try:
            searcher = ix.searcher(weighting=BM25F())
            return _Reader(searcher, self._segments.columns(searcher), generation)
        except Exception as exc:  # a segment file gone or garbled
            message = f"search index cannot be read: {exc}"
            if searcher is not None:
                searcher.close()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        raise IndexUnavailable(message)

    def close(self) -> None:
        """Close the idle searchers (open ones close when their search ends)."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.searcher.close()

    # --- reading ---------------------------------------------------------------------------------------

    def check(self) -> None:
        with self._reading():
            pass

    def doc_count(self) -> int:
        with self._reading() as (searcher, _):
            return int(searcher.doc_count())

    def _matching(self, searcher: Searcher, cols: _Columns, terms: Sequence[str]) -> tuple[np.ndarray, list[Any]]:
        """Global docnums containing every term (sorted), and each term's postings for scoring."""
        if not terms:
            return cols.live, []
        postings = []
        result: np.ndarray | None = None
        # Rarest term first: the intersection shrinks fastest.
        for term in sorted(terms, key=lambda t: searcher.doc_frequency("text", t)):
            text_ids, text_weights = _term_postings(searcher, cols, "text", term)
            postings.append((term, text_ids, text_weights))
            result = text_ids if result is None else np.intersect1d(result, text_ids, assume_unique=True)
            if result.size == 0:
                return result, []
        return (result if result is not None else cols.live), postings

    def search(self, q: SearchQuery) -> SearchHits:
        with self._reading() as (searcher, cols):
            return self._search(searcher, cols, q)

    def _search(self, searcher: Searcher, cols: _Columns, q: SearchQuery) -> SearchHits:
        terms = query_terms(q.text)
        postings: list[Any] = []
        if q.text.strip() and not terms:
            matched = np.zeros(0, dtype=np.int64)  # only stopwords or symbols: nothing to look for
        else:
            matched, postings = self._matching(searcher, cols, terms)

        ranker = None
        if postings:
            def ranker(selected: np.ndarray, start: int, per_page: int) -> list[int]:
                return self._ranked(searcher, cols, postings, selected, start=start, per_page=per_page)
        return arrays.page(cols, matched, q, terms, ranker)

    def _ranked(self, searcher: Searcher, cols: _Columns, postings: list[Any], selected: np.ndarray, *,
                start: int, per_page: int) -> list[int]:
        """BM25F as Whoosh computes it (B=0.75, K1=1.2, idf = log(N/(df+1)) + 1), summed over the terms,
        with the name field counted NAME_BOOST times; computed on arrays for all selected documents.

        Document counts and average lengths are those of live documents (Whoosh's own still count deleted
        ones until a merge, so rankings would drift after updates)."""
        doccount = max(1, int(cols.live.size))
        scores = np.zeros(selected.size, dtype=np.float64)
        for term, text_ids, text_weights in postings:
            for field, boost, lengths in (("text", 1.0, cols.text_len), ("name", NAME_BOOST, cols.name_len)):
                if field == "text":
                    ids, weights = text_ids, text_weights
                else:
                    ids, weights = _term_postings(searcher, cols, "name", term)
                if ids.size == 0:
                    continue
                pos = np.searchsorted(ids, selected)
                pos[pos >= ids.size] = 0
                hit = ids[pos] == selected
                tf = np.where(hit, weights[pos], 0.0)
                idf = log(doccount / (ids.size + 1)) + 1
                avgfl = cols.avg_length(searcher, field)
                fl = lengths[selected]
                scores += boost * idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl))
        return arrays.top_page(scores, cols.pid[selected], start, per_page)

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        typed = words(prefix[:200])
        if not typed or len(typed[-1]) < 2 or limit < 1:
            return []
        head, last = typed[:-1], typed[-1]
        with self._reading() as (searcher, _):
            reader = searcher.reader()
            candidates: list[tuple[int, str]] = []
            for i, term in enumerate(reader.expand_prefix("spell", last)):
                if i >= 2000:  # a two-letter prefix: the most frequent of the first 2,000 is plenty
                    break
                word = term.decode() if isinstance(term, bytes) else term
                candidates.append((reader.doc_frequency("spell", word), word))
        candidates.sort(key=lambda c: (-c[0], c[1]))
        return [" ".join([*head, word]) for _, word in candidates[:limit]]

    def correct(self, text: str) -> str | None:
        """Each word that finds nothing is replaced by the nearest name or category word: smallest edit
        distance first (at most 1 for words of 4 letters or fewer, else 2), then the most frequent, sharing
        the first letter. Whoosh's own corrector ranks by frequency alone ("sabutt" -> "sabun")."""
        typed = words(text[:200])[:12]
        if not typed:
            return None
        with self._reading() as (searcher, cols):
            reader = searcher.reader()
            changed = False
            out: list[str] = []
            for word in typed:
                term = stem(word)
                if not term or not word.isalpha() or _term_postings(searcher, cols, "text", term)[0].size:
                    out.append(word)
                    continue
                maxdist = 2 if len(word) > 4 else 1
                best: tuple[int, int, str] | None = None
                for candidate in reader.terms_within("spell", word, maxdist, prefix=1):
                    found = candidate.decode() if isinstance(candidate, bytes) else candidate
                    distance = arrays.levenshtein(word, found, maxdist)
                    if found == word or distance > maxdist:
                        continue
                    key = (distance, -reader.doc_frequency("spell", found), found)
                    if best is None or key < best:
                        best = key
                if best is not None:
                    out.append(best[2])
                    changed = True
                else:
                    out.append(word)
        return " ".join(out) if changed else None

    # --- writing (the indexer holds the indexer lock around these) ----------------------------------

    def apply(self, docs: Iterable[SearchDoc], removed: Iterable[int]) -> None:
        latest = {doc.product_id: doc for doc in docs}  # a product listed twice: the last version wins
        gone = set(removed) - set(latest)
        ix = self._open()
        writer = ix.writer(timeout=30.0, delay=0.05)
        try:
            for product_id in gone:
                writer.delete_by_term("pid", str(product_id))
            for doc in latest.values():
                writer.update_document(**_fields(doc))
            writer.commit()
        except LockError:
            writer.cancel()
            raise
        except Exception as exc:  # a garbled segment: the index must be rebuilt
            writer.cancel()
            raise IndexUnavailable(f"search index cannot take changes: {exc}") from exc

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        generation = f"gen-{time.time_ns()}"
        path = self.root / generation
        path.mkdir()
        ix = index.create_in(str(path), SCHEMA, indexname=INDEX_NAME)
        kwargs: dict[str, Any] = {"limitmb": self.build_limitmb}
        if self.build_procs > 1:
            kwargs.update(procs=self.build_procs, multisegment=True)
        writer = ix.writer(**kwargs)
        count = 0
        seen: set[int] = set()
        try:
            for doc in docs:
                if doc.product_id in seen:  # the documents come in id order from the database; never twice
                    continue
                seen.add(doc.product_id)
                writer.add_document(**_fields(doc))
                count += 1
        except BaseException:
            writer.cancel()
            shutil.rmtree(path, ignore_errors=True)
            raise
        writer.commit()
        self._swap(generation)
        return count

    def _swap(self, generation: str) -> None:
        previous = Generations(self.root).swap(generation)
        # Keep the previous generation (another process may still be reading it); drop older ones.
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child.name not in {generation, previous}:
                shutil.rmtree(child, ignore_errors=True)
