"""What an upload in parts is: its sizes, its description, its errors (intake.partstore).

The value types of the parts store, apart from its files: the part size the page seals to,
how many unfinished uploads a witness may hold, the description kept in `<store>/parts/`, and
the finished upload handed to the draft.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from intake.errors import IntakeError

__all__ = ["MAX_OPEN", "PART_SIZE", "PartError", "PartUpload", "Whole", "expiry_hour", "owner_of"]

PART_SIZE = 4 * 1024 * 1024
"""A few MiB: over a good Tor circuit about ten seconds, so a drop costs at most that much."""

MAX_OPEN = 2
"""Unfinished uploads one witness may hold at once: the page sends one file at a time, and one
more covers a page reloaded mid-upload; forty would pin the disk for a day (issue 16 review)."""


class PartError(IntakeError):
    """A part or an upload that is refused (the page starts the file again or falls back)."""

    category = "parts"


@dataclass(frozen=True)
class PartUpload:
    """What the server knows of an upload in progress: nothing the sealed bytes do not say."""

    owner: str
    group: int
    plain_size: int
    sealed_size: int
    recipients: int
    keyring_digest: str
    expires: float
    fingerprints: tuple[str, ...] = ()  # the keys it is sealed to (issue 16, item 4)
    # Set once the file is in the draft: a `done` sent again (its answer lost to a cut) is
    # answered as the first was, never kept twice.
    finished: bool = False
    # The intent written before the commit: the blob name it becomes and its sealed hash, so a
    # `done` retried after a crash between commit and draft finds the file, never re-uploads it.
    blob: str = ""
    sealed_sha256: str = ""
    # The page's random name for this attempt at a file, sent again by each retry of its start:
    # a start whose answer was lost (a Tor cut) is answered with this upload, not a second one
    # left to count against MAX_OPEN for a day.
    nonce: str = ""

    @property
    def parts(self) -> int:
        return max(1, -(-self.sealed_size // PART_SIZE))

    def part_length(self, index: int) -> int:
        """The exact length part `index` must have."""
        if index < self.parts - 1:
            return PART_SIZE
        return self.sealed_size - PART_SIZE * (self.parts - 1)


@dataclass(frozen=True)
class Whole:
    """A finished upload: its temporary file's name in the store, and its sealed hash."""

    temp_name: str
    upload: PartUpload
    sealed_sha256: str


def expiry_hour(seconds_from_now: float) -> float:
    """A deadline `seconds_from_now`, rounded up to the hour: no exact times on disk."""
    return float(math.ceil((time.time() + seconds_from_now) / 3600) * 3600)


def owner_of(witness_id: str) -> str:
    """The owner recorded for a witness: a hash, so the parts directory names nobody."""
    return hashlib.sha256(b"intake-parts-owner\0" + witness_id.encode()).hexdigest()
