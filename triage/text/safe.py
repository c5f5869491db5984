"""Witness text made harmless: for a terminal (controls removed) or a file (controls shown)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["neutralise", "neutralise_line", "safe_markup", "visible"]

# ESC-introduced sequences (CSI, OSC, DCS, PM, APC and two-byte escapes), in their 7-bit and
# 8-bit (C1) forms. They are removed whole, so no fragment of a sequence is left to act.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?           # CSI ... final byte
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])     # OSC, DCS, SOS, PM, APC ...
      [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?     # ... up to BEL or ST
  | \x1b[ -/]*[0-~]?                            # other escapes (charset, keypad ...)
    """,
    re.VERBOSE,
)
_KEEP = {"\n", "\t"}


def _is_control(char: str) -> bool:
    # Cc: C0 and C1 controls and DEL. Bidirectional overrides (Cf) can reorder what a reader
    # sees ("Trojan Source"), so the embedding/override/isolate controls go as well.
    if char in _KEEP:
        return False
    category = unicodedata.category(char)
    return category == "Cc" or char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def neutralise(text: str) -> str:
    """`text` without escape sequences and control characters (newline and tab are kept).

    Carriage returns go too: "\\r" would let a line overwrite what came before it.
    """
    text = _ESCAPES.sub("", text.replace("\r\n", "\n"))
    return "".join(c for c in text if not _is_control(c))


def neutralise_line(text: str) -> str:
    """Like neutralise(), on one line: newlines and tabs become spaces."""
    return " ".join(neutralise(text).split())


def safe_markup(text: str) -> str:
    """Neutralised text, with rich markup escaped, ready to be embedded in rich markup."""
    from rich.markup import escape  # noqa: PLC0415 - rich is loaded only where output is drawn

    return escape(neutralise(text))


def visible(text: str) -> str:
    """`text` with every control character written out as `<U+XXXX>` (newline and tab kept).

    For text files a person reads (a case bundle's testimony/*.txt): nothing is removed, so
    the reader sees that the witness's text held an escape sequence or a direction override,
    and nothing in it acts on a terminal that shows the file. A browser's "\\r\\n" is an
    ordinary line end.
    """
    text = text.replace("\r\n", "\n")
    return "".join(f"<U+{ord(c):04X}>" if _is_control(c) else c for c in text)
