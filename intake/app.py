"""The app factory: collaborators from a frozen Config, headers, one error page, no request logs."""

from __future__ import annotations

import logging
import threading
import traceback
from types import TracebackType

from flask import Flask, current_app, make_response, render_template, request
from jinja2 import TemplateError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, ServiceUnavailable
from werkzeug.wrappers import Response as BaseResponse

from intake import security_headers
from intake.blobstore import LocalBlobStore
from intake.config import Config
from intake.context import EXTENSION_KEY, KEYLESS_ATTR, Services
from intake.datadir import read_secret_key
from intake.db import make_engine, make_session_factory
from intake.diskguard import DiskReservations
from intake.errors import DatabaseError, DiskFullError, IntakeError
from intake.http_errors import NotAcceptingSubmissions, NotSaved, message_key_for
from intake.keyring import Keyring
from intake.maintenance import sweep
from intake.paths import find_templates
from intake.schema import schema_status
from intake.web import init_web
from intake.web.upload import ENVIRON_KEY as UPLOAD_SESSION_KEY

__all__ = ["build_services", "create_app"]

_log = logging.getLogger("intake")

# Shown when error.html itself cannot be rendered: still calm, still no detail.
_FALLBACK_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Intake</title>"
    "<p>Something went wrong. Nothing you sent is shown here. Please try again later.</p></html>"
)


class _IntakeFlask(Flask):
    """Flask whose unhandled-exception log line carries no request data."""

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        # Flask's default names the path and method, and the exception's message may quote
        # form data. Log the type, the endpoint name and the stack frames only.
        kind, _, tb = exc_info
        name = kind.__name__ if kind is not None else "exception"
        frames = "".join(traceback.format_tb(tb)) if tb is not None else ""
        self.logger.error("unhandled %s in endpoint %s\n%s", name, request.endpoint, frames)


def build_services(config: Config) -> Services:
    """The collaborators for one app (one engine and pool per process)."""
    engine = make_engine(config.database_url)
    sessions = make_session_factory(engine)
    return Services(
        config=config,
        engine=engine,
        sessions=sessions,
        store=LocalBlobStore(config.blob_dir),
        keyring=Keyring(config.keyring_file, sessions),
        kdf_slots=threading.BoundedSemaphore(config.limits.kdf_concurrency),
        # Beside blobs/ and tmp/, on the filesystem the uploads fill (intake/diskguard.py).
        reservations=DiskReservations(config.blob_dir / "reserve"),
    )


def _refuse_without_active_key() -> None:
    """Before any POST body is read: with no active key, answer with the calm 503 page."""
    if request.method != "POST":
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, KEYLESS_ATTR, False):
        return
    if not Services.of(current_app).keyring.has_active_key():
        raise NotAcceptingSubmissions()


def _error_page(exc: HTTPException, again: str | None = None) -> BaseResponse:
    """Every error, whatever its cause, as the one generic page (status and a message key);
    `again` is the form to open again (with a GET) to see what was kept."""
    if exc.response is not None:
        return exc.get_response()  # a view built its own answer (e.g. a translated limit page)
    status = exc.code or 500
    try:
        body = render_template(
            "error.html", status=status, message_key=message_key_for(exc), again=again
        )
    except TemplateError as render_exc:
        _log.error("the error page failed to render (%s)", type(render_exc).__name__)
        body = _FALLBACK_PAGE
    response = make_response(body, status)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # e.g. Allow on 405
    return response


# A full disk, or a database that is locked, restarting or unreachable: a passing condition, so
# a calm 503 ("try again"), never the 500 page. OperationalError covers SQLite's "database is
# locked" and a lost PostgreSQL connection; the pool's pre-ping reconnects once it is back.
_UNAVAILABLE = (DiskFullError, DatabaseError, OperationalError, InterfaceError, PoolTimeoutError)


def _unavailable_page(exc: Exception) -> BaseResponse:
    """A sealing request says what of it was kept and where to see it; any other, "try later"."""
    # The type only: a database error's message may quote parameters of the statement.
    _log.warning("answered 503: %s", type(exc).__name__)
    # DiskFullError before the upload session exists: the free-disk guard refused the body.
    sealing = request.environ.get(UPLOAD_SESSION_KEY) is not None
    if not sealing and not isinstance(exc, DiskFullError):
        return _error_page(ServiceUnavailable())
    # Each whole file and the answers were committed to the draft as they arrived, so what came
    # before the failure is kept; a GET of the same path (the form) shows it.
    return _error_page(NotSaved(), again=request.path)


def _start_up_sweep(services: Services) -> None:
    """Sweep what a crash left; a failure is logged, never fatal (the site matters more)."""
    # SQLAlchemyError too: a database that is locked or restarting while a worker boots must
    # not fail the boot, or gunicorn stops the whole site, cutting every upload in progress.
    try:
        sweep(services.sessions, services.store)
    except IntakeError as exc:
        _log.warning("the start-up sweep failed (%s); run `intake sweep`", exc.category)
    except SQLAlchemyError as exc:
        _log.warning("the start-up sweep failed (%s); run `intake sweep`", type(exc).__name__)


def _quiet_request_logging() -> None:
    # Werkzeug's development server logs one line per request with the client's address and
    # the URL; under gunicorn there is no access log at all (deploy/gunicorn.conf.py).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def create_app(config: Config, *, services: Services | None = None) -> Flask:
    """Build the witness site for `config`.

    Raises ConfigError (no secret key, templates not installed) or DatabaseError (database
    unreachable or not migrated: run `intake migrate`). Runs the start-up sweep, which only
    takes idle temp files and old orphans, so it is safe while other workers serve uploads.
    """
    built = services is None
    services = services or build_services(config)
    try:
        return _build_app(config, services)
    except BaseException:
        if built:  # nobody else holds this engine: close its pooled connections
            services.engine.dispose()
        raise


def _build_app(config: Config, services: Services) -> Flask:
    status = schema_status(services.engine)
    if not status.at_head:
        raise DatabaseError(
            f"the database schema is at {status.current or 'nothing'}, not {status.head}",
            hint="run `intake migrate` (or `intake init` on a new data directory)",
        )
    app = _IntakeFlask("intake", template_folder=str(find_templates()), static_folder=None)
    app.config.update(
        SECRET_KEY=read_secret_key(config.secret_key_file),
        # Werkzeug refuses a larger body before reading it (413, the one error page).
        MAX_CONTENT_LENGTH=config.limits.max_request_bytes,
        # Per text part (bytes) and number of parts; files are not held in memory at all.
        MAX_FORM_MEMORY_SIZE=config.limits.max_field_bytes,
        MAX_FORM_PARTS=config.limits.max_form_parts,
    )
    app.extensions[EXTENSION_KEY] = services
    security_headers.init_app(app)
    _quiet_request_logging()
    app.before_request(_refuse_without_active_key)
    app.register_error_handler(HTTPException, _error_page)
    for kind in _UNAVAILABLE:
        app.register_error_handler(kind, _unavailable_page)
    _start_up_sweep(services)
    init_web(app, services)
    return app
