"""Writing a case bundle's files: originals, testimony (JSON and text), manifests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crypto.age import open_stream
from crypto.minisign import SigningKey, sign_file
from protocol.schema import Submission as Sealed
from triage.browse.extract import safe_name
from triage.case.plan import Decision
from triage.errors import refused
from triage.text.answers import answer_sections, group_lines
from triage.text.safe import visible
from triage.workspace.blobs import BlobStore
from triage.workspace.context import WorkContext
from triage.workspace.models import Attachment

__all__ = [
    "MANIFEST",
    "SIGNATURE",
    "write_json",
    "write_manifest",
    "write_metadata",
    "write_original",
    "write_testimony",
    "write_text",
]

MANIFEST = "manifest.sha256"
SIGNATURE = "manifest.sha256.minisig"
WITHHELD = "[withheld: identifying]"


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8", newline="\n") as out:
        out.write(text)


def write_json(path: Path, value: Any, *, ascii_only: bool = False) -> None:
    """`ascii_only` for text from a hostile file: every non-ASCII character as a \\u escape,
    so no control or direction override acts in whatever viewer opens the file."""
    text = json.dumps(value, indent=2, ensure_ascii=ascii_only, sort_keys=True)
    write_text(path, text + "\n")


def original_name(attachment: Attachment) -> str:
    """originals/<sha256>.<ext>: content-addressed, so a file two witnesses sent is one file."""
    ext = Path(safe_name("S", 0, attachment)).suffix
    return f"originals/{attachment.plaintext_sha256}{ext}"


def write_original(ctx: WorkContext, root: Path, attachment: Attachment) -> str:
    """Open the sealed blob into the bundle, re-hashing it; returns the relative path."""
    relative = original_name(attachment)
    target = root / relative
    if target.exists():
        return relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    store = BlobStore(ctx.workspace.dir("blobs"))
    with store.open(attachment.blob_name) as sealed, target.open("xb") as out:
        for chunk in open_stream(sealed, ctx.identities()):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != attachment.plaintext_sha256:
        raise refused(
            f"{attachment.blob_name} no longer opens to the bytes verified at import",
            "run 'triage log verify'; the workspace copy may have been altered",
        )
    return relative


def write_metadata(root: Path, attachment: Attachment, original: str) -> dict[str, Any] | None:
    """metadata/<sha256>.json: what the original says about itself (triage media scan), a file
    derived from it beside it, never a change to it. None when the file was never scanned.
    It holds nothing the original does not: whoever may have the original may have this."""
    record = attachment.media
    if record is None:
        return None
    facts = json.loads(record.facts)
    relative = f"metadata/{attachment.plaintext_sha256}.json"
    if not (root / relative).exists():
        write_json(
            root / relative,
            {
                "role": "metadata",
                "describes": original,
                "sha256_of_original": attachment.plaintext_sha256,
                "scanned_utc": f"{record.scanned_at:%Y-%m-%dT%H:%M:%SZ}",
                "tools": facts.get("tools", []),
                "facts": facts,
            },
            ascii_only=True,
        )
    return {
        "path": relative,
        "role": "metadata",
        "derived_from": attachment.plaintext_sha256,
        "tools": facts.get("tools", []),
    }


def _redacted(decision: Decision) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(decision.submission.document)
    doc["answers"] = {k: v for k, v in doc["answers"].items() if not k.startswith("D")}
    for entry in doc["files"]:
        entry["original_name"] = WITHHELD
    return doc


def _text_layout(decision: Decision, sealed: Sealed) -> str:
    row = decision.submission
    lines = [
        f"Submission {row.id} ({row.kind}), received {row.received_at:%Y-%m-%d %H:%M:%S} UTC",
        f"Written in: {row.ui_language}. Text below is verbatim; labels are in English.",
        "Control characters are shown as <U+XXXX>; the .json file holds the exact text.",
    ]
    for title, answers in answer_sections(sealed, withhold_identity=not decision.identity_allowed):
        lines += ["", title.upper()]
        lines += [f"{a.label}: {a.value}" for a in answers]
    for number, att in enumerate(row.files, start=1):
        name = att.original_name if decision.identity_allowed else WITHHELD
        lines += ["", f"FILE {number}: sha256 {att.plaintext_sha256}, {att.size} bytes, "
                  f"{att.declared_type}, {att.state}; sent as {name!r}"]  # fmt: skip
        lines += [f"  {a.label}: {a.value}" for a in group_lines(att.group_answers)]
    # Every line, not only the witness's answers: a file name or a code from the bundle is
    # shown the same way, and a reader's terminal or editor never acts on what it holds.
    return visible("\n".join(lines) + "\n")


def write_testimony(root: Path, decision: Decision) -> list[str]:
    """testimony/<id>.json (verbatim, or with section D and file names removed) and .txt."""
    row = decision.submission
    json_path = root / "testimony" / f"{row.id}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    if decision.identity_allowed:
        json_path.write_bytes(row.document.encode("utf-8"))  # the opened bytes, untouched
    else:
        write_json(json_path, _redacted(decision))
    sealed = Sealed.from_json(row.document.encode("utf-8"))
    write_text(root / "testimony" / f"{row.id}.txt", _text_layout(decision, sealed))
    return [f"testimony/{row.id}.json", f"testimony/{row.id}.txt"]


def _files(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in (MANIFEST, SIGNATURE):
            yield path


def write_manifest(root: Path, key: SigningKey, comment: str) -> str:
    """manifest.sha256 ("<sha256>  <path>", for sha256sum -c) and its minisign signature.
    Returns the manifest's own SHA-256 (the bundle's root hash)."""
    lines = []
    for path in _files(root):
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        lines.append(f"{digest.hexdigest()}  {path.relative_to(root).as_posix()}\n")
    manifest = root / MANIFEST
    write_text(manifest, "".join(lines))
    root_hash = hashlib.sha256(manifest.read_bytes()).hexdigest()
    signature = sign_file(manifest, key, trusted_comment=f"{comment} sha256:{root_hash}")
    write_text(root / SIGNATURE, signature)
    return root_hash
