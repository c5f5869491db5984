"""Valid inputs to mutate: age files, armor, key files, minisign texts, bundles, submissions.

Shared by the Hypothesis tests and the atheris harnesses in bench/fuzz, so it imports no
Hypothesis. Every seed is made here by our own writers (or copied from the CCTV age vectors),
so the fuzzers start from inputs that reach the deepest code, not from noise.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import nacl.bindings

from crypto.age import seal_bytes
from crypto.header import Identity, Recipient
from crypto.keyfile import identity_file_text
from crypto.minisign import ScryptCost, SigningKey, VerifyKey, sign
from crypto.scrypt import ScryptIdentity, ScryptRecipient
from crypto.x25519 import X25519Identity
from protocol.bundle import ItemSource, write_bundle
from protocol.entries import Answers, ConsentChange, FileEntry
from protocol.fields import FOLLOW_UP_FIELDS, GROUP_FIELDS
from protocol.ids import new_blob_name, new_submission_id
from protocol.schema import Submission

VECTORS = Path(__file__).resolve().parent.parent / "crypto" / "vectors"
PASSPHRASE = b"correct horse battery staple"
# Seeds are sealed with a tiny scrypt work factor, and the identities refuse anything above
# what the CCTV vectors use (10): a mutated header must not buy a 1 GiB scrypt run per example.
SEED_LOG_N = 4
MAX_LOG_N = 10
SIGNED_MESSAGE = b"the bytes the fuzzed signatures claim to sign\n"
DAY = date(2025, 6, 1)
# A few vectors hold megabytes of payload: as seeds they would only make every example slow.
MAX_SEED = 256 * 1024


@dataclass(frozen=True)
class Keys:
    """The long-lived keys every seed is made with."""

    identity: X25519Identity
    other: X25519Identity
    signing: SigningKey

    @classmethod
    def fixed(cls) -> Keys:
        """Keys derived from constant labels: pytest, its sandboxes and atheris all agree."""

        def secret(label: bytes) -> bytes:
            return hashlib.sha256(b"intake fuzz seed key: " + label).digest()

        _public, signing = nacl.bindings.crypto_sign_seed_keypair(secret(b"minisign"))
        return cls(
            X25519Identity.from_secret_bytes(secret(b"x25519 one")),
            X25519Identity.from_secret_bytes(secret(b"x25519 two")),
            SigningKey(key_id=secret(b"minisign key id")[:8], secret_key=signing),
        )

    @property
    def verify_key(self) -> VerifyKey:
        return self.signing.verify_key()


def _sealed(plaintext: bytes, recipients: Sequence[Recipient], *, armor: bool) -> bytes:
    return seal_bytes(plaintext, recipients, armor=armor)


@dataclass(frozen=True)
class _Vector:
    fields: dict[str, list[str]]
    body: bytes


def _vectors() -> list[_Vector]:
    found = []
    for path in sorted(VECTORS.iterdir()):
        raw = path.read_bytes()
        if not raw.startswith(b"expect: ") or path.name.startswith(("hybrid", "armor_hybrid")):
            continue
        head, body = raw.split(b"\n\n", 1)
        fields: dict[str, list[str]] = {}
        for line in head.decode("utf-8").splitlines():
            key, value = line.split(": ", 1)
            fields.setdefault(key, []).append(value)
        if fields.get("compressed") == ["zlib"]:
            body = zlib.decompress(body)
        if len(body) <= MAX_SEED:
            found.append(_Vector(fields, body))
    return found


def age_seeds(keys: Keys) -> list[bytes]:
    """Our own files (X25519, two recipients, scrypt; binary and armored) and the CCTV vectors."""
    seeds = []
    for size in (0, 1, 100, 64 * 1024, 64 * 1024 + 1):
        plaintext = bytes(range(256)) * (size // 256) + bytes(size % 256)
        seeds.append(_sealed(plaintext, [keys.identity.recipient()], armor=False))
    for armor in (False, True):
        two = [keys.identity.recipient(), keys.other.recipient()]
        seeds.append(_sealed(b"to two recipients\n", two, armor=armor))
        scrypt = [ScryptRecipient(PASSPHRASE, SEED_LOG_N)]
        seeds.append(_sealed(b"sealed to a passphrase\n", scrypt, armor=armor))
        seeds.append(_sealed(b"x" * 200, [keys.identity.recipient()], armor=armor))
    return seeds + [vector.body for vector in _vectors()]


def identities(keys: Keys) -> list[Identity]:
    """Our identities, every X25519 identity and passphrase the CCTV vectors use."""
    found: list[Identity] = [keys.identity, keys.other]
    passphrases = {PASSPHRASE}
    for vector in _vectors():
        for text in vector.fields.get("identity", []):
            if text.startswith("AGE-SECRET-KEY-1"):
                found.append(X25519Identity.parse(text))
        passphrases.update(p.encode() for p in vector.fields.get("passphrase", []))
    found += [ScryptIdentity(p, MAX_LOG_N) for p in sorted(passphrases)]
    return found


def armor_seeds(keys: Keys) -> list[bytes]:
    """Armored age files (ours and the CCTV armor vectors), plus CRLF and padded variants."""
    ours = [s for s in age_seeds(keys) if s.startswith(b"-----BEGIN")]
    ours += [ours[0].replace(b"\n", b"\r\n"), b"  \n" + ours[0] + b"\n  \n"]
    return ours + [v.body for v in _vectors() if v.fields.get("armored") == ["yes"]]


def key_text_seeds(keys: Keys) -> list[bytes]:
    """Identity files, recipients files and lone keys, as age-keygen and age write them."""
    when = datetime(2025, 6, 1, tzinfo=UTC)
    recipients = f"# team\n{keys.identity.recipient()}\n\n{keys.other.recipient()}\n"
    return [
        identity_file_text(keys.identity, created=when).encode(),
        (identity_file_text(keys.identity) + str(keys.other) + "\n").encode(),
        recipients.encode(),
        str(keys.identity.recipient()).encode(),
        str(keys.identity).encode(),
        b"age1pq1" + str(keys.identity.recipient())[4:].encode(),
        b"age1yubikey1" + str(keys.identity.recipient())[4:].encode(),
        b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN",
    ]


def minisign_seeds(keys: Keys) -> list[bytes]:
    """A public key file and its bare line, signatures, and secret key files (plain, sealed)."""
    cheap = ScryptCost(opslimit=32768, memlimit=16 * 1024 * 1024)
    vk = keys.verify_key
    return [
        vk.to_file_text().encode(),
        vk.to_base64().encode(),
        sign(SIGNED_MESSAGE, keys.signing, trusted_comment="intake bundle ack v1").encode(),
        sign(SIGNED_MESSAGE, keys.signing, trusted_comment="ünïcödé ✓").encode(),
        keys.signing.to_file_text(None).encode(),
        keys.signing.to_file_text(b"pass", cost=cheap).encode(),
    ]


def bundle_seeds(keys: Keys, workdir: Path) -> list[bytes]:
    """Export bundles (empty, one item, several) and a signed ack bundle, as bytes."""
    blob = f"blobs/{new_blob_name()}"
    specs = [
        ("export", [], None),
        ("export", [ItemSource.from_bytes("a", b"hello")], None),
        (
            "export",
            [ItemSource.from_bytes(blob, bytes(700)), ItemSource.from_bytes("e", b"")],
            None,
        ),
        ("ack", [ItemSource.from_bytes("acks/list.json", b'{"ok":[]}\n')], keys.signing),
    ]
    seeds = []
    for number, (kind, items, signing) in enumerate(specs):
        path = workdir / f"seed-{number}.bundle"
        path.unlink(missing_ok=True)
        write_bundle(path, kind, items, meta={"n": number}, signing_key=signing, created=DAY)  # type: ignore[arg-type]
        seeds.append(path.read_bytes())
        path.unlink()
    return seeds


def _submission(keys: Keys, kind: str, **parts: object) -> Submission:
    return Submission(
        kind=kind,  # type: ignore[arg-type]
        submission_id=new_submission_id(),
        form_version="2025.1",
        ui_language="uk",
        received_at=datetime(2025, 6, 1, 12, 34, 56, tzinfo=UTC),
        witness_reply_recipient=str(keys.identity.recipient()),
        **parts,  # type: ignore[arg-type]
    )


def submissions(keys: Keys) -> list[Submission]:
    """One submission of each kind, with files, answers of every value type, and a change."""
    group = Answers.parse({"C2": "drone video", "C3": "me", "C10": "yes"}, GROUP_FIELDS)
    entry = FileEntry(new_blob_name(), "a" * 64, "b" * 64, 5, "video/mp4", "VID 1.mp4", 1, group)
    answers = {"A3": True, "A4": ["investigators"], "B1": "Я бачив.", "B4_date": "2024-11"}
    answers |= {"B5_from": "13:05", "B6_lat": 47.5, "B7_min": 2, "B8_callsigns": ["Arta"]}
    testimony = _submission(
        keys, "testimony", parent_id=None, answers=Answers.parse(answers), files=(entry,)
    )
    follow_up = _submission(
        keys,
        "follow_up",
        parent_id=testimony.submission_id,
        answers=Answers.parse({"B1": "more"}, FOLLOW_UP_FIELDS),
    )
    change = _submission(
        keys,
        "consent_change",
        parent_id=None,
        answers=Answers.parse({}),
        consent_change=ConsentChange("narrow", ("investigators", "icc-otp")),
    )
    return [testimony, follow_up, change]


CODENAMES = (
    "correct horse battery staple enamel gravy orbit",
    "Correct-Horse  Battery\u2013staple ENAMEL\tgravy orbit ",
    "ＣＯＲＲＥＣＴ　horse",
    "ǅemal İstanbul ﬁsh ß",
)
