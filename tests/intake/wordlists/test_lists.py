"""The committed codename word lists obey every rule the generator applies (issue 18, item 1)."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake import wordlists
from intake.wordlists import DIGESTS, LANGUAGES, WordlistError, load, words_needed
from intake.wordlists.rules import (
    MAX_LENGTH,
    MIN_LENGTH,
    TARGET_SIZE,
    DenyList,
    near_keys,
    near_pairs,
    spelled,
)


def levenshtein(a: str, b: str) -> int:
    """Plain dynamic-programming edit distance, independent of the generator's near keys."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def one_edit_neighbours(word: str, letters: list[str]) -> set[str]:
    """Every string at Levenshtein distance 1 from `word` over `letters` (and `word` itself)."""
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deleted = {a + b[1:] for a, b in cuts if b}
    replaced = {a + c + b[1:] for a, b in cuts if b for c in letters}
    inserted = {a + c + b for a, b in cuts for c in letters}
    return deleted | replaced | inserted


@pytest.fixture(scope="module", params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_each_list_is_sorted_unique_and_full(language: str) -> None:
    words = load(language)
    assert len(words) == TARGET_SIZE[language]
    assert list(words) == sorted(set(words))


def test_every_word_is_short_plain_and_normalisation_stable(language: str) -> None:
    for word in load(language):
        assert spelled(word, language), word
        assert MIN_LENGTH <= len(word) <= MAX_LENGTH
        assert unicodedata.normalize("NFC", word) == word
        assert unicodedata.normalize("NFKC", word) == word
        assert word.casefold() == word
        assert not set(word) & set("'’ʼ`-ё ")


def test_cyrillic_lists_use_only_their_alphabet() -> None:
    uk, ru = set("".join(load("uk"))), set("".join(load("ru")))
    assert {"і", "ї", "є"} <= uk  # the Ukrainian letters are really used
    assert not uk & set("ыэъё")
    assert not ru & set("іїєґё")
    assert all("\u0430" <= c <= "\u044f" or c in "іїєґ" for c in uk)
    assert all("\u0430" <= c <= "\u044f" for c in ru)


def test_no_word_is_on_the_deny_list(language: str) -> None:
    deny = DenyList.of(language)
    assert deny.words
    assert deny.prefixes
    assert [word for word in load(language) if deny.refuses(word)] == []


def test_no_two_words_are_one_letter_apart(language: str) -> None:
    words = load(language)
    assert list(near_pairs(words)) == []
    # Independently of the near keys: no word's one-edit neighbour is on the list.
    on_list = set(words)
    letters = sorted(set("".join(words)))
    for word in words:
        assert not (one_edit_neighbours(word, letters) - {word}) & on_list, word


@given(st.text(alphabet="abcдежії", min_size=2, max_size=8), st.data())
def test_near_keys_catch_every_single_edit(word: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(word) - 1))
    letter = data.draw(st.sampled_from("abcдежії"))
    for other in (
        word[:position] + letter + word[position + 1 :],  # substitution
        word[:position] + letter + word[position:],  # insertion
        word[:position] + word[position + 1 :],  # deletion
    ):
        if other != word:
            assert levenshtein(word, other) == 1
            assert near_keys(word) & near_keys(other)


def test_a_codename_has_at_least_90_bits(language: str) -> None:
    size = len(load(language))
    count = words_needed(size)
    assert count == (9 if language == "en" else 8)
    assert count * math.log2(size) >= 90
    assert (count - 1) * math.log2(size) < 90
    assert words_needed(7776) == 7  # the EFF long list of the codenames issued before


def test_a_changed_list_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DIGESTS, "uk", "0" * 64)
    with pytest.raises(WordlistError, match="uk codename word list") as caught:
        load("uk")
    assert caught.value.hint is not None
    assert "make wordlists" in caught.value.hint
    assert wordlists.load("en")  # the others still load


def test_a_missing_list_is_refused() -> None:
    with pytest.raises(WordlistError, match="missing"):
        load("xx")


def test_the_deny_list_format() -> None:
    deny = DenyList.parse("# comment\nwar\n  bomb*  # a stem\n\nСмерть*\n")
    assert deny.refuses("war")
    assert not deny.refuses("ward")
    assert deny.refuses("bomber")
    assert deny.refuses("bomb")
    assert deny.refuses("смертью")
    assert not deny.refuses("смертний")
    assert not deny.refuses("comment")
