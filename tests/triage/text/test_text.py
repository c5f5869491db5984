"""The pure helpers: transliteration tokens, text neutralisation, date windows, safe names."""

from __future__ import annotations

from datetime import date

import pytest

from triage.importing.derive import date_window
from triage.text.safe import neutralise, safe_markup, visible
from triage.text.translit import GENERIC_WORDS, normalise, tokens


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Шторм", "Shtorm"),
        ("«Гроза»", "Hroza"),
        ("Гроза", "Groza"),
        ("155-я бригада", "155th brigade"),
        ("394-й мотострелковый полк", "394th motorized rifle regiment"),
        ("Арта", "ARTA"),
    ],
)
def test_unit_and_callsign_tokens_meet_across_scripts(one: str, other: str):
    assert (tokens([one]) & tokens([other])) - GENERIC_WORDS


def test_generic_unit_words_do_not_count():
    assert tokens(["бригада", "brigade", "полк", "regiment"]) <= GENERIC_WORDS


def test_normalise_for_search():
    assert normalise("Бригада «ШТОРМ», м. Оріхів!") == "bryhada shtorm m orikhiv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x1b[31mred\x1b[0m", "ared"),
        ("title\x1b]0;pwned\x07 after", "title after"),
        ("c1 \x9b2J csi", "c1  csi"),
        ("line\r\nnext\rover", "line\nnextover"),
        ("bidi \u202eevil\u202c", "bidi evil"),
        ("tab\tkept\nnewline kept", "tab\tkept\nnewline kept"),
        ("nul\x00 del\x7f", "nul del"),
    ],
)
def test_neutralise(text: str, expected: str):
    assert neutralise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x1b[31mred", "a<U+001B>[31mred"),
        ("c1 \x9b2J", "c1 <U+009B>2J"),
        ("line\r\nnext\rover", "line\nnext<U+000D>over"),
        ("bidi \u202eevil", "bidi <U+202E>evil"),
        ("tab\tkept\nnewline kept", "tab\tkept\nnewline kept"),
        ("nul\x00 del\x7f", "nul<U+0000> del<U+007F>"),
        ("Олена", "Олена"),
    ],
)
def test_visible_shows_every_control(text: str, expected: str):
    assert visible(text) == expected


def test_safe_markup_escapes_rich_tags():
    assert safe_markup("[bold]x[/bold]") == "\\[bold]x\\[/bold]"


@pytest.mark.parametrize(
    ("text", "precision", "window"),
    [
        ("2024-11-20", "exact", (date(2024, 11, 20), date(2024, 11, 20))),
        ("2024-11-20", "approximate", (date(2024, 11, 17), date(2024, 11, 23))),
        ("2024-02", None, (date(2024, 2, 1), date(2024, 2, 29))),
        ("2024", None, (date(2024, 1, 1), date(2024, 12, 31))),
        ("2024-02-30", "exact", None),
        ("2024-11-20", "unknown", None),
        (None, None, None),
    ],
)
def test_date_windows(text, precision, window):
    assert date_window(text, precision) == window
