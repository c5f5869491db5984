"""Strict JSON in and canonical JSON out, for every document protocol/ reads or writes."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from protocol.errors import Category, ProtocolError

__all__ = ["dump_canonical", "is_unicode", "load_object"]


def _no_constant(name: str) -> NoReturn:
    # json accepts NaN and Infinity by default; no document of ours has them.
    raise ValueError(f"{name} is not JSON")


def is_unicode(text: str) -> bool:
    """Whether `text` is real Unicode: no surrogate code points, lone or paired.

    JSON's "\\udXXX" escapes (and surrogateescape) make strings that cannot be written as
    UTF-8, so storing, printing or re-sealing them fails later; a Python string holding a
    surrogate pair would also come back as one other character after a JSON round trip.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_unicode(value: object) -> bool:
    # Iterative, so a deeply nested document cannot exhaust the stack here.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not is_unicode(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two readers could resolve a duplicated key differently; refuse the ambiguity outright.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def load_object(data: bytes, *, max_size: int, category: Category, what: str) -> dict[str, Any]:
    """Parse `data` as one UTF-8 JSON object. Raises ProtocolError(category) on anything else."""
    if len(data) > max_size:
        raise ProtocolError(category, f"{what} is larger than {max_size} bytes")
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(category, f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError(category, f"{what} is not a JSON object")
    if not _all_unicode(value):
        raise ProtocolError(category, f"{what} holds a string that is not valid Unicode")
    return value


def dump_canonical(value: object) -> bytes:
    """Sorted keys, no insignificant spaces, ASCII only, one trailing newline: the same bytes
    for the same document, so hashes and signatures over it are reproducible."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return (text + "\n").encode("ascii")
