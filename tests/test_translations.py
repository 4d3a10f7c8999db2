"""The Indonesian catalogue: complete, compiled, placeholder-safe, and used by the pages.

When a test here fails after adding or changing a user-visible string, run `make translations`
(extract, update, compile), translate the new entries in
marketplace/translations/id/LC_MESSAGES/messages.po, and run `make translations` again.
"""

from __future__ import annotations

import configparser
import fnmatch
import os
import re
from collections import Counter
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from tests.factories import World

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_DIR = ROOT / "marketplace" / "translations" / "id" / "LC_MESSAGES"
RUN_MAKE = "run `make translations`, then translate the new entries in the Indonesian messages.po"

# The same keywords and ignored directories as the Makefile's `translations` target.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "N_": None, "NP_": (1, 2)}
IGNORE_DIRS = (".*", "__pycache__")

# Python %-format placeholders: %(name)s, %(num)d, %s, %%...
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def _method_map() -> list[tuple[str, str]]:
    """babel.cfg's [method: pattern] sections, in order."""
    config = configparser.ConfigParser()
    config.read(ROOT / "babel.cfg", encoding="utf-8")
    pairs = []
    for section in config.sections():
        method, pattern = (part.strip() for part in section.split(":", 1))
        pairs.append((pattern, method))
    return pairs


def _keep_dir(path: str) -> bool:
    return not any(fnmatch.fnmatch(os.path.basename(path), pattern) for pattern in IGNORE_DIRS)


@cache
def _extracted() -> dict[str, list[str]]:
    """msgid (the singular one for plurals) -> where it is used, extracted afresh from the sources."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), _method_map(), keywords=KEYWORDS, directory_filter=_keep_dir
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


@cache
def _po() -> Catalog:
    with (CATALOGUE_DIR / "messages.po").open("rb") as f:
        return read_po(f, locale="id")


def _translations(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """msgid -> its msgstr forms, without the header."""
    out: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id:
            continue
        # Plural entries hold tuples (read_po) or lists (read_mo).
        key = message.id if isinstance(message.id, str) else message.id[0]
        out[key] = _translations_of(message.string)
    return out


def _translations_of(string: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    forms = [string] if isinstance(string, str) else list(string or ())
    return tuple(form or "" for form in forms)


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def test_extraction_finds_python_and_template_messages() -> None:
    """The extraction covers every kind of marker: guards against a babel.cfg or keyword mistake."""
    found = _extracted()
    expected = {
        "Sign in": "templates/base.html",  # _() in a template
        "Pages": "templates/_macros/ui.html",  # a template in an underscore directory
        "%(num)d product": "templates/",  # ngettext() in a template
        "An account with this e-mail already exists.": "marketplace/auth/services.py",  # N_()
        "Password": "marketplace/auth/forms.py",  # _l()
        "Welcome back, %(name)s.": "marketplace/auth/views.py",  # gettext as _
        "litre": "marketplace/labels.py",  # _l() in a module-level dict
    }
    for msgid, where in expected.items():
        assert any(place.startswith(where) for place in found.get(msgid, [])), (msgid, found.get(msgid))
    assert not any(place.startswith((".venv", "tests/")) for places in found.values() for place in places)


def test_every_message_has_an_indonesian_translation() -> None:
    catalogue = _translations(_po())
    problems = []
    for msgid, places in sorted(_extracted().items()):
        if msgid not in catalogue:
            problems.append(f"not in the catalogue: {msgid!r} ({places[0]})")
        elif not all(form.strip() for form in catalogue[msgid]):
            problems.append(f"not translated: {msgid!r} ({places[0]})")
    assert not problems, f"{len(problems)} message(s) need work; {RUN_MAKE}:\n" + "\n".join(problems)


def test_catalogue_has_no_fuzzy_or_stale_entries() -> None:
    catalog = _po()
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert not fuzzy, f"fuzzy entries are not compiled; review them and drop the flag: {fuzzy}"
    stale = set(_translations(catalog)) - set(_extracted())
    assert not stale, f"messages no longer in the sources; {RUN_MAKE}: {sorted(stale)}"
    assert catalog.num_plurals == 1 and catalog.plural_expr == "0"


def test_compiled_catalogue_matches_the_po_file() -> None:
    with (CATALOGUE_DIR / "messages.mo").open("rb") as f:
        compiled = _translations(read_mo(f))
    assert compiled == _translations(_po()), f"messages.mo is out of date; {RUN_MAKE}"


def test_translations_keep_the_placeholders() -> None:
    problems = []
    for message in _po():
        if not message.id:
            continue
        # Indonesian has one plural form; it stands for the plural msgid.
        source = message.id if isinstance(message.id, str) else message.id[-1]
        for translated in _translations_of(message.string):
            if _placeholders(source) != _placeholders(translated):
                problems.append(f"{source!r} -> {translated!r}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_pages_are_indonesian_by_default_and_english_on_request(client: FlaskClient, world: World) -> None:
    indonesian = client.get("/").get_data(as_text=True)
    assert ">Masuk</a>" in indonesian and ">Daftar</a>" in indonesian
    assert "Sign in" not in indonesian
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">Sign in</a>" in english and ">Sign up</a>" in english
    assert ">Masuk</a>" not in english


def test_form_labels_and_service_errors_are_translated(client: FlaskClient, world: World) -> None:
    data = {"name": "X", "email": world.buyer.email, "password": "kelapa-muda-1", "confirm": "kelapa-muda-1"}
    indonesian = client.post("/auth/register", data=data).get_data(as_text=True)
    assert "E-mail ini sudah terdaftar." in indonesian  # a DomainError's N_() message
    assert "Kata sandi" in indonesian  # a lazy form label
    assert "already exists" not in indonesian
    english = client.post("/auth/register", data=data, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "An account with this e-mail already exists." in english
