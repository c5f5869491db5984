"""Build the codename word lists (`make wordlists`): deterministic, from pinned packages.

Build-time only, never imported by the server: it needs the `[wordlists]` extra (wordfreq,
pymorphy3 and its uk/ru dictionaries, xkcdpass) and Debian's hunspell-uk and hunspell-ru.

For each language, in wordfreq's frequency order (most common first), a word is kept when it
passes `rules.spelled`, is not on the language's deny list, is a real word (Ukrainian and
Russian: a lower-case entry of the hunspell dictionary whose most likely pymorphy3 reading is a
common inanimate noun in the nominative singular, which leaves out every word for a kind of
person, and no reading of which is a place, brand, abbreviation or a case of another name;
English: a word of the EFF long or short list, made for memorable passphrases), and is not
within one edit or swap of a word already kept. The first TARGET_SIZE such words, sorted, are
the list.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from intake.wordlists.rules import LANGUAGES, TARGET_SIZE, DenyList, near_keys, spelled

__all__ = ["build", "main"]

HUNSPELL_DIR = Path("/usr/share/hunspell")
HUNSPELL_FILES = {"uk": "uk_UA.dic", "ru": "ru_RU.dic"}
# wordfreq candidates looked at per language: far more than ever pass, so the cut-off is
# TARGET_SIZE and never the end of the candidates.
CANDIDATES = 200_000
# pymorphy3 grammemes that refuse a word when ANY of its readings has one: a word that can be
# read as a place, an organisation, a trademark or an abbreviation ("камчатка", "мерседес",
# "кгс") is not a plain word to a witness, whatever its most likely reading.
_NEVER = frozenset({"Geox", "Orgn", "Trad", "Abbr", "Init"})
# Readings as a person's name. One spelled like the word itself ("зима", "мороз": the surnames
# Зима, Мороз) is set aside, as a witness reads the common word; one that is a case of another,
# at least as frequent name ("путина": of Путин, "алексія": of Алексій) refuses the word.
_NAMES = frozenset({"Name", "Surn", "Patr"})
# Grammemes that refuse the most likely reading: slang, archaic or misspelt words.
_UNWANTED = _NEVER | _NAMES | {"Slng", "Infr", "Arch", "Erro", "Dist", "Obsc", "Vulg", "Litr"}


def hunspell_words(language: str, directory: Path = HUNSPELL_DIR) -> frozenset[str]:
    """The lower-case stems of Debian's hunspell dictionary (capitalised ones are names)."""
    lines = (directory / HUNSPELL_FILES[language]).read_text(encoding="utf-8").splitlines()[1:]
    stems = (line.split("/", 1)[0].split()[0] for line in lines if line.strip())
    return frozenset(stem for stem in stems if stem == stem.lower())


def _nominative(parse: Any, word: str) -> bool:
    """Whether `parse` reads `word` as a common inanimate noun's nominative singular."""
    tag = parse.tag
    return bool(
        tag.POS == "NOUN"
        and {"nomn", "inan"} <= tag.grammemes
        and "plur" not in tag.grammemes  # VESUM (Ukrainian) marks no "sing"
        and parse.normal_form == word
    )


def _noun_test(language: str) -> Callable[[str], bool]:
    import pymorphy3  # noqa: PLC0415  (build-time extra)
    import wordfreq  # noqa: PLC0415

    morph = pymorphy3.MorphAnalyzer(lang=language)

    def names_another(word: str, parse: Any) -> bool:
        if not parse.tag.grammemes & _NAMES or parse.normal_form == word:
            return False
        name = wordfreq.word_frequency(parse.normal_form, language)
        return bool(name >= wordfreq.word_frequency(word, language))

    def is_common_noun(word: str) -> bool:
        # The first parse is pymorphy3's most likely reading (Ukrainian has no scores: its
        # dictionary's first), names aside; a word mostly read as a preposition ("під",
        # "про") or as a form of another word ("глаз": of "глаза") is out. A singular form
        # that is its own lemma is the nominative, whichever case ("лес": accs) ranks first.
        parses = morph.parse(word)
        if any(p.tag.grammemes & _NEVER or names_another(word, p) for p in parses):
            return False
        readings = [p for p in parses if not p.tag.grammemes & _NAMES]
        if not readings:
            return False
        top = readings[0]
        tag = top.tag
        return (
            tag.POS == "NOUN"
            and "plur" not in tag.grammemes
            and "inan" in tag.grammemes
            and top.normal_form == word
            and morph.word_is_known(word)
            and not tag.grammemes & _UNWANTED
            and any(_nominative(p, word) for p in readings)
        )

    return is_common_noun


def _real_word(language: str) -> Callable[[str], bool]:
    if language == "en":
        from xkcdpass import xkcd_password  # noqa: PLC0415  (build-time extra)

        eff = frozenset(
            word
            for name in ("eff-long", "eff-short")
            for word in xkcd_password.generate_wordlist(
                wordfile=xkcd_password.locate_wordfile(name), min_length=1, max_length=64
            )
        )
        return eff.__contains__
    dictionary = hunspell_words(language)
    noun = _noun_test(language)
    return lambda word: word in dictionary and noun(word)


def pick(candidates: Iterable[str], language: str, real: Callable[[str], bool]) -> list[str]:
    """The first TARGET_SIZE candidates passing every filter, sorted (the module says which)."""
    deny = DenyList.of(language)
    kept: list[str] = []
    taken: set[str] = set()
    for word in dict.fromkeys(candidates):
        if not spelled(word, language) or deny.refuses(word) or not real(word):
            continue
        keys = near_keys(word)
        if keys & taken:
            continue
        kept.append(word)
        taken |= keys
        if len(kept) == TARGET_SIZE[language]:
            break
    return sorted(kept)


def build(language: str) -> list[str]:
    """The word list of `language`, from wordfreq's frequency order."""
    import wordfreq  # noqa: PLC0415  (build-time extra)

    candidates = wordfreq.top_n_list(language, CANDIDATES)
    return pick(candidates, language, _real_word(language))


def main(argv: list[str] | None = None) -> int:
    """Write `<language>.txt` for every language into --out and print each file's SHA-256."""
    parser = argparse.ArgumentParser(prog="python -m intake.wordlists.build")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args(argv)
    for language in LANGUAGES:
        words = build(language)
        data = "".join(f"{word}\n" for word in words).encode()
        (args.out / f"{language}.txt").write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        sys.stdout.write(f"{language}: {len(words)} words, sha256 {digest}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
