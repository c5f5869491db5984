"""Interface language: English source strings, Ukrainian and Russian catalogues.

Tor Browser sends `Accept-Language: en-US` for everyone (so that the language does not
fingerprint its user), so the language is never negotiated: the witness picks it with a plain
`?lang=` link and the choice is kept in the session. Every URL the site builds carries it too
(`lang=` on links, redirects and form actions, unless it is English): logging out clears the
cookie (Clear-Site-Data) and an expired session loses it, and the page that follows must still
be in the witness's language, as must a 404 reached from one of our links.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_babel import Babel

LANGUAGES: dict[str, str] = {"en": "English", "uk": "Українська", "ru": "Русский"}
"""Locale code -> the language's own name, in the order the picker shows them."""

DEFAULT_LANGUAGE = "en"
SESSION_KEY = "lang"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def current_language() -> str:
    """The locale for this request: the session's choice, else English (also outside one)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = session.get(SESSION_KEY)
    return chosen if isinstance(chosen, str) and chosen in LANGUAGES else DEFAULT_LANGUAGE


def remember_language_choice() -> None:
    """Store a `?lang=` choice from the query string in the session (before each request)."""
    chosen = request.args.get("lang")
    # Only a change is written: every URL carries the language, and rewriting the same value
    # would re-send the session cookie on every response.
    if chosen in LANGUAGES and session.get(SESSION_KEY) != chosen:
        session[SESSION_KEY] = chosen


def carry_language(endpoint: str, values: dict[str, Any]) -> None:
    """`url_for` default: the page's language goes into every URL built for this site but the
    static files (whose URLs stay the same for every witness, so caches hold one copy)."""
    if endpoint.endswith("static") or not has_request_context():
        return
    language = current_language()
    if language != DEFAULT_LANGUAGE:
        values.setdefault("lang", language)


def init_i18n(app: Flask) -> None:
    """Install Flask-Babel on `app` with our catalogues and the session-based selector."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    Babel(app, locale_selector=current_language)
    app.before_request(remember_language_choice)
    app.url_defaults(carry_language)
