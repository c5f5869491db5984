"""create_app: refusals at start-up, the one error page, the 503 before the body, quiet logs."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest
from flask import Flask
from jinja2 import TemplateNotFound

from intake import app as app_module
from intake.app import create_app
from intake.blobstore import LocalBlobStore
from intake.config import Config
from intake.context import Services, allow_without_active_key, current_services
from intake.errors import ConfigError, DatabaseError, StorageError

CANARY = "canary7f3e"
MESSAGE_CANARY = "secretmessage91c2"


class _Unreadable(io.BytesIO):
    """A request body that fails the test if anything reads it."""

    def read(self, size: int | None = -1, /) -> bytes:
        raise AssertionError("the body was read")

    def readline(self, size: int | None = -1, /) -> bytes:
        raise AssertionError("the body was read")


def _add_test_routes(app: Flask) -> None:
    @app.post("/_test/post")
    def needs_key() -> str:
        return f"sealed {current_services().config.limits.max_files}"

    @app.post("/_test/keyless")
    @allow_without_active_key
    def keyless() -> str:
        return "ok"

    @app.get("/_test/boom/<part>")
    def boom(part: str) -> str:
        raise ValueError(f"{MESSAGE_CANARY} {part}")


@pytest.fixture
def test_app(app: Flask) -> Flask:
    _add_test_routes(app)
    return app


def test_services_are_on_the_app(app: Flask, initialized: Config) -> None:
    services = Services.of(app)
    assert services.config == initialized
    assert isinstance(services.store, LocalBlobStore)
    assert services.store.root == initialized.blob_dir
    slots = [services.kdf_slots.acquire(blocking=False) for _ in range(3)]
    assert slots == [True, True, False]
    assert app.config["MAX_CONTENT_LENGTH"] == initialized.limits.max_request_bytes
    assert app.config["MAX_FORM_MEMORY_SIZE"] == initialized.limits.max_field_bytes
    assert app.config["MAX_FORM_PARTS"] == initialized.limits.max_form_parts
    assert Path(str(app.template_folder)).name == "templates"


def test_an_unmigrated_database_is_refused(config: Config) -> None:
    with pytest.raises(DatabaseError) as info:
        create_app(config)
    assert "intake migrate" in (info.value.hint or "")


def test_a_missing_secret_key_is_refused(initialized: Config) -> None:
    initialized.secret_key_file.unlink()
    with pytest.raises(ConfigError, match="does not exist"):
        create_app(initialized)


def test_a_too_short_secret_key_is_refused(initialized: Config) -> None:
    initialized.secret_key_file.write_text("short\n")
    with pytest.raises(ConfigError, match="too short"):
        create_app(initialized)


def test_posts_get_a_calm_503_before_the_body_without_a_key(test_app: Flask) -> None:
    client = test_app.test_client()
    response = client.post("/_test/post", input_stream=_Unreadable(b"x" * 10), content_length=10)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "not accepting" in response.get_data(as_text=True)
    assert client.post("/_test/keyless").status_code == 200
    assert client.get("/").status_code == 200


def test_posts_pass_with_an_active_key(test_app: Flask, keyed_services: Services) -> None:
    response = test_app.test_client().post("/_test/post")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "sealed 20"


def test_errors_use_the_one_page(test_app: Flask) -> None:
    client = test_app.test_client()
    missing = client.get(f"/{CANARY}")
    assert missing.status_code == 404
    assert missing.mimetype == "text/html"
    assert 'id="error-message"' in missing.get_data(as_text=True)
    wrong_method = client.put("/")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["Allow"]


def test_an_unhandled_error_logs_no_request_data(
    test_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    test_app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.DEBUG):
        response = test_app.test_client().get(f"/_test/boom/{CANARY}?q={CANARY}")
    assert response.status_code == 500
    assert MESSAGE_CANARY not in response.get_data(as_text=True)
    assert "unhandled ValueError in endpoint boom" in caplog.text
    assert CANARY not in caplog.text
    assert MESSAGE_CANARY not in caplog.text
    assert "/_test/boom" not in caplog.text


def test_the_error_page_has_a_fallback(test_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: object, **kwargs: object) -> str:
        raise TemplateNotFound("error.html")

    monkeypatch.setattr(app_module, "render_template", missing)
    response = test_app.test_client().get("/nowhere")
    assert response.status_code == 404
    assert "Something went wrong" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_werkzeug_request_lines_are_not_logged(app: Flask) -> None:
    assert logging.getLogger("werkzeug").getEffectiveLevel() >= logging.WARNING


def test_start_up_sweeps_idle_temps(initialized: Config) -> None:
    temp = initialized.blob_dir / "tmp" / ("b" * 32)
    temp.write_bytes(b"left by a crash")
    os.utime(temp, (0, 0))
    app = create_app(initialized)
    Services.of(app).engine.dispose()
    assert not temp.exists()


def test_a_failing_start_up_sweep_is_logged_not_fatal(
    initialized: Config, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(
        self: LocalBlobStore, *, min_idle_seconds: float, keep: frozenset[str] = frozenset()
    ) -> int:
        raise StorageError("permission denied")

    monkeypatch.setattr(LocalBlobStore, "sweep_temps", broken)
    app = create_app(initialized)
    Services.of(app).engine.dispose()
    assert "start-up sweep failed (storage)" in caplog.text


def test_wsgi_module_builds_the_app_from_the_environment(
    initialized: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib  # noqa: PLC0415 - the module reads the environment when imported
    import sys  # noqa: PLC0415

    monkeypatch.setenv("INTAKE_DATA_DIR", str(initialized.data_dir))
    monkeypatch.setenv("INTAKE_DATABASE_URL", initialized.database_url)
    monkeypatch.delitem(sys.modules, "intake.wsgi", raising=False)
    wsgi = importlib.import_module("intake.wsgi")
    try:
        assert Services.of(wsgi.app).config.data_dir == initialized.data_dir
    finally:
        Services.of(wsgi.app).engine.dispose()
        sys.modules.pop("intake.wsgi", None)
