"""The witness site's static files, served with no trace of when they were installed."""

from __future__ import annotations

import base64
import functools
import hashlib
from pathlib import Path

from flask import Blueprint, Response, send_from_directory

__all__ = ["STATIC_DIR", "integrity", "register"]

STATIC_DIR = Path(__file__).parent / "static"


def _static_file(filename: str) -> Response:
    # Werkzeug's ETag and Last-Modified carry the file's mtime, which is the install time to
    # the sub-second: the same value behind an old and a new onion address links the two
    # addresses of one installation. Answering If-Modified-Since with a 304 would leak that
    # time too, so requests are never conditional. Cache-Control: no-store (security_headers)
    # keeps the browser from caching anyway, so validators would buy nothing.
    response = send_from_directory(STATIC_DIR, filename, conditional=False, etag=False)
    del response.headers["Last-Modified"]
    return response


@functools.cache
def integrity(filename: str) -> str:
    """The Subresource Integrity value (sha384) of the installed static file `filename`.

    Computed from the file the server serves, once per process: the page then refuses any
    other bytes under that URL (a cache or a proxy in between, a half-written file).
    """
    digest = hashlib.sha384((STATIC_DIR / filename).read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


def register(bp: Blueprint) -> None:
    """Serve STATIC_DIR at /static as the endpoint `static` of `bp` (`url_for('web.static')`)."""
    bp.add_url_rule("/static/<path:filename>", endpoint="static", view_func=_static_file)
