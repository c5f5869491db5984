"""Codename guessing: every wrong codename gets the same page, the key derivation runs exactly
once per attempt that reaches it (counted at the function, not timed), and the hourly attempt
budget holds, also against a burst of parallel guesses.
"""

from __future__ import annotations

import re
import threading
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
    with site_at(tmp_path, codename_attempts_per_hour=8) as site:
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
    match = re.search(r'id="codename">([a-z ]+)<', response.get_data(as_text=True))
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


def test_the_attempt_budget_holds_and_refuses_before_deriving(
    counted: tuple[Site, list[str]],
) -> None:
    site, seen = counted  # 8 attempts per hour
    codename = _codename_of(submit(site.client()))
    for _ in range(7):
        assert _login(site.client(), "wrong " * 7).status_code == 403
    assert _login(site.client(), codename).status_code == 200  # the 8th attempt
    derived = len(seen)
    refused = {_page(_login(site.client(), guess)) for guess in ("wrong " * 7, codename)}
    assert len(refused) == 1  # the right codename is refused exactly like a wrong one
    assert next(iter(refused))[0] == 429
    assert len(seen) == derived


def test_the_budget_holds_against_a_burst_of_parallel_guesses(tmp_path: Path) -> None:
    with site_at(tmp_path, codename_attempts_per_hour=10) as site:
        statuses: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(24)

        def guess() -> None:
            client = site.client()
            action = action_of(client.get("/return"), "login-form")
            start.wait()
            status = post(client, action, Multipart([("codename", "wrong " * 7)])).status_code
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=guess) for _ in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(statuses) == [403] * 10 + [429] * 14
        assert site.ctx.deriver.calls == 10
