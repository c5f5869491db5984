"""SECURITY.md: the threat model covers what issue 6 asks, and its numbers match the code."""

from __future__ import annotations

import math
import re
import runpy

import pytest

from intake.config import Limits
from tests.deploy.conftest import REPO

TEXT = (REPO / "SECURITY.md").read_text(encoding="utf-8")
MIB = 1024 * 1024


def section(title: str) -> str:
    """The text under a `## ` or `### ` heading, up to the next heading of any level."""
    match = re.search(rf"^#{{2,3}} {re.escape(title)}\n(.*?)(?=^#{{2,3}} |\Z)", TEXT, re.S | re.M)
    assert match, f"SECURITY.md has no section {title!r}"
    return match.group(1)


@pytest.mark.parametrize(
    "title",
    [
        "Assets",
        "A seized server (powered off, or its disks copied)",
        "A live compromise of the server (root, or code execution as the service)",
        "A network observer",
        "A malicious submitter",
        "A lost or seized investigator laptop",
        "An insider",
        "Key derivation parameters and why",
        "What is logged",
        "The sealed-file format and interoperability",
        "Reporting a vulnerability",
    ],
)
def test_every_required_section_is_there(title: str) -> None:
    assert len(section(title).split()) > 40


def test_seizure_names_what_the_disk_and_the_databases_keep() -> None:
    seized = section("A seized server (powered off, or its disks copied)")
    for needle in ("ctime", "WAL", "secure_delete", "dead tuples", "SSD", "order of rows", "day"):
        assert needle in seized, needle


def test_live_compromise_is_stated_plainly() -> None:
    assert "new testimony in memory as it arrives" in section(
        "A live compromise of the server (root, or code execution as the service)"
    )


def test_revocation_is_honest_about_old_copies() -> None:
    laptop = section("A lost or seized investigator laptop")
    assert "taken before the re-wrap still opens" in laptop


def test_kdf_parameters_match_the_code() -> None:
    witness = pytest.importorskip("crypto.witness")
    scrypt = pytest.importorskip("crypto.scrypt")
    kdf = section("Key derivation parameters and why")
    cost = witness.DEFAULT_COST
    assert f"opslimit {cost.opslimit}, memlimit {cost.memlimit // MIB} MiB" in kdf
    for label in (witness.SALT_LABEL, witness.LOOKUP_LABEL, witness.REPLY_IDENTITY_LABEL):
        assert f"`{label.decode()}`" in kdf
    assert f"log N {scrypt.DEFAULT_LOG_N}" in kdf


def test_codename_entropy_matches_the_word_lists() -> None:
    codename = pytest.importorskip("intake.web.services.codename")
    factory = codename.CodenameFactory.load()
    kdf = " ".join(section("Key derivation parameters and why").split())
    guessing = " ".join(section("A malicious submitter").split())
    for language, words in factory.lists.items():
        count = factory.word_count(language)
        bits = count * math.log2(len(words))
        assert bits >= 90
        assert f"{count} words drawn with `secrets` from the {len(words)} words" in kdf
        assert f"{round(bits)} bits in" in kdf
        assert f"{count} words from a list of {len(words)} are {round(bits)} bits" in guessing


def test_sessions_are_described_with_the_codes_lifetimes() -> None:
    sessions = pytest.importorskip("intake.witness_sessions")
    text = " ".join(section("Witness sessions").split())
    idle = int(sessions.IDLE_LIFETIME.total_seconds() // 60)
    absolute = int(sessions.ABSOLUTE_LIFETIME.total_seconds() // 3600)
    confirmation = int(sessions.CONFIRMATION_LIFETIME.total_seconds() // 60)
    assert f"**{idle} minutes** without a request and **{absolute} hours** after the" in text
    assert f"For {confirmation} minutes after" in text
    assert "a hash of a token is not a session" in text


def test_seizure_rotates_the_secret_key_and_live_compromise_names_sessions() -> None:
    seized = section("A seized server (powered off, or its disks copied)")
    assert "rotate `secret_key`" in seized
    assert "None of it is a session" in seized
    live = section("A live compromise of the server (root, or code execution as the service)")
    assert "can act as any witness who logs in" in live


def test_derivation_memory_per_host_matches_the_shipped_settings() -> None:
    gunicorn = runpy.run_path(str(REPO / "deploy" / "gunicorn.conf.py"))
    per_host = gunicorn["workers"] * Limits().kdf_concurrency * 64
    front = " ".join(section("The front and Tor circuits").split())
    assert f"**{per_host} MiB per host**" in front
    assert "hosts x workers x slots x 64 MiB" in front


def test_several_servers_keep_one_tor_front_with_proof_of_work() -> None:
    several = section("Several servers")
    assert "One tor process holds the onion key and runs proof-of-work" in several
    assert "We do not recommend Onionbalance" in several
    for needle in ("warm standby", "plaintext testimony", "`secret_key`", "same keyring file"):
        assert needle in several, needle
