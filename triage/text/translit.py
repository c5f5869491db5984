"""One Cyrillic-to-Latin scheme for Ukrainian and Russian, and the tokens corroboration compares.

The scheme is deliberately simple and shared by both languages (г → h, и → y, ы → y, …), so
"Шторм" (uk or ru) and "Shtorm" end up as the same token. It is for matching, never for display.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["GENERIC_WORDS", "fold", "normalise", "tokens", "transliterate"]

_TABLE = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ye",
    "ё": "yo", "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "yi", "й": "y", "к": "k",
    "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "",
    "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "ў": "u",
}  # fmt: skip
_APOSTROPHES = "'\u2019\u02bc\u02b9`"
_TRANSLATE = str.maketrans({**_TABLE, **dict.fromkeys(_APOSTROPHES, "")})
_NON_WORD = re.compile(r"[^0-9a-z]+")
_TOKEN = re.compile(r"\d+|[a-z]+")
# Spelling differences between uk/ru/en romanisations of the same word: Ukrainian г is
# romanised h, Russian г is g; и/ы/й/і wander between i and y. Folded only for comparing.
_FOLDS = (
    (re.compile("kh"), "x"),
    (re.compile("(?<![sczx])h"), "g"),
    (re.compile("[yj]"), "i"),
    (re.compile("i+"), "i"),
)

# Words that name a kind of unit, or glue, in any of the three languages. Two accounts that
# both say "brigade" share nothing: such words are shown, never counted. Folded when built.
_GENERIC_TEXT = """
brigade brigada bryhada regiment polk battalion batalion batalyon батальон батальйон
division дивизия дивізія company rota рота platoon vzvod взвод unit підрозділ подразделение
motorized motorised мотострелковый мотострілецький rifle separate окрема окремої отдельная
отдельной army армия армії guards гвардейская гвардійська the and from squad
mechanized mechanised механізована механизированная assault штурмовой штурмова tank
танковый танкова airborne десантный десантно marine морской морської infantry пехоты піхоти
callsign позывной позывные позивний позивні бригада бригади бригады полку полка
"""


def transliterate(text: str) -> str:
    """Lower-case Latin text: Cyrillic romanised by the one scheme, accents stripped."""
    lowered = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLATE)
    if lowered.isascii():
        return lowered  # nothing left to strip accents from (the usual case after romanising)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise(text: str) -> str:
    """Transliterated, punctuation turned into single spaces: what search compares."""
    return " ".join(_NON_WORD.split(transliterate(text))).strip()


def fold(token: str) -> str:
    """A token with the uk/ru/en spelling differences folded away."""
    for pattern, replacement in _FOLDS:
        token = pattern.sub(replacement, token)
    return token


def tokens(texts: Iterable[str]) -> set[str]:
    """Folded tokens of unit names and call-signs: numbers ("155-я" and "155th" both give
    "155") and words of at least three letters; ordinal endings ("-я", "th") fall away."""
    found: set[str] = set()
    for text in texts:
        for token in _TOKEN.findall(normalise(text)):
            if token.isdigit():
                found.add(token.lstrip("0") or "0")
            elif len(token) >= 3:
                found.add(fold(token))
    return found


GENERIC_WORDS: frozenset[str] = frozenset(tokens([_GENERIC_TEXT]))
