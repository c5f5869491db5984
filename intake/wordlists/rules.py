"""What a codename word must be: the filters the generator applies and the tests re-check.

Stdlib only (plus the codename normalisation), so the server, the tests and the generator
(intake.wordlists.build) share one definition.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from importlib import resources

from crypto.witness import normalise_codename

__all__ = [
    "ALPHABETS",
    "LANGUAGES",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "TARGET_SIZE",
    "DenyList",
    "near_keys",
    "near_pairs",
    "spelled",
]

LANGUAGES = ("en", "uk", "ru")
"""The page languages; a codename is drawn in the language of the page that issues it."""

# Lower-case letters only: no apostrophe (Ukrainian "м'ясо" has three look-alike apostrophes a
# witness cannot tell apart on paper), no hyphen (normalisation turns it into a space), no ё
# (Russian writers drop its dots, so "елка" would not open "ёлка").
ALPHABETS = {
    "en": re.compile(r"^[a-z]+$"),
    "uk": re.compile(r"^[абвгґдеєжзиіїйклмнопрстуфхцчшщьюя]+$"),
    "ru": re.compile(r"^[абвгдежзийклмнопрстуфхцчшщъыьэюя]+$"),
}

# Short words are copied and typed on a phone without slips; three letters is the shortest that
# is still a word, not an abbreviation.
MIN_LENGTH = 3
MAX_LENGTH = 8

TARGET_SIZE = {"en": 2048, "uk": 4096, "ru": 4096}
"""Each list stops at this many of the most frequent words that pass. Ukrainian and Russian:
4096, 12 bits a word, 8 words for 90. English: 2048, 11 bits, 9 words: the English source (the
EFF lists) holds too few short concrete words for 4096 without military or political ones, and
a ninth word is a better price than a "helmet" or a "navy" on a paper note that is found."""


def spelled(word: str, language: str) -> bool:
    """Whether `word` has only its language's letters, a bounded length, and is stable.

    Stable means NFC, case folding and the codename normalisation all leave it as it is, so the
    word printed on the page is exactly the string the key is derived from.
    """
    return (
        MIN_LENGTH <= len(word) <= MAX_LENGTH
        and ALPHABETS[language].match(word) is not None
        and unicodedata.normalize("NFC", word) == word
        and word.casefold() == word
        and normalise_codename(word) == word
    )


def near_keys(word: str) -> set[str]:
    """The word and every string one deletion away from it.

    Two words one substitution, insertion or deletion apart (Levenshtein distance 1) always
    share a key; so do two words that differ by swapping two neighbouring letters, a slip the
    lists avoid as well.
    """
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def near_pairs(words: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Every pair of `words` sharing a near key (empty for a list that passed the generator)."""
    seen: dict[str, str] = {}
    for word in words:
        for key in sorted(near_keys(word)):
            other = seen.setdefault(key, word)
            if other != word:
                yield other, word


class DenyList:
    """Distressing, military and political words never put on a witness's paper note.

    One entry a line in `deny-<language>.txt`; `#` starts a comment; an entry ending in `*`
    refuses every word starting with it (Ukrainian and Russian build many words on one stem).
    """

    def __init__(self, entries: Iterable[str]) -> None:
        self.words = frozenset(e for e in entries if not e.endswith("*"))
        self.prefixes = tuple(sorted(e[:-1] for e in entries if e.endswith("*")))

    @classmethod
    def parse(cls, text: str) -> DenyList:
        """The deny list in `text` (the file's format above)."""
        lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
        return cls([unicodedata.normalize("NFC", line).casefold() for line in lines if line])

    @classmethod
    def of(cls, language: str) -> DenyList:
        """The committed deny list of `language`."""
        path = resources.files(__package__).joinpath(f"deny-{language}.txt")
        return cls.parse(path.read_text(encoding="utf-8"))

    def refuses(self, word: str) -> bool:
        """Whether `word` is on the list or starts with one of its stems."""
        return word in self.words or word.startswith(self.prefixes)
