"""A browser-sealed file sent in parts (issue 16): the store and its value types.

`upload` holds what an upload is (sizes, description, errors), `store` the files on disk:
each part appended in order to one temporary file, the description beside it.
"""

from intake.partstore.store import PartStore
from intake.partstore.upload import (
    MAX_OPEN,
    PART_SIZE,
    PartError,
    PartUpload,
    Whole,
    expiry_hour,
    owner_of,
)

__all__ = [
    "MAX_OPEN",
    "PART_SIZE",
    "PartError",
    "PartStore",
    "PartUpload",
    "Whole",
    "expiry_hour",
    "owner_of",
]
