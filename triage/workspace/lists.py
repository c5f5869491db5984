"""Code lists stored in one text column as "|a|b|", so LIKE '%|a|%' matches whole codes."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["joined", "split"]


def joined(values: Iterable[str]) -> str:
    """ "|a|b|" (sorted, unique), or "" for none."""
    items = sorted(set(values))
    return "|" + "|".join(items) + "|" if items else ""


def split(value: str) -> list[str]:
    return [item for item in value.split("|") if item]
