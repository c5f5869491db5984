"""Every string of the witness site is translated into Ukrainian and Russian, and compiled."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from intake.web.i18n import LANGUAGES, TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[3]
METHODS = [("intake/web/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
TRANSLATED = [code for code in LANGUAGES if code != "en"]


def _source_messages() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(m for m in message if m))
    return found


def _catalog(code: str, suffix: str) -> Catalog:
    path = TRANSLATIONS_DIR / code / "LC_MESSAGES" / f"messages.{suffix}"
    with path.open("rb") as handle:
        return read_mo(handle) if suffix == "mo" else read_po(handle, locale=code)


def test_the_source_has_strings_to_translate() -> None:
    messages = _source_messages()
    assert len(messages) > 250
    assert "Leave this site" in messages


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_string_is_translated_and_none_is_fuzzy(code: str) -> None:
    catalog = _catalog(code, "po")
    missing, fuzzy, empty = [], [], []
    for wanted in _source_messages():
        key = wanted if isinstance(wanted, str) else wanted[0]
        message = catalog.get(key)
        if message is None:
            missing.append(wanted)
            continue
        if message.fuzzy:
            fuzzy.append(key)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            empty.append(key)
    assert missing == [], f"{code}: not in the catalogue (run pybabel update)"
    assert fuzzy == [], f"{code}: fuzzy"
    assert empty == [], f"{code}: untranslated"
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert problems == [], f"{code}: placeholders differ"


@pytest.mark.parametrize("code", TRANSLATED)
def test_compiled_catalogue_matches_the_po_file(code: str) -> None:
    def table(catalog: Catalog) -> dict[object, object]:
        return {
            tuple(m.id) if isinstance(m.id, list | tuple) else m.id: (
                tuple(m.string) if isinstance(m.string, list | tuple) else m.string
            )
            for m in catalog
            if m.id
        }

    source, compiled = table(_catalog(code, "po")), table(_catalog(code, "mo"))
    assert compiled == source, f"{code}: run pybabel compile -d intake/web/translations"
