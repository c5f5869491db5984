"""--seal-to: the whole case bundle as one tar, sealed with age for the journey."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, cast

from crypto.age import Sealer
from crypto.x25519 import X25519Recipient

__all__ = ["seal_directory"]


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Owner names and ids of the exporting machine are no business of the recipient's.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def _tar_over(sealer: Sealer) -> tarfile.TarFile:
    # "w|": a stream, written front to back; the Sealer cannot seek, and need not.
    return tarfile.open(fileobj=cast(IO[bytes], sealer), mode="w|", format=tarfile.PAX_FORMAT)


def seal_directory(root: Path, output: Path, recipients: Sequence[X25519Recipient]) -> None:
    """Stream `root` as a tar into an age file at `output` (created exclusively, renamed into
    place only when complete). Plaintext never touches the output's file system."""
    temp = output.with_name(f".{output.name}.part")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            with Sealer(out, recipients) as sealer, _tar_over(sealer) as tar:
                tar.add(root, arcname=root.name, filter=_normalised)
            out.flush()
            os.fsync(out.fileno())
        os.link(temp, output)
    finally:
        temp.unlink(missing_ok=True)
