"""Every header on every route (and on every error), whatever the method and the outcome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from intake.security_headers import CSP, HEADERS, PERMISSIONS_POLICY

EXPECTED = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _url(rule: Rule) -> str:
    values = {}
    for argument in rule.arguments:
        converter = type(rule._converters[argument]).__name__
        values[argument] = {"PathConverter": "style.css", "IntegerConverter": "1"}.get(
            converter, "x"
        )
    url = rule.rule
    for argument, value in values.items():
        url = url.replace(f"<{argument}>", value)
        for prefix in ("path", "int", "string", "any"):
            url = url.replace(f"<{prefix}:{argument}>", value)
    return url


def _requests(app: Flask) -> Iterator[tuple[str, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            yield method, _url(rule)
    yield "GET", "/no-such-page"
    yield "DELETE", "/"


def _assert_headers(headers: dict[str, str], where: str) -> None:
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, f"{name} on {where}"
    policy = headers.get("Permissions-Policy", "")
    for feature in ("camera", "geolocation", "microphone", "usb", "payment", "interest-cohort"):
        assert f"{feature}=()" in policy, f"{feature} on {where}"
    assert "noindex" in headers.get("X-Robots-Tag", "")
    server = headers.get("Server", "")
    assert not any(char.isdigit() for char in server), f"Server {server!r} on {where}"


def test_the_module_values_are_the_specified_ones() -> None:
    assert EXPECTED["Content-Security-Policy"] == CSP
    assert "script-src" not in CSP
    assert HEADERS["Permissions-Policy"] == PERMISSIONS_POLICY
    assert all(part.endswith("=()") for part in PERMISSIONS_POLICY.split(", "))


def test_the_site_has_routes(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert len(endpoints) >= 2, endpoints


@pytest.mark.parametrize("with_key", [False, True])
def test_every_route_sends_every_header(
    request: pytest.FixtureRequest, app: Flask, client: FlaskClient, with_key: bool
) -> None:
    if with_key:
        request.getfixturevalue("keyed_services")  # same database as `app`
    seen = 0
    for method, url in _requests(app):
        response = client.open(url, method=method)
        _assert_headers(dict(response.headers), f"{method} {url} ({response.status_code})")
        response.close()
        seen += 1
    assert seen >= 4


def test_cookie_policy(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"


def test_the_development_server_version_is_hidden(client: FlaskClient) -> None:
    response = client.get("/", environ_base={"SERVER_SOFTWARE": "Werkzeug/3.1"})
    assert response.headers["Server"] == "intake"


def test_gunicorn_keeps_its_own_versionless_server_header(client: FlaskClient) -> None:
    response = client.get("/", environ_base={"SERVER_SOFTWARE": "gunicorn/23.0.0"})
    assert "Server" not in response.headers
