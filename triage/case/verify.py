"""`triage case verify`: what a recipient runs on a case bundle (signature, hashes, no extras)."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from crypto.errors import CryptoError
from crypto.minisign import VerifyKey, verify
from triage.case.files import MANIFEST, SIGNATURE
from triage.errors import ExitCode, TriageError
from triage.workspace.blobs import sha256_file

__all__ = ["CaseCheck", "verify_case"]

_LINE = re.compile(r"([0-9a-f]{64})  ([^\n\\]+)")
_DERIVED = re.compile(r"metadata/([0-9a-f]{64})\.json")


@dataclass(frozen=True)
class CaseCheck:
    files: int
    key_id: str
    trusted_comment: str
    key_from_bundle: bool


def _broken(message: str, *hints: str, code: ExitCode = ExitCode.DAMAGED) -> TriageError:
    return TriageError(
        f"case bundle does not verify: {message}",
        hints=hints or ("do not rely on this bundle; ask the sender for a fresh copy",),
        category="case",
        exit_code=code,
    )


def _listed(root: Path, manifest: bytes) -> dict[str, str]:
    listed: dict[str, str] = {}
    for number, line in enumerate(manifest.decode("utf-8", "replace").splitlines(), start=1):
        match = _LINE.fullmatch(line)
        path = PurePosixPath(match.group(2)) if match else None
        if match is None or path is None or path.is_absolute() or ".." in path.parts:
            raise _broken(f"{MANIFEST} line {number} is malformed")
        listed[str(path)] = match.group(1)
    return listed


def _check_derived(listed: dict[str, str]) -> None:
    """A derived file (metadata/<sha256>.json) must describe an original the bundle holds."""
    originals = {PurePosixPath(p).stem for p in listed if p.startswith("originals/")}
    for relative in listed:
        if relative.startswith("metadata/"):
            match = _DERIVED.fullmatch(relative)
            if match is None or match.group(1) not in originals:
                raise _broken(f"{relative} describes no original in this bundle")


def verify_case(root: Path, trusted_key: VerifyKey | None = None) -> CaseCheck:
    """Check the signature over manifest.sha256 (with `trusted_key`, else the bundle's own
    minisign.pub), every listed file's SHA-256, and that nothing unlisted is present.
    Raises TriageError naming the first problem."""
    manifest_path, signature_path = root / MANIFEST, root / SIGNATURE
    if not manifest_path.is_file() or not signature_path.is_file():
        raise _broken(f"{MANIFEST} or {SIGNATURE} is missing", "is this a case bundle folder?")
    manifest = manifest_path.read_bytes()
    key = trusted_key
    if key is None:
        try:
            key = VerifyKey.parse((root / "minisign.pub").read_text(encoding="ascii"))
        except (OSError, CryptoError) as exc:
            raise _broken(f"minisign.pub is missing or malformed: {exc}") from None
    try:
        comment = verify(
            signature_path.read_text(encoding="ascii", errors="replace"), manifest, key
        )
    except CryptoError as exc:
        raise _broken(
            f"the signature over {MANIFEST} does not verify: {exc}", code=ExitCode.SIGNATURE
        ) from None
    listed = _listed(root, manifest)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            raise _broken(f"{relative} is a symbolic link")
        if path.is_file() and relative not in listed and relative not in (MANIFEST, SIGNATURE):
            raise _broken(f"{relative} is not in {MANIFEST} (added after signing)")
    _check_derived(listed)
    for relative, expected in listed.items():
        path = root / relative
        if not path.is_file():
            raise _broken(f"{relative} is missing")
        if not hmac.compare_digest(sha256_file(path), expected):
            raise _broken(f"{relative} does not match its SHA-256 (changed after signing)")
    return CaseCheck(len(listed), key.key_id_hex, comment, trusted_key is None)
