"""The Whoosh backend ranks on arrays; its scores must be Whoosh's own BM25F scores."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import query
from whoosh.scoring import BM25F

from marketplace.search.analysis import query_terms
from marketplace.search.backend import SearchQuery
from marketplace.search.whoosh_backend import NAME_BOOST, WhooshBackend
from tests.search.test_contract import DOCS, doc

EXTRA = [doc(100 + i, f"Keripik {flavour}", f"Keripik {flavour} renyah, kemasan {size}", price=10_000 + i)
         for i, (flavour, size) in enumerate([("Pisang Manis", "250 g"), ("Singkong Pedas", "500 g"),
                                              ("Pisang Keju", "1 kg"), ("Tempe", "100 g keripik")])]


@pytest.mark.parametrize("text", ["kelapa", "minyak kelapa", "keripik", "keripik pisang", "tas pandan", "sabun"])
def test_ranking_equals_whoosh_bm25f(tmp_path: Path, text: str) -> None:
    backend = WhooshBackend(tmp_path)
    backend.rebuild(DOCS + EXTRA)
    ours = backend.search(SearchQuery(text=text, per_page=50)).product_ids
    with backend._reading() as (_, cols):
        pass
    terms = query_terms(text)
    scored = query.And([
        query.Or([query.Term("name", t, boost=NAME_BOOST), query.Term("text", t)]) for t in terms
    ])
    with backend._open().searcher(weighting=BM25F()) as reference:
        hits = reference.search(scored, limit=None)
        ranked = sorted((-round(h.score, 6), int(cols.pid[h.docnum])) for h in hits)
    assert ours == [pid for _, pid in ranked]
    backend.close()
