"""Codenames for returning witnesses, and the one memory-hungry derivation behind a semaphore."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from crypto.witness import DEFAULT_COST, KdfCost, WitnessKeys, derive
from intake.errors import ConfigError, IntakeError
from intake.wordlists import load_all, words_needed
from intake.wordlists.repair import KEYBOARDS, Repairer, keyboard_slip

__all__ = ["CodenameFactory", "KdfBusyError", "KeyDeriver"]

_DRAWS_MAX = 1000


class KdfBusyError(IntakeError):
    """Every derivation slot stayed busy for the whole wait: the page asks to try again."""

    category = "busy"

    def __init__(self) -> None:
        super().__init__("every key derivation slot stayed busy")


@dataclass(frozen=True)
class CodenameFactory:
    """Draws codenames with `secrets` from the word list of the witness's page language.

    Each language draws words_needed(len(list)) words, at least 90 bits (intake.wordlists).
    Codenames issued before (seven words of the EFF long list) need no list: login derives the
    key from the typed string alone, so they keep working.
    """

    lists: Mapping[str, tuple[str, ...]]
    default: str = "en"
    # How a word is drawn: `secrets` always, but for tests that draw thousands from a seed.
    choose: Callable[[Sequence[str]], str] = field(default=secrets.choice, repr=False)
    repairer: Repairer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "repairer", Repairer.of(self.lists))

    @classmethod
    def load(cls) -> CodenameFactory:
        """Every committed list, digests checked; raises intake.wordlists.WordlistError."""
        return cls(lists=load_all())

    def language(self, language: str | None) -> str:
        """`language` when it has a list, else the default (English)."""
        return language if language is not None and language in self.lists else self.default

    def word_count(self, language: str | None = None) -> int:
        """How many words a codename in `language` has."""
        return words_needed(len(self.lists[self.language(language)]))

    def repair(self, typed: str, like: str | None = None) -> str:
        """What a typed codename is derived from: Cyrillic typing slips repaired
        (intake.wordlists.repair), in the language of `like` when given; old and English
        codenames as typed."""
        return self.repairer.repair(typed, like)

    def survives_keyboards(self, codename: str) -> bool:
        """Whether `codename`, typed on a Russian or a Ukrainian keyboard, is repaired back to
        itself by `repair` without the language given, as a login repairs it."""
        return all(
            self.repair(keyboard_slip(codename, keyboard)) == codename for keyboard in KEYBOARDS
        )

    def new(self, language: str | None = None) -> str:
        """A fresh codename in `language`: its words separated by single spaces.

        A codename that a slip on the other Cyrillic keyboard would turn into another one is
        drawn again. The confirmation repairs the words asked back in the issued language, but
        a login has to guess the language from the typed words (deriving once per language
        would let one guess test several codenames), and for these it guesses wrong: "іпотека"
        and "зодіак" typed on a Russian keyboard are Russian list words. They are rare: of
        200,000 drawn, 0.054 % of Ukrainian codenames and 0.012 % of Russian ones. Drawing
        again picks uniformly among the others, so at most -log2(1 - 0.00054), under 0.001
        bit of the codename's 96, is lost; one guess still tests one codename.
        """
        words = self.lists[self.language(language)]
        count = self.word_count(language)
        # One draw in 1,800 is redrawn with the committed lists; a list changed so that most
        # draws fail must stop the witness's page with an error, not spin a worker forever.
        for _ in range(_DRAWS_MAX):
            codename = " ".join(self.choose(words) for _ in range(count))
            if self.survives_keyboards(codename):
                return codename
        raise ConfigError(f"no codename of the {language!r} list survives both keyboards")


@dataclass
class KeyDeriver:
    """Runs `derive` while holding one of the app's KDF slots (each derivation holds 64 MiB).

    Callers derive exactly once per submission or login; `calls` counts the derivations so
    tests can check that structurally rather than by timing.
    """

    slots: threading.BoundedSemaphore
    # Read at each derivation, so a test app can lower the cost through its config.
    cost_of: Callable[[], KdfCost] = lambda: DEFAULT_COST
    # A witness waits this long for a slot before a calm "busy, try again" page.
    wait_seconds: float = 30.0
    derive_fn: Callable[..., WitnessKeys] = derive
    calls: int = 0
    _count_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def derive(self, codename: str) -> WitnessKeys:
        """Derive the witness keys; raises KdfBusyError when no slot frees up in time."""
        if not self.slots.acquire(timeout=self.wait_seconds):
            raise KdfBusyError
        try:
            with self._count_lock:
                self.calls += 1
            return self.derive_fn(codename, cost=self.cost_of())
        finally:
            self.slots.release()
