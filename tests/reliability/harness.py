"""A real installation for the reliability tests (`intake init`, `intake keys add`), and ways to
look inside it: rows, blobs opened with the `age` binary, a search for plaintext on disk."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from crypto.minisign import SigningKey
from intake.db import make_engine
from intake.models import Blob, DraftBlob, Submission
from tests.conftest import keyring_env

REPO = Path(__file__).resolve().parents[2]
INTAKE = Path(sys.executable).with_name("intake")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(argv: list[str], env: Mapping[str, str], timeout: float = 60) -> str:
    """Run a command to completion; fail the test with its output if it fails."""
    result = subprocess.run(
        argv, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"{argv[:3]} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


@dataclass(frozen=True)
class Installation:
    """A data directory made by `intake init`, with one investigator key added by the CLI."""

    root: Path
    data_dir: Path
    database_url: str
    identity_file: Path  # age-keygen's file: the investigator's secret key
    blob_dir: Path
    tmp_dir: Path  # TMPDIR for every process started here (scanned for plaintext)

    @property
    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
        return {
            **base,
            "INTAKE_DATA_DIR": str(self.data_dir),
            "INTAKE_DATABASE_URL": self.database_url,
            "INTAKE_BLOB_DIR": str(self.blob_dir),
            "TMPDIR": str(self.tmp_dir),
            **keyring_env(self.root),
        }

    def intake(self, *args: str, timeout: float = 60) -> str:
        return run([str(INTAKE), *args], self.env, timeout)

    def engine(self) -> Engine:
        return make_engine(self.database_url)

    def submission_count(self) -> int:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return int(conn.scalar(select(func.count()).select_from(Submission)) or 0)
        finally:
            engine.dispose()

    def blob_rows(self) -> dict[str, str]:
        """Blob name -> submission id, for every blob row."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return {
                    name: sid for name, sid in conn.execute(select(Blob.name, Blob.submission_id))
                }
        finally:
            engine.dispose()

    def draft_blob_names(self) -> set[str]:
        """Blob names kept in witnesses' drafts (whole files of unfinished forms)."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return set(conn.scalars(select(DraftBlob.name)))
        finally:
            engine.dispose()

    def temp_files(self) -> list[str]:
        return sorted(p.name for p in (self.blob_dir / "tmp").iterdir())

    def blob_files(self) -> list[str]:
        return sorted(p.name for p in (self.blob_dir / "blobs").iterdir())

    def opened_submission(self, sid: str) -> tuple[dict[str, Any], dict[str, bytes]]:
        """Its submission.json and its files by original name, opened by `age` from the store."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                manifest = conn.scalar(select(Submission.manifest_blob).where(Submission.id == sid))
        finally:
            engine.dispose()
        assert manifest, f"no submission {sid}"
        doc = json.loads(self.open_blob(manifest))
        files = {f["original_name"]: self.open_blob(f["blob_name"]) for f in doc["files"]}
        return doc, files

    def open_blob(self, name: str) -> bytes:
        """The blob opened by the real `age` binary with the investigator's identity."""
        result = subprocess.run(
            ["age", "-d", "-i", str(self.identity_file), str(self.blob_dir / "blobs" / name)],
            capture_output=True,
            timeout=60,
            check=True,
        )
        return result.stdout


@dataclass(frozen=True)
class InvestigatorKey:
    """An investigator's age identity file, its recipient and a minisign public key file."""

    identity_file: Path
    recipient: str
    signing_pub: Path

    @classmethod
    def generate(cls, root: Path, env: Mapping[str, str]) -> InvestigatorKey:
        """With `age-keygen` (the real binary) and a fresh minisign key."""
        identity = root / "investigator.key"
        run(["age-keygen", "-o", str(identity)], env)
        pub = root / "investigator.pub"
        pub.write_text(SigningKey.generate().verify_key().to_file_text(), encoding="utf-8")
        return cls(identity, run(["age-keygen", "-y", str(identity)], env).strip(), pub)

    @classmethod
    def triage_keygen(cls, tmp_path: Path) -> InvestigatorKey:
        """With `triage keygen` (unprotected: no terminal here), as the investigator makes it."""
        keys = tmp_path / "keys"
        keys.mkdir(mode=0o700)
        identity = keys / "olena.age"
        triage = str(Path(sys.executable).with_name("triage"))
        out = run([triage, "keygen", "-o", str(identity), "--no-passphrase"], os.environ)
        lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        return cls(identity, lines["recipient"], keys / "olena.age.minisign.pub")


def install(
    root: Path,
    *,
    database_url: str | None = None,
    blob_dir: Path | None = None,
    key: InvestigatorKey | None = None,
) -> Installation:
    """`intake init` and `intake keys add` of `key` (default: a new one) under `root`."""
    data_dir = root / "data"
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    key = key or InvestigatorKey.generate(root, os.environ)
    inst = Installation(
        root=root,
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'intake.sqlite3'}",
        identity_file=key.identity_file,
        blob_dir=blob_dir or data_dir / "store",
        tmp_dir=tmp_dir,
    )
    inst.intake("init")
    inst.intake(
        "keys", "add", key.recipient, "--name", "Reliability", "--signing-key", str(key.signing_pub)
    )
    return inst


@dataclass(frozen=True)
class Grep:
    """Where a canary shows up in clear under some roots (files only; symlinks not followed)."""

    canary: bytes

    def hits(self, *roots: Path) -> list[Path]:
        found = []
        for path in _files(*roots):
            try:
                if self.canary in path.read_bytes():
                    found.append(path)
            except OSError:
                continue  # removed while we looked
        return found


def _files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
            continue
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                path = Path(dirpath) / name
                if path.is_file() and not path.is_symlink():
                    yield path
