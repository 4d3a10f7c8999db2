"""Indonesian text analysis for search: the same tokens go into every backend and every query.

Choices (see docs/search.md, measured on this kind of machine):
- PySastrawi 1.2.1 stems (*mengolah* and *olahan* -> *olah*, *pengiriman* and *dikirim* -> *kirim*); it stems
  ~8,500 distinct words/s, so every stem goes through a cache (~330,000 words/s warm).
- A short stopword list of function words only: the long Indonesian lists drop words that matter when
  shopping (*baru*, *besar*, *kecil*, numerals).
- Proper nouns are not stemmed: Sastrawi turns *bali* into *bal* and *banggai* into *bangga*, so the names of
  provinces and kabupaten/kota (from the Kemendagri codes) and a few others are kept as they are.
- Full reduplication stays one word (*oleh-oleh*, also written *oleh2*); other hyphenated words are split
  (*anti-air* -> *anti*, *air*).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Function words only (SEARCH.md): product words such as "baru" or "besar" must stay searchable.
STOPWORDS = frozenset(
    [
        "yang", "dan", "di", "ke", "dari", "untuk", "dengan", "pada", "ini", "itu", "atau", "juga", "akan",
        "adalah", "oleh", "sebagai", "karena", "agar", "bagi", "serta", "para", "yaitu", "tersebut", "sudah",
        "telah",
    ]
)

# Words Sastrawi mangles that are names or product words, on top of the region names below.
KEEP_AS_IS = frozenset(
    [
        "bali", "banggai", "luwuk", "toli", "kopra", "sabut", "batik", "tenun", "songket", "ulos", "jepara",
        "garut", "toraja", "gayo", "kintamani", "flores", "sumba", "sasak",
    ]
)

MAX_TOKENS = 12  # a query longer than this is cut: nobody types more words into a shop's search box
MAX_WORD = 40  # longer "words" are noise (URLs, hashes) and are dropped

WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_REDUP_DIGIT = re.compile(r"^([^\W\d_]{3,})2$")  # "oleh2" is how people type "oleh-oleh" (not "ps2")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    # The factory's own stemmer normalises whole texts; we feed it one clean word at a time.
    return StemmerFactory().create_stemmer().delegatedStemmer


@lru_cache(maxsize=1)
def _proper_nouns() -> frozenset[str]:
    """Words of province and kabupaten/kota names: they are names, never stemmed."""
    from marketplace import regions

    words: set[str] = set(KEEP_AS_IS)
    for province in regions.provinces():
        for item in (province, *regions.children(province.code)):
            words.update(w for w in fold(item.name).split() if len(w) > 2)
    # Administrative words are ordinary words: let them stem like any other.
    return frozenset(words - {"kabupaten", "kota", "kepulauan", "utara", "selatan", "barat", "timur",
                              "tengah", "raya", "baru", "daerah", "istimewa", "administrasi"})


def fold(text: str) -> str:
    """Lowercase, accents folded (é -> e), other symbols kept for the tokenizer to skip."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The search term for one lowercase word (cached: Sastrawi is slow uncached)."""
    if word in STOPWORDS:
        return ""
    base, dash, rest = word.partition("-")
    if dash and base == rest:  # full reduplication: "kue-kue" is kue, but "oleh-oleh" is a word of its own
        return word if base in STOPWORDS else stem(base)
    if not word.isalpha() or word in _proper_nouns() or len(word) <= 3:
        return word  # numbers and sizes ("500ml"), names, short words
    return _stemmer().stem(word) or word


def words(text: str) -> list[str]:
    """The lowercase words of a text as a shopper reads them (no stemming, no stopwords removed)."""
    out: list[str] = []
    for match in WORD.finditer(fold(text)):
        for word in _split(match.group()):
            # "oleh oleh" typed with a space is the reduplicated word too ("oleh" alone is a stopword).
            if out and word == out[-1] and word.isalpha():
                out[-1] = f"{word}-{word}"
            else:
                out.append(word)
    return out


def _split(token: str) -> list[str]:
    redup = _REDUP_DIGIT.match(token)
    if redup:
        return [f"{redup.group(1)}-{redup.group(1)}"]
    if "-" not in token:
        return [token] if len(token) <= MAX_WORD else []
    parts = token.split("-")
    if len(parts) == 2 and parts[0] == parts[1]:
        return [token] if len(token) <= MAX_WORD else []  # oleh-oleh, kue-kue
    return [p for p in parts if p and len(p) <= MAX_WORD]


def analyse(text: str) -> list[str]:
    """Search terms of a text, in order, duplicates kept (for indexing)."""
    return [t for t in (stem(w) for w in words(text)) if t]


def query_terms(text: str) -> list[str]:
    """Distinct search terms of a query, in the order typed, at most MAX_TOKENS."""
    seen: dict[str, None] = {}
    for term in analyse(text[:1000]):
        seen.setdefault(term, None)
        if len(seen) >= MAX_TOKENS:
            break
    return list(seen)
