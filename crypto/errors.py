"""One error root for the crypto layer, with stable categories that callers may branch on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "ArmorError",
    "CryptoError",
    "Diagnostics",
    "HeaderError",
    "KeyFormatError",
    "MacError",
    "NoIdentityMatchError",
    "PayloadError",
    "SignatureError",
]


@dataclass(frozen=True)
class Diagnostics:
    """What every layer's error root says about a failure, in one shape for logs and CLIs.

    Each layer (crypto, protocol, intake, triage) has one error root whose `diagnostics()`
    returns this: a stable `category` to branch on, the `message` (what failed) and `hints`
    (what to do). It lives here, in the bottom layer, because every other layer imports crypto.
    `str()` gives the text for a log line: `category: message`, then one `hint: …` line each.
    """

    category: str
    message: str
    hints: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "\n".join([f"{self.category}: {self.message}", *(f"hint: {h}" for h in self.hints)])


class CryptoError(Exception):
    """Root of every error a reader in `crypto` raises on hostile or damaged input.

    `category` is stable: it is what tests, logs and the CLI branch on, while the message may
    change. `hint` says what the person at the keyboard can do about it. The root itself is never
    raised; only its subclasses are.
    """

    category: ClassVar[str] = "crypto"
    hint: ClassVar[str] = "the data could not be processed"

    def diagnostics(self) -> Diagnostics:
        """What failed (the category and message), then what to try (the class's hint)."""
        return Diagnostics(self.category, str(self), (self.hint,))


class HeaderError(CryptoError):
    """The age header (or the payload nonce right after it) is malformed or unsupported."""

    category = "header"
    hint = "this is not an age v1 file, or its header is damaged"


class MacError(CryptoError):
    """A file key was unwrapped but the header MAC does not verify: the header was altered."""

    category = "mac"
    hint = "the file header was modified or corrupted after sealing"


class PayloadError(CryptoError):
    """A STREAM chunk failed to authenticate, or the payload is truncated or has trailing data.

    Plaintext already released by a streaming reader came from chunks that authenticated, but the
    file as a whole is not intact: callers must discard what they received.
    """

    category = "payload"
    hint = "the encrypted data is truncated or corrupted; discard any output"


class NoIdentityMatchError(CryptoError):
    """No stanza in the header opens with the identities (or passphrase) given."""

    category = "no_match"
    hint = "the file was not sealed to any of the given keys; check the identity or passphrase"


class ArmorError(CryptoError):
    """The ASCII armor (strict PEM) around an age file is malformed."""

    category = "armor"
    hint = "the armored (PEM) text is damaged; copy it again without changes"


class KeyFormatError(CryptoError):
    """A key, recipient or key file is malformed or of an unsupported type."""

    category = "key"
    hint = "check the key: recipients start with age1, identities with AGE-SECRET-KEY-1"


class SignatureError(CryptoError):
    """A signature or a signing key file is malformed or does not verify."""

    category = "signature"
    hint = "the signature does not match the data or the key"
