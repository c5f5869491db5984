"""js/src/sha256.js, the hash worker's SHA-256, in Debian's Chromium: NIST's vectors and hashlib.

The receipt's plaintext SHA-256 comes from this hand-written code (fast without a JIT, see its
comment), so it is checked in a real browser against FIPS 180-4's example digests and against
Python's hashlib on random inputs cut into random chunks, which is where an incremental hash
goes wrong: a block split across updates, an empty update, a tail of 55, 56 or 64 bytes.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chromium import BROWSER_MARKS, chromium

JS_DIR = Path(__file__).resolve().parents[2] / "js"
ESBUILD = JS_DIR / "node_modules" / ".bin" / "esbuild"

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.skipif(
        not ESBUILD.exists(),
        reason="js/node_modules is missing: run `make js` (.ci/run runs `npm ci` in js/)",
    ),
]

# FIPS 180-4's examples (NIST's "SHA256.pdf" and the long-message vector).
NIST = [
    ("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        1,
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ),
    (
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        1,
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ),
    ("a" * 1000, 1000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
]

# In the page: [[hex bytes, [chunk lengths…]], …] → each input's digest, fed chunk by chunk.
_HASH_CHUNKED = """
(cases) => cases.map(([hex, chunks]) => {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(2 * i, 2), 16);
  const digest = new Sha256();
  let at = 0;
  for (const n of chunks) { digest.update(bytes.subarray(at, at + n)); at += n; }
  return digest.hexDigest();
})
"""

# In the page: [text, repeat] → the digest of `text` repeated, one update per repeat.
_HASH_REPEATED = """
([text, repeat]) => {
  const bytes = new TextEncoder().encode(text);
  const digest = new Sha256();
  for (let i = 0; i < repeat; i++) digest.update(bytes);
  return digest.hexDigest();
}
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A blank Chromium page with sha256.js's class as the global `Sha256`."""
    out = tmp_path_factory.mktemp("sha256") / "sha256.js"
    entry = 'import { Sha256 } from "./src/sha256.js"; globalThis.Sha256 = Sha256;'
    subprocess.run(
        [str(ESBUILD), "--bundle", "--format=iife", "--target=es2020", "--log-level=warning",
         "--sourcefile=entry.js", f"--outfile={out}"],
        input=entry, text=True, check=True, cwd=JS_DIR, timeout=60,
    )  # fmt: skip
    with chromium() as browser:
        opened = browser.new_page()
        opened.add_script_tag(content=out.read_text(encoding="utf-8"))
        yield opened


@pytest.mark.parametrize(
    ("text", "repeat", "expected"), NIST, ids=["empty", "abc", "448", "896", "million-a"]
)
def test_nist_vectors(page: Any, text: str, repeat: int, expected: str) -> None:
    assert hashlib.sha256(text.encode() * repeat).hexdigest() == expected  # the table itself
    assert page.evaluate(_HASH_REPEATED, [text, repeat]) == expected


def _random_chunks(rng: random.Random, length: int) -> list[int]:
    """Chunk lengths adding up to `length`: empty ones, block edges, and longer than a block."""
    chunks: list[int] = []
    while sum(chunks) < length:
        chunks.append(
            min(rng.choice([0, 1, 7, 55, 56, 63, 64, 65, rng.randrange(200)]), length - sum(chunks))
        )
    return chunks


def test_random_lengths_and_chunkings_agree_with_hashlib(page: Any) -> None:
    rng = random.Random(20261207)  # noqa: S311 -- reproducible inputs, not secrets
    cases = []
    for length in [*range(301), *(rng.randrange(301) for _ in range(300))]:
        data = rng.randbytes(length)
        cases.append((data, _random_chunks(rng, length)))
    digests = page.evaluate(_HASH_CHUNKED, [[data.hex(), chunks] for data, chunks in cases])
    assert digests == [hashlib.sha256(data).hexdigest() for data, _ in cases]


# In the page: [chunk, count, tail] → the digest of `count` times one `chunk`-byte buffer of
# bytes 0…255 repeated, then its first `tail` bytes (one buffer: the page holds 16 MiB, not 512).
_HASH_LONG = """
([chunk, count, tail]) => {
  const bytes = new Uint8Array(chunk);
  for (let i = 0; i < chunk; i++) bytes[i] = i & 0xff;
  const digest = new Sha256();
  for (let i = 0; i < count; i++) digest.update(bytes);
  digest.update(bytes.subarray(0, tail));
  return digest.hexDigest();
}
"""


def test_an_input_past_512_mib_agrees_with_hashlib(page: Any) -> None:
    """The padding's 64-bit length: from 512 MiB on, the bit count needs its high word (a
    several-GB video is the case the hash worker exists for)."""
    chunk, count, tail = 16 * 1024 * 1024, 32, 55  # 512 MiB + 55 bytes: 2**32 + 440 bits
    block = bytes(range(256)) * (chunk // 256)
    expected = hashlib.sha256()
    for _ in range(count):
        expected.update(block)
    expected.update(block[:tail])
    assert (count * chunk + tail) * 8 >= 2**32  # the high word is not zero
    assert page.evaluate(_HASH_LONG, [chunk, count, tail]) == expected.hexdigest()
