"""How strong a new passphrase must be before `triage keygen` seals the keys with it."""

from __future__ import annotations

__all__ = ["MIN_DISTINCT", "MIN_LENGTH", "weakness"]

MIN_LENGTH = 15
"""Characters. The passphrase alone guards the identity that opens every testimony, and a
stolen laptop or backup can be attacked offline for as long as the thief likes; 15 is what
NIST SP 800-63B (rev. 4) asks of a password that is the only factor. A diceware phrase of
four common words ("correct horse battery staple", 28 characters) passes easily."""
MIN_DISTINCT = 6
"""Different characters: refuses "aaaaaaaaaaaaaaa" and "121212121212121", which are long but
guessed first."""


def weakness(passphrase: str) -> str | None:
    """Why `passphrase` is too weak to protect keys, or None when it is strong enough.

    Length is counted in characters, not bytes: a Cyrillic phrase is no stronger for taking
    two bytes a letter."""
    if len(passphrase) < MIN_LENGTH:
        return f"it has {len(passphrase)} characters; at least {MIN_LENGTH} are needed"
    distinct = len(set(passphrase.casefold()))
    if distinct < MIN_DISTINCT:
        return f"it uses only {distinct} different characters; at least {MIN_DISTINCT} are needed"
    return None
