"""The stylesheet carries no trace of when this installation was made.

Werkzeug's `ETag` and `Last-Modified` hold the file's mtime (the install time, to the
sub-second): the same value behind an old and a new onion address links the two. And a 304
to a guessed `If-Modified-Since` would leak the same time bit by bit.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from intake.web.static import STATIC_DIR

TIME_HEADERS = ("ETag", "Last-Modified")


def test_the_stylesheet_sends_no_file_time(client: FlaskClient) -> None:
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert response.get_data() == (STATIC_DIR / "style.css").read_bytes()
        for name in TIME_HEADERS:
            assert name not in response.headers
        assert response.headers["Cache-Control"] == "no-store"


def test_conditional_requests_get_the_whole_file(client: FlaskClient) -> None:
    for headers in (
        {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
        {"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"If-None-Match": "*"},
        {"Range": "bytes=0-0"},
    ):
        with client.get("/static/style.css", headers=headers) as response:
            assert response.status_code == 200, headers
            assert len(response.get_data()) == (STATIC_DIR / "style.css").stat().st_size


def test_a_missing_static_file_is_the_calm_404(client: FlaskClient) -> None:
    for path in ("/static/nope.css", "/static/../blueprint.py", "/static/%2E%2E/blueprint.py"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Last-Modified" not in response.headers
