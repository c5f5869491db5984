"""Build the codename word lists (`make wordlists`): deterministic, from pinned packages.

Build-time only, never imported by the server: it needs the `[wordlists]` extra (wordfreq,
pymorphy3 and its uk/ru dictionaries, xkcdpass) and Debian's hunspell-uk and hunspell-ru.

For each language, in wordfreq's frequency order (most common first), a word is kept when it
passes `rules.spelled`, is not on the language's deny list, is a real word (Ukrainian and
Russian: a lower-case entry of the hunspell dictionary and, for pymorphy3, a common inanimate
noun in the nominative singular, which leaves out every word for a kind of person; English: a
word of the EFF long list, made for memorable passphrases), and is not within one edit or swap
of a word already kept. The first TARGET_SIZE such words, sorted, are the list.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from intake.wordlists.rules import LANGUAGES, TARGET_SIZE, DenyList, near_keys, spelled

__all__ = ["build", "main"]

HUNSPELL_DIR = Path("/usr/share/hunspell")
HUNSPELL_FILES = {"uk": "uk_UA.dic", "ru": "ru_RU.dic"}
# wordfreq candidates looked at per language: far more than ever pass, so the cut-off is
# TARGET_SIZE and never the end of the candidates.
CANDIDATES = 200_000
# pymorphy3 grammemes of names, places, abbreviations, and of slang, archaic or misspelt words.
_UNWANTED = frozenset(
    {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr", "Init", "Slng", "Infr", "Arch"}
    | {"Erro", "Dist", "Obsc", "Vulg", "Litr"}
)


def hunspell_words(language: str, directory: Path = HUNSPELL_DIR) -> frozenset[str]:
    """The lower-case stems of Debian's hunspell dictionary (capitalised ones are names)."""
    lines = (directory / HUNSPELL_FILES[language]).read_text(encoding="utf-8").splitlines()[1:]
    stems = (line.split("/", 1)[0].split()[0] for line in lines if line.strip())
    return frozenset(stem for stem in stems if stem == stem.lower())


def _noun_test(language: str) -> Callable[[str], bool]:
    import pymorphy3  # noqa: PLC0415  (build-time extra)

    morph = pymorphy3.MorphAnalyzer(lang=language)

    def is_common_noun(word: str) -> bool:
        for parse in morph.parse(word):
            tag = parse.tag
            if (
                tag.POS == "NOUN"
                and "nomn" in tag.grammemes
                and "plur" not in tag.grammemes
                and "inan" in tag.grammemes
                and parse.normal_form == word
                and morph.word_is_known(word)
                and not tag.grammemes & _UNWANTED
            ):
                return True
        return False

    return is_common_noun


def _real_word(language: str) -> Callable[[str], bool]:
    if language == "en":
        from xkcdpass import xkcd_password  # noqa: PLC0415  (build-time extra)

        path = xkcd_password.locate_wordfile("eff-long")
        eff = frozenset(xkcd_password.generate_wordlist(wordfile=path, min_length=1, max_length=64))
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
        if len(kept) == TARGET_SIZE:
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
