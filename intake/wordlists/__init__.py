"""Codename word lists (en, uk, ru), each checked against its SHA-256 digest when the app starts.

The lists are built by `make wordlists` (intake.wordlists.build) and committed; a list that no
longer matches its digest below was edited by hand or damaged, and the server refuses to start
rather than hand out codenames from it. Regenerate, review, then update the digest here.
"""

from __future__ import annotations

import hashlib
import math
from importlib import resources

from intake.errors import IntakeError
from intake.wordlists.rules import LANGUAGES

__all__ = ["DIGESTS", "ENTROPY_BITS", "LANGUAGES", "WordlistError", "load", "words_needed"]

DIGESTS = {
    "en": "6e70d1c2beb10ea736d10059ace15c5d6cadd015012389ed00be76993cddc387",
    "uk": "f9a3d9105c26c73746091e4764376277a926c8c203d17b661d1422b27b2ca6b3",
    "ru": "8ccdc15a56512fb54f84175c1531ecb3e603e61488f0d6c0dc2c6dc75e1bd0b2",
}
"""SHA-256 of each committed list file, as `make wordlists` prints it."""

ENTROPY_BITS = 90
"""A codename carries at least this much entropy (SECURITY.md: "Codename guessing")."""


class WordlistError(IntakeError):
    """A committed word list is missing or differs from its recorded digest."""

    category = "wordlist"


def words_needed(size: int) -> int:
    """How many words drawn from a list of `size` give at least ENTROPY_BITS bits."""
    return math.ceil(ENTROPY_BITS / math.log2(size))


def load(language: str) -> tuple[str, ...]:
    """The word list of `language`, after checking its digest; raises WordlistError."""
    path = resources.files(__package__).joinpath(f"{language}.txt")
    try:
        data = path.read_bytes()
    except (FileNotFoundError, KeyError) as exc:
        raise WordlistError(f"the {language} codename word list is missing") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != DIGESTS.get(language):
        raise WordlistError(
            f"the {language} codename word list ({path}) has SHA-256 {digest}, "
            f"not the recorded {DIGESTS.get(language)}",
            hint="rebuild the lists with `make wordlists`, review them, then update DIGESTS",
        )
    return tuple(data.decode("utf-8").split())
