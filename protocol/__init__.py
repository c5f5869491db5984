"""What crosses between server and offline laptop: bundles, the submission schema, code lists."""

from protocol.bundle import (
    FAT32_MAX_FILE_SIZE,
    BundleReader,
    ItemReader,
    ItemSource,
    open_bundle,
    parse_size,
    verify_bundle,
    write_bundle,
)
from protocol.codes import LISTS, is_valid
from protocol.errors import ProtocolError
from protocol.ids import (
    new_blob_name,
    new_reply_id,
    new_submission_id,
    new_witness_id,
    parse_blob_name,
    parse_reply_id,
    parse_submission_id,
    parse_witness_id,
)
from protocol.manifest import SIGNED_KINDS, BundleKind, ItemEntry, Manifest, validate_item_name
from protocol.schema import Answers, ConsentChange, FileEntry, Submission

__all__ = [
    "FAT32_MAX_FILE_SIZE",
    "LISTS",
    "SIGNED_KINDS",
    "Answers",
    "BundleKind",
    "BundleReader",
    "ConsentChange",
    "FileEntry",
    "ItemEntry",
    "ItemReader",
    "ItemSource",
    "Manifest",
    "ProtocolError",
    "Submission",
    "is_valid",
    "new_blob_name",
    "new_reply_id",
    "new_submission_id",
    "new_witness_id",
    "open_bundle",
    "parse_blob_name",
    "parse_reply_id",
    "parse_submission_id",
    "parse_witness_id",
    "parse_size",
    "validate_item_name",
    "verify_bundle",
    "write_bundle",
]
