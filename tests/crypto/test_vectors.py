"""Every CCTV age vector: the outcome category, and the hash of all plaintext released."""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crypto.age import open_stream
from crypto.errors import CryptoError
from crypto.header import Identity
from crypto.scrypt import ScryptIdentity
from crypto.x25519 import X25519Identity

VECTORS = Path(__file__).parent / "vectors"
KNOWN_KEYS = frozenset(
    {"expect", "payload", "file key", "identity", "passphrase", "armored", "compressed", "comment"}
)
# Our error categories, named as the vectors name outcomes.
OUTCOME = {
    "header": "header failure",
    "mac": "HMAC failure",
    "payload": "payload failure",
    "no_match": "no match",
    "armor": "armor failure",
}
# These need an mlkem768x25519 (post-quantum hybrid) identity: PyNaCl has no ML-KEM, so we
# cannot reach the code they test. Listed by name so that a new vector cannot be skipped quietly.
HYBRID_ONLY = frozenset(
    {
        "armor_hybrid",
        "hybrid",
        "hybrid_and_x25519",
        "hybrid_bad_tag",
        "hybrid_currupted_enc_mlkem",
        "hybrid_currupted_enc_x25519",
        "hybrid_extra_argument",
        "hybrid_grease",
        "hybrid_identity",
        "hybrid_long_file_key",
        "hybrid_long_share",
        "hybrid_low_order",
        "hybrid_multiple_recipients",
        "hybrid_no_match",
        "hybrid_not_canonical_body",
        "hybrid_not_canonical_enc",
        "hybrid_short_share",
        "hybrid_uppercase",
    }
)
SKIP_REASON = "needs a post-quantum mlkem768x25519 identity (PyNaCl has no ML-KEM)"


@dataclass(frozen=True)
class Vector:
    name: str
    fields: dict[str, list[str]] = field(repr=False)
    body: bytes = field(repr=False)

    @classmethod
    def load(cls, path: Path) -> Vector:
        raw = path.read_bytes()
        head, body = raw.split(b"\n\n", 1)
        fields: dict[str, list[str]] = {}
        for line in head.decode("utf-8").splitlines():
            key, value = line.split(": ", 1)
            fields.setdefault(key, []).append(value)
        if fields.get("compressed") == ["zlib"]:
            body = zlib.decompress(body)
        return cls(path.name, fields, body)

    @property
    def expect(self) -> str:
        return self.fields["expect"][0]

    @property
    def armored(self) -> bool:
        return self.fields.get("armored") == ["yes"]

    def identities(self) -> list[Identity]:
        keys = [k for k in self.fields.get("identity", []) if k.startswith("AGE-SECRET-KEY-1")]
        found: list[Identity] = [X25519Identity.parse(k) for k in keys]
        found += [ScryptIdentity(p.encode()) for p in self.fields.get("passphrase", [])]
        return found

    def runnable(self) -> bool:
        """The README's rule: skip a vector that lists credentials but none we can use."""
        listed = "identity" in self.fields or "passphrase" in self.fields
        return set(self.fields) <= KNOWN_KEYS and not (listed and not self.identities())


def vector_paths() -> list[Path]:
    return sorted(p for p in VECTORS.iterdir() if p.read_bytes().startswith(b"expect: "))


def run(vector: Vector, *, armored: bool | None) -> tuple[str, str]:
    """Open the vector; return the outcome string and the SHA-256 of all released plaintext."""
    digest = hashlib.sha256()
    try:
        for chunk in open_stream(io.BytesIO(vector.body), vector.identities(), armored=armored):
            digest.update(chunk)
    except CryptoError as exc:
        return OUTCOME[exc.category], digest.hexdigest()
    return "success", digest.hexdigest()


@pytest.mark.parametrize("path", vector_paths(), ids=lambda p: p.name)
def test_vector(path: Path) -> None:
    vector = Vector.load(path)
    if vector.name in HYBRID_ONLY:
        pytest.skip(SKIP_REASON)
    # Binary vectors go through armor detection; armored ones are declared armored, because
    # some (garbage before the BEGIN line) must fail as armor, not as a header.
    outcome, digest = run(vector, armored=True if vector.armored else None)
    assert outcome == vector.expect
    if "payload" in vector.fields:
        assert digest == vector.fields["payload"][0]


def test_armored_success_vectors_are_detected_without_a_hint() -> None:
    vectors = [Vector.load(p) for p in vector_paths()]
    armored = [v for v in vectors if v.armored and v.expect == "success" and v.runnable()]
    assert len(armored) == 6
    for vector in armored:
        assert run(vector, armored=None) == ("success", vector.fields["payload"][0])


def test_vector_counts() -> None:
    vectors = [Vector.load(p) for p in vector_paths()]
    ran = [v.name for v in vectors if v.name not in HYBRID_ONLY]
    skipped = {v.name for v in vectors if not v.runnable()}
    print(f"age vectors: {len(vectors)} total, {len(ran)} run, {len(skipped)} skipped by name")
    assert len(vectors) == 143
    assert skipped == HYBRID_ONLY  # the README's rule and our list agree
    assert len(ran) == 125
