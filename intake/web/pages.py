"""Rendering helpers shared by the views: the common page context, sizes, action URLs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, make_response, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from intake.web.fields import answered
from intake.web.forms import summary_label
from intake.web.i18n import LANGUAGES, current_language
from intake.web.static import integrity

__all__ = [
    "LEAVE_URL",
    "REDRAW_ARG",
    "action_url",
    "filesize",
    "init_pages",
    "is_redraw",
    "language_url",
    "page",
    "relang",
]

LEAVE_URL = "https://www.wikipedia.org/"
"""Where "Leave this site" goes: an ordinary, neutral site (form rule F2)."""

CSRF_ARG = "csrf"
ONCE_ARG = "once"
REDRAW_ARG = "redraw"
"""On a form's action URL: show the posted answers again (in the URL's language), send nothing."""


def filesize(size: int) -> str:
    """A size for people, in the page's language (powers of 1000, as file managers show)."""
    if size < 1000:
        return str(ngettext("%(num)d byte", "%(num)d bytes", size))
    units = (_("%(size)s KB"), _("%(size)s MB"), _("%(size)s GB"), _("%(size)s TB"))
    value = float(size)
    for unit in units:
        value /= 1000
        if value < 1000 or unit is units[-1]:
            return str(unit) % {"size": format_decimal(round(value, 1), format="#,##0.#")}
    raise AssertionError("unreachable")  # pragma: no cover


def action_url(endpoint: str, **params: str | None) -> str:
    """The URL a form posts to, carrying the CSRF token (and any one-time or draft token).

    The tokens travel in the URL, not the body, so the server checks them before it reads a
    single byte of a body that may be gigabytes long.
    """
    query: dict[str, Any] = {key: value for key, value in params.items() if value}
    query[CSRF_ARG] = generate_csrf()
    return url_for(endpoint, **query)


def language_url(code: str) -> str:
    """The link that shows this page in language `code`, built from the matched route.

    Never from the raw path: a 404 for `/%5Cattacker.onion/` has the path `/\\attacker.onion/`,
    which a browser follows to another host. A request that matched no route, or a route a
    link cannot GET (a POST-only action), gets the landing page in that language.
    """
    rule, endpoint = request.url_rule, request.endpoint
    if rule is None or endpoint is None or endpoint.endswith(".static"):
        return url_for("web.landing", lang=code)
    path = url_for(endpoint, **(request.view_args or {}))
    if not rule.map.bind("localhost").test(path, method="GET"):
        return url_for("web.landing", lang=code)
    return url_for(endpoint, **(request.view_args or {}), lang=code)


def is_redraw() -> bool:
    """Whether this POST is a language button's redraw: to be shown again, acted on not at all.

    The key alone decides, whatever its value and however often it comes (`?redraw=`,
    `?redraw=0&redraw=1`, `?%72edraw`), so a request is never half a redraw. The front counts
    no redraw of /return or /account/consent against a circuit's codename budget
    (deploy/haproxy.cfg, acl `redraw`): everything it takes for one must be one here, and a
    view that logged in, confirmed, issued or sent on a `redraw` key would give guesses away
    (tests/deploy/test_haproxy_redraw.py checks the two definitions against each other).
    """
    return REDRAW_ARG in request.args


def _redraw_urls(endpoint: str, once: str | None = None) -> Callable[[str], str]:
    """For a form page's language buttons: the form's own action URL, in language `code`,
    marked to show what was typed again instead of sending it (base.html)."""

    def url(code: str) -> str:
        return action_url(endpoint, **{ONCE_ARG: once, "lang": code, REDRAW_ARG: "1"})

    return url


def relang(
    form_id: str, endpoint: str, once: str | None = None, *, files: bool = False
) -> dict[str, Any]:
    """Page context that turns the language links into buttons of form `form_id` (base.html).

    They post what was typed back to `endpoint` with `?redraw=1`, and the view shows it again
    in the new language without acting on it. A form with `files` keeps its answers but not
    the files chosen, and Enter in its text boxes does nothing (only Send sends); on a short
    form, Enter sends it, as it did before its language links became buttons.
    """
    return {
        "relang_form": form_id,
        "relang_url": _redraw_urls(endpoint, once),
        "relang_files": files,
    }


def page(template: str, status: int = 200, *, one_time: bool = False, **context: Any) -> Response:
    """Render `template` as a response; `one_time` pages open language links in a new tab."""
    body = render_template(template, one_time_page=one_time, **context)
    return make_response(body, status)


def _common() -> dict[str, Any]:
    return {
        "lang": current_language(),
        "languages": LANGUAGES,
        "leave_url": LEAVE_URL,
        "language_url": language_url,
        "one_time_page": False,
        "relang_form": None,
        "relang_files": False,
        "static_integrity": integrity,
    }


def init_pages(app: Flask) -> None:
    """Template globals for every page, the error page included."""
    app.context_processor(_common)
    app.add_template_filter(filesize, "filesize")
    app.add_template_filter(summary_label, "summary_label")
    app.add_template_test(answered, "answered")
