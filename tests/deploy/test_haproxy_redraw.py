"""Language redraws and the per-circuit codename budget (issue 18 item 3, found by review).

The language buttons of /return and /account/consent post the form back with `?redraw=1`; the
app shows it again and acts on nothing. The front matched the path alone, so six switches
spent a circuit's six codename attempts a minute and the real login got "Too many attempts".
Now the front skips what it reads as a redraw (deploy/haproxy.cfg, acl `redraw_query`), and
the one thing that must never happen is a request it skips that the app acts on: these tests
hold the front's pattern against the app's own reading (gunicorn's split, werkzeug's parse,
intake.web.pages.is_redraw), then against a real HAProxy in front of a real gunicorn.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from gunicorn.util import split_request_uri
from hypothesis import example, given
from hypothesis import strategies as st

from intake.web.pages import is_redraw
from tests.deploy.haproxy import Front, front, request, sections, shipped
from tests.e2e.conftest import LiveSite, serve

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

_FORM = "application/x-www-form-urlencoded"


def front_pattern() -> re.Pattern[str]:
    """The shipped `acl redraw_query query -m reg ...` pattern. HAProxy runs it with PCRE2;
    it uses nothing (classes, groups, anchors) that Python's `re` reads otherwise."""
    for line in sections(shipped())["frontend witness"]:
        if line.startswith("acl redraw_query query -m reg "):
            return re.compile(line.split(" ", 5)[5])
    raise AssertionError("the shipped haproxy.cfg has no acl redraw_query")


def app_redraws(query: str) -> bool:
    """Whether the app takes `POST /return?<query>` for a redraw, read as gunicorn splits the
    request target (its query stops at a "#") and werkzeug parses the query."""
    split = split_request_uri(f"/return?{query}")
    context = Flask(__name__).test_request_context(
        split.path, method="POST", query_string=split.query or ""
    )
    with context:
        return is_redraw()


# Pieces a client may put in a query, the awkward ones included: separators gunicorn or
# werkzeug treat specially (#, ;, +, %, ?), encodings of the key and of "&" and "=".
_PIECES = ["redraw", "r", "edraw", "&", "=", "1", "x", "%72", "%3D", "%26", "%", ";", "#", "+"]
_PIECES += ["?", "-", ".", "_", "~", "REDRAW", "%20", " ", "\t", "\n"]


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
@example("redraw=&redraw=1")
@example("x=1#&redraw=1")
@example("x=1;redraw=1")
@example("%26redraw=1")
@example("redraw=1\n")
def test_whatever_the_front_skips_the_app_redraws(query: str) -> None:
    if front_pattern().search(query):
        assert app_redraws(query), query


@pytest.mark.parametrize(
    "query",
    ["csrf=Ab-_.9&lang=uk&redraw=1", "redraw", "redraw=&redraw=1", "x=1&redraw", "redraw=0"],
)
def test_the_front_skips_the_buttons_url_and_every_plain_spelling_of_the_key(query: str) -> None:
    assert front_pattern().search(query)
    assert app_redraws(query)


@pytest.mark.parametrize(
    "query", ["%72edraw=1", "redraw%3D1", "x=1;redraw=1", "x=1#&redraw=1", "redraw+=1", "redrawn=1"]
)
def test_the_front_counts_every_other_spelling(query: str) -> None:
    """Counted whatever the app makes of it (it redraws on "%72edraw", logs in on the rest)."""
    assert not front_pattern().search(query)
    assert app_redraws(query) == query.startswith("%72edraw")


# --- against a real HAProxy in front of a real gunicorn ----------------------------------------


@pytest.fixture
def fronted(tmp_path: Path) -> Iterator[tuple[LiveSite, Front]]:
    with serve(tmp_path) as site, front(tmp_path, site.port) as haproxy:
        yield site, haproxy


def _send(
    port: int, circuit: int, method: str, path: str, cookie: str = "", *, body: bytes | None = None
) -> tuple[int, str, str]:
    """One request on `circuit`: its status, page and the session cookie (kept if none set)."""
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = _FORM
    response, page = request(port, circuit, method, path, body=body, headers=headers)
    cookie = (response.getheader("Set-Cookie") or cookie).split(";", 1)[0]
    return response.status, page.decode(), cookie


def _attr(page: str, pattern: str) -> str:
    match = re.search(pattern, page)
    assert match, pattern
    return html.unescape(match.group(1))


def _issued_codename(port: int, circuit: int) -> str:
    """A new witness's codename, issued through the front (one /start attempt on `circuit`)."""
    _status, start, cookie = _send(port, circuit, "GET", "/start")
    action = _attr(start, r'<form id="start-form"[^>]*action="([^"]+)"')
    status, _page, cookie = _send(port, circuit, "POST", action, cookie, body=b"")
    assert status == 303
    status, page, _cookie = _send(port, circuit, "GET", "/start/codename", cookie)
    assert status == 200
    return _attr(page, r'id="codename">([^<]+)<')


def _logged_in(page: str) -> bool:
    return 'id="submissions-title"' in page


def test_ten_language_switches_then_the_codename_still_logs_in(
    fronted: tuple[LiveSite, Front],
) -> None:
    """The reviewer's case: six switches then the real login got the 429 page."""
    port = fronted[1].port
    codename = _issued_codename(port, 30)
    body = urlencode({"codename": codename}).encode()
    _status, page, cookie = _send(port, 31, "GET", "/return")
    for switch in range(10):  # unsure of the language, back and forth
        code = "uk" if switch % 2 == 0 else "ru"
        button = _attr(page, rf'id="lang-{code}"[^>]*formaction="([^"]+)"')
        status, page, cookie = _send(port, 31, "POST", button, cookie, body=body)
        assert status == 200, (switch, status)
        assert not _logged_in(page)
        assert f'<html lang="{code}">' in page
    action = _attr(page, r'<form id="login-form"[^>]*action="([^"]+)"')
    status, page, _cookie = _send(port, 31, "POST", action, cookie, body=body)
    assert status == 200
    assert _logged_in(page)


def _attempts(port: int, circuit: int, query: str, body: bytes) -> tuple[list[int], list[bool]]:
    """Seven POSTs of `body` to the login form's action, `query` appended, on `circuit`:
    their statuses, and which logged in."""
    _status, page, cookie = _send(port, circuit, "GET", "/return")
    action = _attr(page, r'<form id="login-form"[^>]*action="([^"]+)"')
    statuses, logins = [], []
    for _ in range(7):
        status, page, cookie = _send(port, circuit, "POST", f"{action}&{query}", cookie, body=body)
        statuses.append(status)
        logins.append(_logged_in(page))
    return statuses, logins


# The query after the form's own action (its CSRF token and language), on /return.
_SKIPPED = ["redraw=&redraw=1", "redraw", "redraw=0", "x=1&redraw", "redraw=1&redraw=0"]
_COUNTED = ["%72edraw=1", "redraw%3D1", "x=1;redraw=1", "re%64raw=1", "redraw+=1"]


def test_a_post_the_front_skips_never_logs_in_and_others_are_counted(
    fronted: tuple[LiveSite, Front],
) -> None:
    port = fronted[1].port
    body = urlencode({"codename": _issued_codename(port, 40)}).encode()
    for circuit, query in enumerate(_SKIPPED, start=41):
        statuses, logins = _attempts(port, circuit, query, body)
        assert statuses == [200] * 7, query  # never counted: no 429 after six
        assert not any(logins), query
    for circuit, query in enumerate(_COUNTED, start=51):
        statuses, _logins = _attempts(port, circuit, query, body)
        assert 429 not in statuses[:6], query
        assert statuses[6] == 429, query  # counted, whatever the app did with them
    # The right codename, sent plainly after all that, still logs in on a fresh circuit.
    assert any(_attempts(port, 60, "x=1", body)[1])


def test_a_fragment_in_the_target_is_refused(fronted: tuple[LiveSite, Front]) -> None:
    """gunicorn ends the query at "#" while HAProxy's `query` would run on past it. Debian's
    HAProxy 2.6.12 refuses such a target (400) before any rule; were one to pass, the
    pattern would not skip it either ("#" is not among its bytes, tested above)."""
    port = fronted[1].port
    body = urlencode({"codename": _issued_codename(port, 70)}).encode()
    statuses, logins = _attempts(port, 71, "x=1#&redraw=1", body)
    assert statuses == [400] * 7
    assert not any(logins)


def test_start_with_a_redraw_key_is_still_an_attempt(fronted: tuple[LiveSite, Front]) -> None:
    """/start has no button that posts it back: the key does not take it out of the budget
    (and the app derives nothing for it either: tests/intake/web/test_redraw_key.py)."""
    port = fronted[1].port
    _status, start, cookie = _send(port, 80, "GET", "/start")
    action = _attr(start, r'<form id="start-form"[^>]*action="([^"]+)"')
    statuses = [
        _send(port, 80, "POST", f"{action}&redraw=1", cookie, body=b"")[0] for _ in range(7)
    ]
    assert statuses == [200] * 6 + [429]
