"""The search contract: every backend must pass these on the same documents (docs/search.md)."""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from marketplace.search.backend import PRICE_BUCKETS, SearchBackend, SearchDoc, SearchQuery, price_bucket
from marketplace.search.whoosh_backend import IndexUnavailable

BACKENDS = {
    "whoosh": ("marketplace.search.whoosh_backend", "WhooshBackend"),
    "fts5": ("marketplace.search.fts5_backend", "Fts5Backend"),
    "postgres": ("marketplace.search.pg_backend", "PostgresBackend"),
}
TEST_DATABASE_URL = os.environ.get("MARKETPLACE_TEST_DATABASE_URL", "")

SNACKS, OILS, SOAP, CRAFTS = 11, 12, 13, 21  # leaf categories; 1 = food (parent of 11), 2 = coconut, 3 = crafts


def doc(pid: int, name: str, description: str = "", *, kube: int = 1, category: int = OILS, province: str = "72",
        price: int = 20_000, in_stock: bool = True, ts: int | None = None, kube_name: str = "KUBE Nyiur") -> SearchDoc:
    parent = {SNACKS: 1, OILS: 2, SOAP: 2, CRAFTS: 3}[category]
    names = {SNACKS: "Camilan Snacks Makanan", OILS: "Minyak Oils Olahan Kelapa", SOAP: "Sabun Soap Olahan Kelapa",
             CRAFTS: "Kerajinan Crafts"}[category]
    return SearchDoc(
        product_id=pid, name=name, description=description, kube_id=kube, kube_name=kube_name,
        category_id=category, category_parent_id=parent, category_names=names, province_code=province,
        region_names={"72": "Sulawesi Tengah Banggai", "32": "Jawa Barat Bandung", "51": "Bali Gianyar"}[province],
        price=price, in_stock=in_stock, published_ts=ts if ts is not None else 1_700_000_000 + pid,
    )


DOCS = [
    doc(1, "Minyak Kelapa Murni 500 ml", "Diolah dingin dari kelapa segar.", price=45_000),
    doc(2, "Sabun Kelapa Sereh", "Sabun olahan minyak kelapa, dikirim dalam kemasan kertas.", category=SOAP,
        price=12_000),
    doc(3, "Keripik Pisang Pedas", "Pengiriman cepat dari Banggai.", category=SNACKS, price=15_000),
    doc(4, "Keripik Singkong Balado", "Camilan pedas.", category=SNACKS, price=18_000, kube=2, province="32",
        kube_name="KUBE Sauyunan"),
    doc(5, "Tas Anyaman Pandan", "Buatan tangan, oleh-oleh khas Bali.", category=CRAFTS, price=150_000, kube=3,
        province="51", kube_name="KUBE Tukad"),
    doc(6, "Gula Kelapa Cetak", "Gula merah dari nira kelapa.", category=SNACKS, price=30_000, in_stock=False),
    doc(7, "Arang Tempurung", "Arang dari tempurung kelapa, 30 persen rendemen.", category=OILS, price=300_000,
        kube=2, province="32", kube_name="KUBE Sauyunan"),
    doc(8, "Minyak Goreng Kelapa 1 Liter", "Untuk menggoreng.", price=45_000, kube=2, province="32",
        kube_name="KUBE Sauyunan"),
    doc(9, "Anti-Air Tas Pandan", "Tas anyaman anti air.", category=CRAFTS, price=95_000, kube=3, province="51",
        kube_name="KUBE Tukad"),
]


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    """The test database's engine, for the PostgreSQL backend (its index lives in the app's database)."""
    if not TEST_DATABASE_URL.startswith("postgresql"):
        pytest.skip("the postgres search backend runs when MARKETPLACE_TEST_DATABASE_URL is a PostgreSQL database")
    engine = create_engine(TEST_DATABASE_URL)
    yield engine
    engine.dispose()


def make_backend(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> SearchBackend:
    """A backend with an index of its own: a folder per test, or tables of their own in PostgreSQL."""
    module, cls_name = BACKENDS[name]
    cls = getattr(importlib.import_module(module), cls_name)
    if name != "postgres":
        return cls(tmp_path / name)  # type: ignore[no-any-return]
    instance = cls(request.getfixturevalue("pg_engine"), prefix=f"search_test_{uuid.uuid4().hex[:12]}")
    request.addfinalizer(instance.drop)
    return instance  # type: ignore[no-any-return]


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    instance = make_backend(request.param, tmp_path, request)
    instance.rebuild(DOCS)
    yield instance
    if hasattr(instance, "close"):
        instance.close()


def ids(backend: SearchBackend, text: str = "", **kw: object) -> list[int]:
    return backend.search(SearchQuery(text=text, per_page=50, **kw)).product_ids  # type: ignore[arg-type]


def test_every_term_must_match(backend: SearchBackend) -> None:
    assert set(ids(backend, "minyak kelapa")) == {1, 2, 7, 8}  # 2: in its description; 7: its category
    assert ids(backend, "keripik balado") == [4]
    assert ids(backend, "durian") == []


def test_indonesian_stemming(backend: SearchBackend) -> None:
    assert 1 in ids(backend, "mengolah")  # "diolah" in product 1, "olahan" in 2
    assert 2 in ids(backend, "mengolah")
    assert set(ids(backend, "dikirim")) == {2, 3}  # "pengiriman" in product 3
    assert ids(backend, "oleh-oleh") == [5]
    assert ids(backend, "oleh2") == [5]
    assert set(ids(backend, "anti air")) == {9}


def test_region_kube_and_category_words_are_searchable(backend: SearchBackend) -> None:
    assert set(ids(backend, "bali")) == {5, 9}  # a proper noun: not stemmed to "bal"
    assert set(ids(backend, "sauyunan")) == {4, 7, 8}
    assert 2 in ids(backend, "soap")


def test_empty_text_lists_everything_newest_first(backend: SearchBackend) -> None:
    hits = backend.search(SearchQuery(per_page=50))
    assert hits.total == len(DOCS)
    assert hits.product_ids == sorted((d.product_id for d in DOCS), reverse=True)


@pytest.mark.parametrize("text", ["name:(", "*", "?", "\"", "kelapa AND OR NOT", "((", "-", "a" * 2000, "🥥🥥",
                                  "yang dan di", "NEAR(kelapa", "kelapa*", "{}[]^~"])
def test_odd_queries_never_raise(backend: SearchBackend, text: str) -> None:
    hits = backend.search(SearchQuery(text=text))
    assert hits.total >= 0
    backend.correct(text)
    backend.suggest(text)


def test_symbols_and_stopwords_only_find_nothing(backend: SearchBackend) -> None:
    assert ids(backend, "*") == []
    assert ids(backend, "yang dan") == []


def test_filters(backend: SearchBackend) -> None:
    assert set(ids(backend, category_ids=(SNACKS,))) == {3, 4, 6}
    assert set(ids(backend, "kelapa", province="32")) == {7, 8}
    assert set(ids(backend, kube_id=3)) == {5, 9}
    assert set(ids(backend, min_price=30_000, max_price=95_000)) == {1, 6, 8, 9}
    assert 6 not in ids(backend, "gula", in_stock=True)
    assert ids(backend, "kelapa", category_ids=(SNACKS,), in_stock=True) == []


def test_facets_count_each_choice_with_the_other_filters(backend: SearchBackend) -> None:
    hits = backend.search(SearchQuery(text="kelapa", province="32"))
    assert hits.total == 2
    # The province facet ignores the province filter, so the other provinces stay choosable.
    assert hits.facets.province == {"72": 3, "32": 2}
    assert hits.facets.category == {OILS: 2}
    assert hits.facets.kube == {2: 2}
    assert hits.facets.in_stock == 2
    cheap = price_bucket(45_000)
    assert hits.facets.price == {cheap: 1, len(PRICE_BUCKETS) - 1: 1}


def test_sorts_break_ties_by_id(backend: SearchBackend) -> None:
    assert ids(backend, "kelapa", sort="price_asc")[:3] == [2, 6, 1]  # 12k, 30k, 45k (1 before 8: same price)
    assert ids(backend, "kelapa", sort="price_asc")[3] == 8
    assert ids(backend, "kelapa", sort="price_desc")[:3] == [7, 8, 1]
    assert ids(backend, "kelapa", sort="newest")[0] == 8


def test_pages_never_repeat(backend: SearchBackend) -> None:
    for sort in ("relevance", "price_asc", "price_desc", "newest"):
        seen: list[int] = []
        for page in range(1, 5):
            hits = backend.search(SearchQuery(text="kelapa", sort=sort, page=page, per_page=2))
            seen += hits.product_ids
        assert len(seen) == len(set(seen)) == hits.total, sort


def test_equal_scores_never_repeat_across_pages(backend: SearchBackend) -> None:
    twins = [doc(200 + i, "Gula Aren Cetak", "Gula aren asli.", category=SNACKS) for i in range(25)]
    backend.apply(twins, [])
    seen: list[int] = []
    for page in range(1, 6):
        seen += backend.search(SearchQuery(text="aren", page=page, per_page=6)).product_ids
    assert seen == sorted(seen) == list(range(200, 225))  # equal scores: by product id


def test_a_product_sent_twice_is_indexed_once(backend: SearchBackend) -> None:
    first = doc(300, "Kopi Robusta", category=SNACKS)
    backend.apply([first, replace(first, name="Kopi Liberika")], [])
    assert ids(backend, "kopi") == [300]
    assert ids(backend, "robusta") == []
    assert backend.rebuild([first, first]) == 1


def test_a_page_past_the_end_is_empty(backend: SearchBackend) -> None:
    hits = backend.search(SearchQuery(text="kelapa", page=99, per_page=2))
    assert hits.product_ids == [] and hits.total > 0 and hits.page == 99


def test_name_match_ranks_above_description_match(backend: SearchBackend) -> None:
    ranked = ids(backend, "sabun")
    assert ranked[0] == 2  # "Sabun" in the name (and description)
    ranked = ids(backend, "tempurung")
    assert ranked == [7]
    ranked = ids(backend, "minyak")
    assert set(ranked[:2]) == {1, 8} and ranked[-1] == 2  # product 2 has "minyak" only in its description


def test_in_stock_ranks_above_identical_sold_out(tmp_path: Path, backend: SearchBackend) -> None:
    twin_out = doc(50, "Madu Hutan Sumbawa", "Madu asli.", category=SNACKS, in_stock=False)
    twin_in = doc(51, "Madu Hutan Sumbawa", "Madu asli.", category=SNACKS, in_stock=True)
    backend.apply([twin_out, twin_in], [])
    assert ids(backend, "madu") == [51, 50]
    backend.apply([replace(twin_in, in_stock=False), replace(twin_out, in_stock=True)], [])
    assert ids(backend, "madu") == [50, 51]


def test_apply_is_idempotent_and_removes(backend: SearchBackend) -> None:
    renamed = replace(DOCS[2], name="Keripik Talas Pedas")
    backend.apply([renamed], [])
    backend.apply([renamed], [])
    assert ids(backend, "talas") == [3]
    assert ids(backend, "pisang") == []
    backend.apply([], [3, 3, 999])
    backend.apply([], [3])
    assert ids(backend, "talas") == []
    assert backend.doc_count() == len(DOCS) - 1


def test_rebuild_swaps_in_a_fresh_index(backend: SearchBackend) -> None:
    assert backend.rebuild([doc(70, "Kopi Robusta Banggai", category=SNACKS)]) == 1
    assert backend.doc_count() == 1
    assert ids(backend, "kopi") == [70]
    assert ids(backend, "kelapa") == []


def test_correction_from_names_and_categories(backend: SearchBackend) -> None:
    assert backend.correct("kelpa") == "kelapa"
    assert backend.correct("minyak kelpa") == "minyak kelapa"
    assert backend.correct("keripik") is None  # found as typed
    # The nearest word wins over a more frequent one further away ("sabun" is in more names than "sabut").
    backend.apply([doc(400, "Sabut Kelapa Kering", category=CRAFTS)], [])
    assert backend.correct("sabutt") == "sabut"
    assert backend.correct("sabunn") == "sabun"
    assert backend.correct("zzzzzz") is None


def test_completions(backend: SearchBackend) -> None:
    assert backend.suggest("kel")[0] == "kelapa"
    assert "keripik" in backend.suggest("ker")
    assert backend.suggest("minyak kel") == ["minyak kelapa"]
    assert backend.suggest("k", limit=8) == []  # one letter: too little to complete
    assert len(backend.suggest("ke", limit=2)) <= 2


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_missing_index_raises_unavailable(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    backend = make_backend(name, tmp_path / "nothing", request)
    for ask in (lambda: backend.search(SearchQuery(text="kelapa")), backend.check, backend.doc_count):
        with pytest.raises(IndexUnavailable):
            ask()
