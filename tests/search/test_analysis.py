"""Indonesian analysis: stems, stopwords, proper nouns, reduplication; and highlighting."""

from __future__ import annotations

import pytest

from marketplace.search.analysis import STOPWORDS, analyse, query_terms, stem
from marketplace.search.highlight import highlight, snippet


@pytest.mark.parametrize("a, b", [
    ("mengolah", "olahan"),
    ("pengiriman", "dikirim"),
    ("kepedasan", "pedas"),
    ("makanan", "dimakan"),
    ("kerajinan", "rajin"),
])
def test_affixed_words_share_a_stem(a: str, b: str) -> None:
    assert stem(a) == stem(b)


def test_proper_nouns_are_not_stemmed() -> None:
    assert analyse("Oleh-oleh khas Bali dari Banggai") == ["oleh-oleh", "khas", "bali", "banggai"]
    assert stem("luwuk") == "luwuk"


def test_reduplication_and_hyphens() -> None:
    assert analyse("oleh-oleh") == ["oleh-oleh"]
    assert analyse("oleh2") == ["oleh-oleh"]
    assert analyse("tas anti-air") == ["tas", "anti", "air"]


def test_only_function_words_are_dropped() -> None:
    assert analyse("tas yang besar dan baru untuk anak kecil") == ["tas", "besar", "baru", "anak", "kecil"]
    assert {"baru", "besar", "kecil", "satu"}.isdisjoint(STOPWORDS)


def test_numbers_sizes_and_accents() -> None:
    assert analyse("Minyak 500ml, 2 kg") == ["minyak", "500ml", "2", "kg"]
    assert analyse("Café") == ["cafe"]


def test_query_terms_are_distinct_and_bounded() -> None:
    assert query_terms("kelapa Kelapa KELAPA") == ["kelapa"]
    assert len(query_terms(" ".join(f"kata{i}" for i in range(100)))) == 12
    assert query_terms("name:( * ) ?") == ["name"]
    assert query_terms("") == []


def test_highlight_escapes_and_marks_stemmed_matches() -> None:
    terms = query_terms("dikirim")
    assert str(highlight("Pengiriman <cepat> & aman", terms)) == "<mark>Pengiriman</mark> &lt;cepat&gt; &amp; aman"
    assert str(highlight("Tanpa kecocokan", terms)) == "Tanpa kecocokan"


def test_snippet_centres_on_the_first_match() -> None:
    text = "Kata pembuka. " * 30 + "Dikirim dari Banggai setiap minggu. " + "Penutup. " * 30
    html = str(snippet(text, query_terms("pengiriman")))
    assert "<mark>Dikirim</mark>" in html
    assert html.startswith("… ") and html.endswith(" …")
    assert len(html) < 260


def test_reduplication_typed_with_a_space_or_of_an_ordinary_word() -> None:
    assert analyse("oleh oleh khas Bali") == ["oleh-oleh", "khas", "bali"]
    assert analyse("kue-kue kering") == ["kue", "kering"]  # plural of an ordinary word: its stem
    assert analyse("PS2") == ["ps2"]


def test_highlight_positions_survive_accents_and_ligatures() -> None:
    assert str(highlight("e\u0301 kopi \ufb01", ["kopi"])) == "e\u0301 <mark>kopi</mark> \ufb01"
    assert str(highlight("Café Kopi", query_terms("cafe"))) == "<mark>Café</mark> Kopi"
