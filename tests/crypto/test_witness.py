"""Witness keys from a codename: normalisation, separation of the two outputs, determinism."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.age import open_bytes, seal_bytes
from crypto.errors import KeyFormatError
from crypto.witness import DEFAULT_COST, KdfCost, derive, normalise_codename

CODENAME = "unlit dizzy backing gravel swimmer hedge zesty"
# A codename of the Ukrainian list and its lookup value at libsodium's minimum cost, pinned from
# the derivation before invisible characters were stripped: stripping them must change no key.
CYRILLIC = "іпотека цирконій синтез зодіак ломбард норматив постер курятина"
CYRILLIC_LOOKUP = "90f99e6978fdbdf284a82f35f5c4dbcc71cb5e4a847ed02010f5a1c48a3efea8"
# Characters that print as nothing, which a copy from a document or a chat may carry: zero-width
# space, non-joiner and joiner, word joiner, soft hyphen, byte order mark, and the bidi marks,
# embeddings, overrides and isolates.
INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u200e", "\u200f",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
]  # fmt: skip


@pytest.mark.parametrize(
    "typed",
    [
        CODENAME,
        "Unlit Dizzy Backing Gravel Swimmer Hedge Zesty",
        "  unlit   dizzy\tbacking\ngravel swimmer hedge zesty  ",
        "unlit-dizzy-backing-gravel-swimmer-hedge-zesty",
        "UNLIT - dizzy -- backing gravel\u2013swimmer\u00a0hedge zesty",
        "ｕｎｌｉｔ dizzy backing gravel swimmer hedge zesty",  # fullwidth letters (NFKC)
    ],
)
def test_equivalent_spellings_normalise_alike(typed: str) -> None:
    assert normalise_codename(typed) == CODENAME


@pytest.mark.parametrize("mark", INVISIBLE)
def test_invisible_characters_are_dropped(mark: str) -> None:
    pasted = f"{mark}unlit dizzy{mark} back{mark}ing gravel {mark}swimmer hedge zesty{mark}"
    assert normalise_codename(pasted) == CODENAME
    assert normalise_codename(CYRILLIC.replace("і", f"і{mark}")) == CYRILLIC


def test_a_pasted_codename_with_invisible_characters_derives_the_issued_key(
    fast_kdf: KdfCost,
) -> None:
    lookup = derive(CYRILLIC, cost=fast_kdf).lookup
    assert lookup.hex() == CYRILLIC_LOOKUP  # unchanged by the stripping
    pasted = "\ufeff" + CYRILLIC.replace(" ", "\u200b \u200e").replace("о", "о\u00ad")
    assert derive(pasted, cost=fast_kdf).lookup == lookup


def test_equivalent_spellings_derive_the_same_keys(fast_kdf: KdfCost) -> None:
    one = derive(CODENAME, cost=fast_kdf)
    two = derive("  UNLIT-dizzy backing  Gravel swimmer-hedge zesty ", cost=fast_kdf)
    assert one.lookup == two.lookup
    assert str(one.identity) == str(two.identity)


def test_lookup_and_identity_are_separate_and_deterministic(fast_kdf: KdfCost) -> None:
    keys = derive(CODENAME, cost=fast_kdf)
    assert len(keys.lookup) == 32
    assert keys.lookup != keys.identity.secret
    assert str(keys.identity.recipient()).startswith("age1")
    again = derive(CODENAME, cost=fast_kdf)
    assert (again.lookup, str(again.identity)) == (keys.lookup, str(keys.identity))
    assert "AGE-SECRET-KEY" not in repr(keys)
    assert keys.lookup.hex() not in repr(keys)


def test_different_codenames_and_costs_differ(fast_kdf: KdfCost) -> None:
    one = derive(CODENAME, cost=fast_kdf)
    other = derive(CODENAME.replace("zesty", "zebra"), cost=fast_kdf)
    assert one.lookup != other.lookup
    assert str(one.identity) != str(other.identity)
    heavier = derive(CODENAME, cost=KdfCost(opslimit=2, memlimit=fast_kdf.memlimit))
    assert heavier.lookup != one.lookup


def test_reply_sealed_to_the_witness_opens_with_the_rederived_identity(fast_kdf: KdfCost) -> None:
    recipient = derive(CODENAME, cost=fast_kdf).identity.recipient()
    sealed = seal_bytes(b"thank you, we received your files", [recipient])
    later = derive(CODENAME.upper(), cost=fast_kdf).identity
    assert open_bytes(sealed, [later]) == b"thank you, we received your files"


@pytest.mark.parametrize("empty", ["", "   ", "- -- \u2014", "\t\n"])
def test_empty_codename_is_refused(empty: str, fast_kdf: KdfCost) -> None:
    with pytest.raises(KeyFormatError, match="empty"):
        derive(empty, cost=fast_kdf)


def test_cost_outside_libsodium_limits_is_refused() -> None:
    with pytest.raises(ValueError, match="limits"):
        KdfCost(opslimit=0, memlimit=64 * 1024 * 1024)
    with pytest.raises(ValueError, match="limits"):
        KdfCost(opslimit=3, memlimit=1024)


def test_default_cost_is_the_documented_one() -> None:
    assert KdfCost(opslimit=3, memlimit=64 * 1024 * 1024) == DEFAULT_COST


@pytest.mark.slow
def test_default_cost_derivation_takes_real_work() -> None:
    started = time.perf_counter()
    keys = derive(CODENAME)
    assert time.perf_counter() - started > 0.02
    assert len(keys.lookup) == 32


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_codename(text)
    assert normalise_codename(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert "-" not in once


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(st.from_regex(r"[a-z]{3,9}", fullmatch=True), min_size=1, max_size=7),
    seps=st.lists(st.sampled_from([" ", "  ", "-", " - ", "\t", "\u2010", "--"]), min_size=7),
    upper=st.lists(st.booleans(), min_size=7, max_size=7),
)
def test_case_spacing_and_hyphens_do_not_matter(
    words: list[str], seps: list[str], upper: list[bool]
) -> None:
    typed = "".join(
        (w.upper() if up else w) + sep for w, sep, up in zip(words, seps, upper, strict=False)
    )
    assert normalise_codename(f"  {typed} ") == " ".join(words)
