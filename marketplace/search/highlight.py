"""Marking the words of a text that match the query terms (after the same analysis), HTML-escaped."""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape

from marketplace.search.analysis import WORD, fold, stem, words

SNIPPET_CHARS = 160


def _matches(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """(start, end) of the words of `text` whose term is one of `terms`."""
    spans: list[tuple[int, int]] = []
    # Fold character by character, remembering where each folded character came from: folding drops
    # combining accents and expands ligatures, so positions in the folded text are not those of the text.
    folded: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        piece = fold(char)
        folded.append(piece)
        origin.extend([i] * len(piece))
    for match in WORD.finditer("".join(folded)):
        if any(stem(w) in terms for w in words(match.group())):
            start, end = match.span()
            spans.append((origin[start], origin[end - 1] + 1))
    return spans


def highlight(text: str, terms: Iterable[str]) -> Markup:
    """`text` escaped, with matching words in <mark>."""
    wanted = frozenset(terms)
    if not wanted:
        return escape(text)
    out: list[str] = []
    last = 0
    for start, end in _matches(text, wanted):
        out.append(escape(text[last:start]))
        out.append(Markup("<mark>%s</mark>") % text[start:end])
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def snippet(text: str, terms: Iterable[str], length: int = SNIPPET_CHARS) -> Markup:
    """About `length` characters of `text` around the first matching word, highlighted."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= length:
        return highlight(text, terms)
    spans = _matches(text, frozenset(terms))
    begin = 0
    if spans:
        begin = max(0, spans[0][0] - length // 3)
        while begin > 0 and not text[begin - 1].isspace():
            begin -= 1
    end = min(len(text), begin + length)
    while end < len(text) and not text[end].isspace():
        end += 1
    piece = text[begin:end]
    prefix = "… " if begin > 0 else ""
    suffix = " …" if end < len(text) else ""
    return escape(prefix) + highlight(piece, terms) + escape(suffix)
