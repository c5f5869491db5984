"""Typing slips in a Cyrillic codename, repaired to the list word the witness meant.

A Ukrainian witness on a Russian keyboard has no і, ї, є or ґ (and types и, i or е); a Russian
witness on a Ukrainian one has no ы, э or ъ; anyone may type a Latin "i", "o" or "c" that looks
the same on paper. The key derivation sees code points, so each slip would make a correct
codename fail. Before deriving, each word of a codename that holds Cyrillic letters is mapped
to its list word when the slip leaves exactly one candidate.

Old codenames are never touched: they are English, and a codename with no Cyrillic letter is
returned as typed. Nor can a repair turn a correct codename into a wrong one: a word already on
the list is kept, and a word that is not on it could never have been issued.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crypto.witness import normalise_codename

__all__ = ["KEYBOARDS", "Repairer", "keyboard_slip", "skeleton"]

_CYRILLIC_LISTS = ("uk", "ru")

# Latin letters that look like Cyrillic ones in print and handwriting, then the letters one
# alphabet has and the other's keyboard lacks, folded onto one shared letter.
_FOLD = str.maketrans(
    {
        "a": "а", "c": "с", "e": "е", "i": "и", "o": "о", "p": "р", "x": "х", "y": "у",
        "ï": "и", "ë": "е",
        "і": "и", "ї": "и", "ы": "и", "й": "и",
        "є": "е", "э": "е", "ё": "е",
        "ґ": "г",
        "ъ": "ь", "'": "", "’": "", "ʼ": "",
    }
)  # fmt: skip


# ъ and ї share a key. A Ukrainian writes the Russian ъ as the apostrophe Ukrainian uses in
# its place ("об'єкт"), or as ї; and touch-typing a ї on a Russian layout gives ъ. The fold
# drops apostrophes, makes ї an и and ъ an ь, so none of these reaches the word's own
# skeleton: such words are also found under these forms. None is another word's skeleton in
# either list (tests/intake/wordlists).
_KEY_TWINS = {"ъ": ("'", "ї"), "ї": ("ъ",)}

# What a witness types for a word of the other Cyrillic list on the keyboard named: each
# letter that keyboard lacks as the nearest one it has. A Ukrainian word on a Russian keyboard;
# a Russian word on a Ukrainian keyboard. Issuing checks a codename against both
# (intake.web.services.codename).
_SLIPS = {
    "ru": str.maketrans({"і": "и", "ї": "и", "є": "е", "ґ": "г"}),
    "uk": str.maketrans({"ы": "и", "э": "е", "ъ": "'"}),
}
KEYBOARDS = tuple(_SLIPS)


def skeleton(word: str) -> str:
    """The word with every slip above folded away: two spellings of one word share it."""
    return word.translate(_FOLD)


def _typed_forms(word: str) -> set[str]:
    """The skeletons `word` is found under: its own, and those of its ъ or ї typed as the
    other keyboard's writer types them."""
    forms = {skeleton(word)}
    for letter, typed_as in _KEY_TWINS.items():
        if letter in word:
            forms.update(skeleton(word.replace(letter, typed)) for typed in typed_as)
    return forms


def keyboard_slip(codename: str, keyboard: str) -> str:
    """`codename` as typed on `keyboard` ("ru" or "uk") by someone who types what it lacks."""
    return codename.translate(_SLIPS[keyboard])


def _has_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


@dataclass(frozen=True)
class Repairer:
    """Each Cyrillic list's words by skeleton; built once from the checked lists."""

    words: Mapping[str, frozenset[str]]
    by_skeleton: Mapping[str, Mapping[str, tuple[str, ...]]]

    @classmethod
    def of(cls, lists: Mapping[str, Sequence[str]]) -> Repairer:
        words: dict[str, frozenset[str]] = {}
        index: dict[str, dict[str, tuple[str, ...]]] = {}
        for language in _CYRILLIC_LISTS:
            if language not in lists:
                continue
            grouped: defaultdict[str, list[str]] = defaultdict(list)
            for word in lists[language]:
                for form in _typed_forms(word):
                    grouped[form].append(word)
            words[language] = frozenset(lists[language])
            index[language] = {key: tuple(found) for key, found in grouped.items()}
        return cls(words=words, by_skeleton=index)

    def repair(self, typed: str, like: str | None = None) -> str:
        """The codename to derive from: `typed` normalised, its slips repaired where certain.

        `like` is the codename the typed words come from, when the site knows it (the words
        asked back after issuing): its language decides. Two words alone cannot: a Ukrainian
        word typed on a Russian keyboard can be a Russian list word ("магнолия"), so a guess
        from them would keep the slip and refuse a witness who copied the codename right.
        """
        normalised = normalise_codename(typed)
        if not _has_cyrillic(normalised) or not self.words:
            return normalised
        typed_words = normalised.split(" ")
        known = normalise_codename(like).split(" ") if like is not None else typed_words
        language = max(self.words, key=lambda lang: self._score(lang, known))
        return " ".join(self._word(language, word) for word in typed_words)

    def _score(self, language: str, typed_words: list[str]) -> tuple[int, int]:
        """How many typed words `language`'s list holds exactly or by skeleton, then exactly.

        Every word of a codename comes from one list, so the list that explains the most
        words wins, and words typed exactly break a tie: a correct Russian codename is never
        "repaired" towards the Ukrainian words it folds onto. Exact words first would not
        do: a Ukrainian codename typed on a Russian keyboard turns some words into Russian
        list words, and that chose Russian for 5.5 % of them (0.07 % now, 20,000 drawn).
        """
        words, index = self.words[language], self.by_skeleton[language]
        exact = known = 0
        for word in typed_words:
            if word in words:
                exact += 1
            if word in words or skeleton(word) in index:
                known += 1
        return known, exact

    def _word(self, language: str, word: str) -> str:
        if word in self.words[language]:
            return word
        found = self.by_skeleton[language].get(skeleton(word), ())
        return found[0] if len(found) == 1 else word
