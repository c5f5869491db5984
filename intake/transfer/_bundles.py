"""Opening bundles for the server: signed ones against the active investigators' minisign keys.

protocol/ reports a malformed, corrupted or badly signed bundle as a ProtocolError; here it
becomes a BundleError with a hint for the admin, so the CLI's one error funnel can print it.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from intake.errors import BundleError
from intake.keyring import Keyring, SigningKeyEntry
from protocol.bundle import BundleReader, open_bundle
from protocol.errors import ProtocolError
from protocol.manifest import SIGNATURE_NAME, BundleKind

__all__ = ["SignedBundle", "bundle_error", "open_signed"]

_HINTS = {
    "signature": "signed bundles must be signed by an active investigator key's minisign key "
    "(`intake keys add --signing-key`, `intake keys list`); a retired key authorises nothing",
    "integrity": "the bundle was damaged or altered on the way: copy it again from the laptop",
    "bundle": "the file is not a complete bundle of this kind: copy it again, or check that it "
    "is the right file",
    "unsupported_version": "the bundle was written by another version of triage",
    "schema": "the bundle does not follow docs/bundles.md",
}


def bundle_error(exc: ProtocolError, path: Path) -> BundleError:
    """The BundleError the admin sees for a ProtocolError while reading `path`."""
    # protocol reports a missing signature as a member out of place; say what it means.
    unsigned = exc.category == "bundle" and SIGNATURE_NAME in exc.message
    prefix = f"{'unsigned or ' if unsigned else ''}refused bundle {path.name}"
    return BundleError(f"{prefix}: {exc.diagnostics()}", hint=_HINTS.get(exc.category))


@dataclass(frozen=True)
class SignedBundle:
    """A signed bundle being read, and the investigator key whose minisign key signed it."""

    reader: BundleReader
    signer: SigningKeyEntry


def _signer(reader: BundleReader, entries: list[SigningKeyEntry]) -> SigningKeyEntry:
    if reader.signer is None:  # pragma: no cover - protocol refuses unsigned signed kinds
        raise BundleError("the bundle is not signed")
    for entry in entries:
        if hmac.compare_digest(entry.verify_key.key_id, reader.signer.key_id):
            return entry
    raise BundleError("the bundle's signer is not an active key")  # pragma: no cover


@contextmanager
def open_signed(path: Path, kind: BundleKind, keyring: Keyring) -> Iterator[SignedBundle]:
    """Open a signed bundle of `kind` for one streamed pass.

    Raises BundleError when there is no active key to check against, or the bundle is missing,
    malformed, of another kind, unsigned, signed by a key that is not an active investigator
    key, or corrupted (also while its items are read inside the `with` block).
    """
    entries = keyring.signing_keys()
    if not entries:
        raise BundleError(
            "no active investigator key: nothing can vouch for this bundle",
            hint="add the investigator's keys with `intake keys add RECIPIENT --signing-key FILE`",
        )
    try:
        with open_bundle(
            path, expect_kind=kind, verify_keys=[e.verify_key for e in entries]
        ) as reader:
            yield SignedBundle(reader=reader, signer=_signer(reader, entries))
    except ProtocolError as exc:
        raise bundle_error(exc, path) from exc
    except OSError as exc:
        raise BundleError(
            f"cannot read the bundle {path}: {exc.strerror or type(exc).__name__}"
        ) from exc
