"""Codename word lists (en, uk, ru), each checked against its SHA-256 digest when the app starts.

The lists are built by `make wordlists` (intake.wordlists.build) and committed; a list that no
longer matches its digest below was edited by hand or damaged, and the server refuses to start
rather than hand out codenames from it. Regenerate, review, then update the digest here.
"""

from __future__ import annotations

import hashlib
import math
from importlib import resources

from intake.errors import ConfigError
from intake.wordlists.rules import LANGUAGES

__all__ = [
    "DIGESTS",
    "ENTROPY_BITS",
    "LANGUAGES",
    "WordlistError",
    "load",
    "load_all",
    "words_needed",
]

DIGESTS = {
    "en": "012934aa961158051a364baaaafb61660585f673e2beddedb1e2b43ab91d306f",
    "uk": "7c1f045836dcc5efd3c3420e1eb3fd4b81218ae5b21ef81045bf342150ca2e96",
    "ru": "800d5f9ad219a583821b0081cdde9779fb60e7f4ae21951f5972a61f9aeeb825",
}
"""SHA-256 of each committed list file, as `make wordlists` prints it."""

ENTROPY_BITS = 90
"""A codename carries at least this much entropy (SECURITY.md: "Codename guessing")."""


class WordlistError(ConfigError):
    """A committed word list is missing or differs from its recorded digest.

    A configuration error for the CLI's exit code: the installation is not the one reviewed.
    """


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


def load_all() -> dict[str, tuple[str, ...]]:
    """Every language's list, each digest checked; raises WordlistError on the first bad one."""
    return {language: load(language) for language in LANGUAGES}
