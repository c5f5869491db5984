"""Codename guessing: every wrong codename gets the same page, the key derivation runs exactly
once per attempt that reaches it (counted at the function, not timed), and no number of wrong
codenames from anyone locks a right one out (there is no global attempt budget).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from crypto.witness import WitnessKeys, derive
from tests.reliability.client import Multipart
from tests.reliability.inprocess import Site, action_of, post, site_at, submit

_TOKENS = re.compile(r"(csrf|once)=[^\"&]+")


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[Site, list[str]]]:
    """A site whose key derivation records each codename it is run on."""
    with site_at(tmp_path) as site:
        seen: list[str] = []

        def counting(codename: str, **kwargs: Any) -> WitnessKeys:
            seen.append(codename)
            return derive(codename, **kwargs)

        site.ctx.deriver.derive_fn = counting
        yield site, seen


def _login(client: FlaskClient, codename: str) -> TestResponse:
    action = action_of(client.get("/return"), "login-form")
    return post(client, action, Multipart([("codename", codename)]))


def _page(response: TestResponse) -> tuple[int, str]:
    return response.status_code, _TOKENS.sub("TOKEN", response.get_data(as_text=True))


def _codename_of(response: TestResponse) -> str:
    match = re.search(r'id="codename">([^<]+)<', response.get_data(as_text=True))
    assert match, response.status_code
    return match.group(1)


def test_wrong_codenames_all_get_the_same_page_after_exactly_one_derivation(
    counted: tuple[Site, list[str]],
) -> None:
    site, seen = counted
    client = site.client()
    codename = _codename_of(submit(client))
    assert len(seen) == 1  # the testimony derived its witness key once
    words = codename.split()
    wrong = [
        " ".join(reversed(words)),  # every word right, order wrong
        " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "yodel"]),  # one word off
        "abandon " * 7,
        "not even words 12345 !!",
        "ы" * 399,  # just under the form's length limit
        codename + " extra",
    ]
    pages = set()
    for i, guess in enumerate(wrong, start=1):
        pages.add(_page(_login(site.client(), guess)))
        assert len(seen) == 1 + i, guess
    assert len(pages) == 1
    ((status, body),) = pages
    assert status == 403
    assert "We do not know this codename" in body

    right = _login(site.client(), "  " + codename.upper().replace(" ", "  -  ") + " ")
    assert right.status_code == 200
    assert len(seen) == 2 + len(wrong)

    # Form errors are refused before any derivation (and cost no attempt).
    for blank_or_long in ["   ", "-- --", "word " * 100]:
        assert _login(site.client(), blank_or_long).status_code == 422
    assert len(seen) == 2 + len(wrong)


# Issue 15: about 1,000 wrong codenames an hour, from anyone, used to lock every returning
# witness out of their replies (one global hourly counter). Guessing is bounded per Tor circuit
# at the front now (deploy/haproxy.cfg), and derivations per worker by the KDF slots.
WRONG_GUESSES = 1001


def test_wrong_codenames_from_anyone_never_lock_out_a_right_one(
    counted: tuple[Site, list[str]],
) -> None:
    site, seen = counted
    codename = _codename_of(submit(site.client()))
    guesser = site.client()
    # The login form's CSRF token is reusable (one_time=False): one page, many guesses.
    action = action_of(guesser.get("/return"), "login-form")
    for _ in range(WRONG_GUESSES):
        refused = post(guesser, action, Multipart([("codename", "wrong " * 7)]))
        assert refused.status_code == 403
    assert len(seen) == 1 + WRONG_GUESSES  # every guess was really derived, none refused early
    assert _login(site.client(), codename).status_code == 200
