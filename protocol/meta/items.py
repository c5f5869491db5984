"""Item names inside bundles: one helper per form, so writers and readers spell them alike."""

from __future__ import annotations

import re

__all__ = [
    "blob_item",
    "blob_of_item",
    "header_item",
    "manifest_item",
    "reply_item",
    "submission_header_item",
    "submission_of_item",
]

_SUBMISSION_ITEM = re.compile(r"submissions/(S-[0-9A-Z]{16})\.json\.age")
_BLOB_ITEM = re.compile(r"blobs/([0-9a-f]{32})")


def manifest_item(submission_id: str) -> str:
    """`submissions/<id>.json.age`: a submission's sealed submission.json in an export."""
    return f"submissions/{submission_id}.json.age"


def blob_item(blob_name: str) -> str:
    """`blobs/<blob name>`: a sealed file in an export."""
    return f"blobs/{blob_name}"


def reply_item(reply_id: str) -> str:
    """`replies/<reply id>.age`: a sealed reply in a replies bundle."""
    return f"replies/{reply_id}.age"


def header_item(blob_name: str) -> str:
    """`headers/<blob name>`: a new header in a rewrap bundle."""
    return f"headers/{blob_name}"


def submission_header_item(submission_id: str) -> str:
    """`headers/submissions/<id>.json.age`: a new header for a submission.json whose blob name
    the laptop does not know."""
    return f"headers/{manifest_item(submission_id)}"


def submission_of_item(item: str) -> str | None:
    """The submission id of a `submissions/<id>.json.age` item, else None."""
    match = _SUBMISSION_ITEM.fullmatch(item)
    return match.group(1) if match else None


def blob_of_item(item: str) -> str | None:
    """The blob name of a `blobs/<blob name>` item, else None."""
    match = _BLOB_ITEM.fullmatch(item)
    return match.group(1) if match else None
