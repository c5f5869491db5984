"""Opening bundles for the server: signed ones against the keyring file's minisign keys.

The signature is checked against every key in the file, revoked ones included, so that a
refusal can say which case applies; then the signer's state decides: an active key authorises
its bundle, a retired key only an ack (and purge.py narrows that to what was exported sealed to
it), a revoked key nothing. A key that is only in the database is unknown here.

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
from intake.models import KeyStatus
from protocol.bundle import BundleReader, open_bundle
from protocol.errors import ProtocolError
from protocol.manifest import SIGNATURE_NAME, BundleKind

__all__ = ["SignedBundle", "bundle_error", "open_signed"]

_HINTS = {
    "signature": "the bundle is signed by no key in the keyring file (`intake keys list`); a "
    "key that is only in the database is not an investigator",
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
    return BundleError(f"{prefix}: {exc.diagnostics()!s}", hint=_HINTS.get(exc.category))


@dataclass(frozen=True)
class SignedBundle:
    """A signed bundle being read, and the investigator key whose minisign key signed it."""

    reader: BundleReader
    signer: SigningKeyEntry


def _signer(reader: BundleReader, entries: list[SigningKeyEntry]) -> SigningKeyEntry:
    if reader.signer is None:  # pragma: no cover - protocol refuses unsigned signed kinds
        raise BundleError("the bundle is not signed")
    matches = [e for e in entries if hmac.compare_digest(e.verify_key.key_id, reader.signer.key_id)]
    # A rotation may keep the minisign key, so several entries can share it. If any of them is
    # revoked, the minisign key is compromised whichever entry it also belongs to: the revoked
    # one answers (found by review: a thief's ack matched the retired sibling and purged).
    revoked = [e for e in matches if e.status is KeyStatus.REVOKED]
    if revoked:
        return revoked[0]
    if matches:
        return matches[0]  # active first (signing_keys' order)
    raise BundleError("the bundle's signer is not in the keyring")  # pragma: no cover


def _authorise(signer: SigningKeyEntry, kind: BundleKind, path: Path) -> None:
    """Refuse a bundle its signer's state does not allow. Raises BundleError."""
    who = f"{signer.fingerprint} ({signer.name})"
    if signer.status is KeyStatus.REVOKED:
        raise BundleError(
            f"refused bundle {path.name}: it is signed by the revoked key {who}; nothing was "
            "changed",
            hint="a revoked key authorises nothing, not even an ack made before it was revoked: "
            "the investigator signs again with an active key",
        )
    if signer.status is KeyStatus.RETIRED and kind != "ack":
        raise BundleError(
            f"refused bundle {path.name}: it is signed by the retired key {who}; nothing was "
            "changed",
            hint="a retired key only acknowledges what was exported sealed to it: sign replies "
            "and re-wraps with an active key",
        )


@contextmanager
def open_signed(path: Path, kind: BundleKind, keyring: Keyring) -> Iterator[SignedBundle]:
    """Open a signed bundle of `kind` for one streamed pass, signed by a key the file allows.

    Raises BundleError when the keyring file holds no key, or the bundle is missing,
    malformed, of another kind, unsigned, signed by no key in the file, by a revoked key, by a
    retired key (unless an ack), or corrupted (also while its items are read inside the `with`
    block); KeyringFileError when the keyring file is missing or invalid.
    """
    entries = keyring.signing_keys()
    if not entries:
        raise BundleError(
            "the keyring file holds no investigator key: nothing can vouch for this bundle",
            hint="add the investigator's keys with `intake keys add RECIPIENT --signing-key FILE`",
        )
    try:
        with open_bundle(
            path, expect_kind=kind, verify_keys=[e.verify_key for e in entries]
        ) as reader:
            signer = _signer(reader, entries)
            _authorise(signer, kind, path)
            yield SignedBundle(reader=reader, signer=signer)
    except ProtocolError as exc:
        raise bundle_error(exc, path) from exc
    except OSError as exc:
        raise BundleError(
            f"cannot read the bundle {path}: {exc.strerror or type(exc).__name__}"
        ) from exc
