"""A verified attachment opened for a parser: an unnamed 0600 file in the workspace's tmp/.

O_TMPFILE gives a file that never has a name: the kernel frees it when the last descriptor
closes, so no plaintext is left behind even if the process is killed. The sealed original is
only read.
"""

from __future__ import annotations

import hashlib
import os

from crypto.age import open_stream
from triage.errors import refused
from triage.workspace.blobs import BlobStore
from triage.workspace.context import WorkContext
from triage.workspace.models import Attachment

__all__ = ["open_plaintext"]


def open_plaintext(ctx: WorkContext, attachment: Attachment) -> int:
    """A read-write descriptor of the attachment's plaintext, checked against the SHA-256
    verified at import (TriageError if it differs). The caller closes it."""
    store = BlobStore(ctx.workspace.dir("blobs"))
    fd = os.open(ctx.workspace.dir("tmp"), os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
    digest = hashlib.sha256()
    try:
        with store.open(attachment.blob_name) as sealed:
            for chunk in open_stream(sealed, ctx.identities()):
                digest.update(chunk)
                os.write(fd, chunk)
        if digest.hexdigest() != attachment.plaintext_sha256:
            raise refused(
                f"{attachment.blob_name} opened to other bytes than were verified at import",
                "the workspace copy was altered; run 'triage log verify'",
            )
    except BaseException:
        os.close(fd)
        raise
    return fd
