"""The fuzz targets: one per reader of hostile input, with its seeds and its dictionary.

A target's `run(data)` is an oracle from tests.fuzz.oracles: it returns when the reader
accepted `data` soundly or refused it with its typed error, and raises anything else. The
Hypothesis tests in this folder and the atheris harnesses in bench/fuzz share these targets,
so both check one contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz import oracles, seeds

__all__ = ["NAMES", "Target", "build"]

NAMES = ("header", "armor", "age", "keys", "encoding", "minisign", "bundle", "schema", "codename")


@dataclass(frozen=True)
class Target:
    """One reader under test: how to run it on bytes, what to start from, words to splice in."""

    name: str
    run: Callable[[bytes], None] = field(repr=False)
    seeds: tuple[bytes, ...] = field(repr=False)
    tokens: tuple[bytes, ...] = field(default=(), repr=False)


# --- the table -------------------------------------------------------------------------------

_AGE_TOKENS = (
    b"age-encryption.org/v1\n",
    b"age-encryption.org/v2\n",
    b"-> X25519 ",
    b"-> scrypt ",
    b"-> grease-\x7f ",
    b"\n---",
    b"--- ",
    b"\r\n",
    b" 10\n",
    b" 21\n",
    b"A" * 43,
    b"A" * 64 + b"\n",
)
_ARMOR_TOKENS = (
    b"-----BEGIN AGE ENCRYPTED FILE-----",
    b"-----END AGE ENCRYPTED FILE-----",
    b"\r\n",
    b"=",
    b"==\n",
    b" \t\n",
    b"YWdlLWVuY3J5cHRpb24ub3JnL3Yx",
)
_KEY_TOKENS = (b"age1", b"AGE-SECRET-KEY-1", b"age1pq1", b"# ", b"\n", b"qpzry9x8", b"\xff")
_MINISIGN_TOKENS = (
    b"untrusted comment: ",
    b"trusted comment: ",
    b"RWQ",
    b"RUQ",
    b"RWS",
    b"\r\n",
    b"==",
    b"\xed\xb3\xbf",
    b"\xff",
)
_BUNDLE_TOKENS = (
    b"ustar\x0000",
    b'"kind":"ack"',
    b'"size":-1',
    b'"name":"../x"',
    b'"items":[]',
    b"bundle.json.minisig",
    b"\x00" * 512,
)
_SCHEMA_TOKENS = (
    b'"\\ud800"',
    b'"\\udcff"',
    b"1e999",
    b"-0",
    b"NaN",
    b"[[[[[[[[",
    b'"S-0123456789ABCDEF"',
    b'"received_at":"2025-02-30T00:00:00Z"',
    b"\xd9\xa2",
    b"null",
    b"true",
)
_CODENAME_TOKENS = tuple(
    word.encode() for word in ("\u2013", "\u3000", "\u0130", "\ufb01", "\u01c5", "\u0301", " ", "-")
)


def build(name: str, workdir: Path) -> Target:
    """The target called `name` (one of NAMES); `workdir` takes its scratch files."""
    keys = seeds.Keys.fixed()
    makers: dict[str, Callable[[], tuple[Callable[[bytes], None], list[bytes], tuple[bytes, ...]]]]
    makers = {
        "header": lambda: (oracles.header, seeds.age_seeds(keys), _AGE_TOKENS),
        "age": lambda: (oracles.age(keys), seeds.age_seeds(keys), _AGE_TOKENS),
        "armor": lambda: (oracles.armor, seeds.armor_seeds(keys), _ARMOR_TOKENS),
        "keys": lambda: (oracles.key_texts(workdir), seeds.key_text_seeds(keys), _KEY_TOKENS),
        "encoding": lambda: (oracles.encoding, seeds.key_text_seeds(keys), _KEY_TOKENS),
        "minisign": lambda: (oracles.minisign(keys), seeds.minisign_seeds(keys), _MINISIGN_TOKENS),
        "bundle": lambda: (oracles.bundle(keys), seeds.bundle_seeds(keys, workdir), _BUNDLE_TOKENS),
        "schema": lambda: (
            oracles.schema,
            [s.to_json() for s in seeds.submissions(keys)],
            _SCHEMA_TOKENS,
        ),
        "codename": lambda: (
            oracles.codename,
            [c.encode() for c in seeds.CODENAMES],
            _CODENAME_TOKENS,
        ),
    }
    if name not in makers:
        raise ValueError(f"no fuzz target {name!r}; choose from {', '.join(NAMES)}")
    run, data, tokens = makers[name]()
    return Target(name, run, tuple(data), tokens)
