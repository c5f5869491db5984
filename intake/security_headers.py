"""Security headers on every response, and the session cookie policy, in one place.

Each value carries its reason. The witness site needs no JavaScript, no third-party resource
and no frame, so everything that is not needed is denied. The one exception is the testimony
form's optional sealing script (issue 16): only the page that loads it gets SCRIPT_CSP.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from flask import Flask, Response, g, request

__all__ = [
    "CSP",
    "HEADERS",
    "PERMISSIONS_POLICY",
    "SCRIPT_CSP",
    "allow_own_scripts",
    "apply_headers",
    "init_app",
]

# No script-src at all: default-src 'none' forbids every script, so an injected <script> or
# inline handler cannot run even if a template bug lets one through. Styles and images only
# from our own origin; forms post only to us; nobody may frame us; no <base> rewriting.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

# The testimony form with its sealing script: scripts and workers from our origin only (the
# page's <script> carries its SRI hash; the worker is the same file), connections only to us,
# and still nothing inline (no 'unsafe-inline', no 'unsafe-eval', no blob: or data: worker).
SCRIPT_CSP = (
    "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
    "style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
_SCRIPT_FLAG = "intake_own_scripts"

# Every powerful feature off: a testimony form needs none, and a compromised page must not be
# able to ask for the camera, location or sensors.
_DENIED_FEATURES = (
    "accelerometer",
    "ambient-light-sensor",
    "autoplay",
    "battery",
    "bluetooth",
    "browsing-topics",
    "camera",
    "clipboard-read",
    "clipboard-write",
    "display-capture",
    "document-domain",
    "encrypted-media",
    "fullscreen",
    "gamepad",
    "geolocation",
    "gyroscope",
    "hid",
    "identity-credentials-get",
    "idle-detection",
    "interest-cohort",
    "local-fonts",
    "magnetometer",
    "microphone",
    "midi",
    "otp-credentials",
    "payment",
    "picture-in-picture",
    "publickey-credentials-create",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "speaker-selection",
    "storage-access",
    "sync-xhr",
    "usb",
    "web-share",
    "window-management",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in _DENIED_FEATURES)

HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "Content-Security-Policy": CSP,
        # The onion address must not leak to another site through a link a witness follows.
        "Referrer-Policy": "no-referrer",
        # A sealed download or an uploaded file echoed back must never be sniffed into HTML.
        "X-Content-Type-Options": "nosniff",
        # Old browsers ignore frame-ancestors; this covers them.
        "X-Frame-Options": "DENY",
        # No other window may hold a reference to ours, nor load our resources.
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        # Nothing a witness saw may stay in the browser's cache on a shared or seized device.
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        # An onion service should not be indexed if its address leaks.
        "X-Robots-Tag": "noindex, nofollow, noarchive",
    }
)

# What the Server header says when our WSGI server would otherwise announce its version.
SERVER_NAME = "intake"


def allow_own_scripts() -> None:
    """Let this request's response (a page loading our sealing script) run it: SCRIPT_CSP."""
    setattr(g, _SCRIPT_FLAG, True)


def apply_headers(response: Response) -> Response:
    """Set every security header on `response` (replacing any value a view set)."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    if g.get(_SCRIPT_FLAG, False):
        response.headers["Content-Security-Policy"] = SCRIPT_CSP
    # Werkzeug's server announces "Werkzeug/x.y Python/x.y" unless the app sets Server;
    # gunicorn always sends its own versionless "Server: gunicorn" and would add ours as a
    # second header, so leave it alone there.
    if not request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        response.headers["Server"] = SERVER_NAME
    return response


def init_app(app: Flask) -> None:
    """Register the headers for every response (errors included) and set the cookie policy."""
    app.config.update(
        # JavaScript is off anyway, but the cookie must stay out of reach of any script.
        SESSION_COOKIE_HTTPONLY=True,
        # Strict: no cross-site request carries the session (a CSRF layer under the token).
        SESSION_COOKIE_SAMESITE="Strict",
        # Not Secure: the onion service speaks plain HTTP (Tor encrypts end to end), and a
        # Secure cookie over http:// is dropped by browsers.
        SESSION_COOKIE_SECURE=False,
        # A name that says nothing about the framework.
        SESSION_COOKIE_NAME="session",
    )
    app.after_request(apply_headers)
