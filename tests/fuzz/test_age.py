"""Structured fuzzing of age files: grammar-built headers, grease stanzas, stream shapes."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from crypto.age import open_bytes, open_stream, seal_bytes
from crypto.errors import CryptoError
from crypto.header import Header, Identity, Stanza, mac_input
from crypto.scrypt import ScryptIdentity
from tests.fuzz import fixups, seeds, targets
from tests.fuzz.sandbox import Sandbox
from tests.fuzz.strategies import FUZZ, LARGE_REPR, mutants, watchdog

pytestmark = LARGE_REPR

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_ARG = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)
_LINES = st.one_of(
    st.just("age-encryption.org/v1"),
    st.builds(lambda t, a: " ".join(["->", t, *a]), _ARG, st.lists(_ARG, max_size=3)),
    st.sampled_from(["-> X25519", "-> scrypt", "->", "-> ", "---", "--- ", "-> X25519  x"]),
    st.text(st.sampled_from(_B64), max_size=70),
    st.builds(lambda m: "--- " + m, st.text(st.sampled_from(_B64), min_size=40, max_size=46)),
    st.text(max_size=20),
)


@FUZZ
@given(
    lines=st.lists(_LINES, max_size=10),
    end=st.sampled_from(["\n", "\r\n", ""]),
    tail=st.binary(max_size=40),
)
def test_headers_built_from_the_grammar(
    lines: list[str], end: str, tail: bytes, fuzz_targets: dict[str, targets.Target]
) -> None:
    data = "\n".join(["age-encryption.org/v1", *lines]).encode("utf-8", "surrogatepass")
    with watchdog():
        fuzz_targets["header"].run(data + end.encode() + tail)


_GREASE_TYPE = _ARG.filter(lambda t: t not in ("X25519", "scrypt"))
_GREASE = st.builds(
    Stanza.from_parts, _GREASE_TYPE, st.lists(_ARG, max_size=3), st.binary(max_size=100)
)


@FUZZ
@given(
    plaintext=st.binary(max_size=300),
    grease=st.lists(st.tuples(st.integers(0, 3), _GREASE), min_size=1, max_size=4),
)
def test_unknown_stanzas_are_ignored(
    plaintext: bytes, grease: list[tuple[int, Stanza]], fuzz_keys: seeds.Keys
) -> None:
    # age readers must skip stanzas of types they do not know ("grease"), wherever they are.
    sealed = seal_bytes(plaintext, [fuzz_keys.identity.recipient()])
    header, _ = Header.parse(io.BytesIO(sealed))
    stanzas = list(header.stanzas)
    for where, stanza in grease:
        stanzas.insert(where % (len(stanzas) + 1), stanza)
    rebuilt = mac_input(stanzas) + b" " + b"A" * 43 + b"\n" + sealed[header.size :]
    fixed = fixups.remac(rebuilt, [fuzz_keys.identity])
    assert fixed is not None
    with watchdog():
        assert open_bytes(fixed, [fuzz_keys.identity]) == plaintext


class _Trickle(io.RawIOBase):
    """A pipe-like raw stream: every read returns at most `step` bytes."""

    def __init__(self, data: bytes, step: int) -> None:
        self._inner = io.BytesIO(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, view: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(min(len(view), self._step))
        view[: len(data)] = data
        return len(data)


def _outcome(
    stream: io.RawIOBase | io.BufferedIOBase, identities: list[Identity]
) -> tuple[str, bytes]:
    try:
        chunks = open_stream(stream, identities, armored=False)  # type: ignore[arg-type]
        return "ok", b"".join(chunks)
    except CryptoError as exc:
        return exc.category, b""


@FUZZ
@given(data=st.data(), step=st.integers(1, 70_000))
def test_a_buffered_pipe_reads_like_a_file(
    data: st.DataObject, step: int, fuzz_targets: dict[str, targets.Target], fuzz_keys: seeds.Keys
) -> None:
    binary = [s for s in fuzz_targets["age"].seeds if s.startswith(b"age-")]
    sample = data.draw(mutants(binary, fuzz_targets["age"].tokens), label="input")
    identities: list[Identity] = [
        fuzz_keys.identity,
        ScryptIdentity(seeds.PASSPHRASE, seeds.MAX_LOG_N),
    ]
    with watchdog():
        piped = _outcome(io.BufferedReader(_Trickle(sample, step), 4096), identities)
        assert piped == _outcome(io.BytesIO(sample), identities)


@FUZZ
@given(data=st.data())
def test_armored_mutants_reach_the_payload(
    data: st.DataObject, fuzz_targets: dict[str, targets.Target], sandboxes: dict[str, Sandbox]
) -> None:
    # Mutate the binary file, then armor it: the armor is valid, what is inside is hostile.
    binary = [s for s in fuzz_targets["age"].seeds if s.startswith(b"age-")]
    sample = data.draw(mutants(binary, fuzz_targets["age"].tokens), label="inner")
    sandboxes["age"].run(fixups.armored(sample))
