"""Codenames for returning witnesses, and the one memory-hungry derivation behind a semaphore."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from xkcdpass import xkcd_password

from crypto.witness import DEFAULT_COST, KdfCost, WitnessKeys, derive
from intake.errors import IntakeError

__all__ = ["CODENAME_WORDS", "CodenameFactory", "KdfBusyError", "KeyDeriver"]

CODENAME_WORDS = 7
"""7 words of the EFF long list (7776 words, ~12.9 bits each): about 90 bits, as SecureDrop."""

# Only plain lower-case words: the four hyphenated EFF words ("t-shirt"...) would normalise to
# two words, which a witness copying the codename by hand may well not reproduce.
_PLAIN_WORD = re.compile(r"^[a-z]+$")


class KdfBusyError(IntakeError):
    """Every derivation slot stayed busy for the whole wait: the page asks to try again."""

    category = "busy"

    def __init__(self) -> None:
        super().__init__("every key derivation slot stayed busy")


@dataclass(frozen=True)
class CodenameFactory:
    """Draws codenames with `secrets` from the EFF long wordlist shipped by xkcdpass."""

    words: tuple[str, ...]

    @classmethod
    def from_eff_long(cls) -> CodenameFactory:
        """Load the EFF long list from the installed xkcdpass package."""
        path = xkcd_password.locate_wordfile("eff-long")
        wordlist = xkcd_password.generate_wordlist(wordfile=path, min_length=1, max_length=64)
        plain = sorted({word for word in wordlist if _PLAIN_WORD.match(word)})
        return cls(words=tuple(plain))

    def new(self) -> str:
        """A fresh codename: seven words separated by single spaces."""
        return " ".join(secrets.choice(self.words) for _ in range(CODENAME_WORDS))


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
