"""The witness site: blueprint, upload request class and translations, wired by `init_web`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from intake.web.blueprint import make_blueprint
from intake.web.i18n import init_i18n
from intake.web.pages import init_pages
from intake.web.sessions import init_sessions
from intake.web.upload import SealingRequest

__all__ = ["init_web"]

# A form may be filled in slowly and its files take hours over Tor: 4.5 GiB at 0.2 MB/s is
# about 6.5 hours. The CSRF token (checked when the POST starts) and the session holding its secret
# must outlive a long day of writing plus that upload: 25 hours for the token, 26 for the
# session cookie that carries it. The cookie holds no witness id: a logged-in witness's session
# is kept on the server (intake.witness_sessions), which admits a form's POST for exactly
# this CSRF lifetime and an account page for much less.
CSRF_TIME_LIMIT = timedelta(hours=25)
SESSION_LIFETIME = timedelta(hours=26)


def init_web(app: Flask, services: Any) -> None:
    """Install the witness site on `app`: request class, i18n, page helpers and the blueprint.

    `services` is `intake.context.Services` made by `create_app`; the views receive it
    through `make_blueprint`, never a global.
    """
    app.request_class = SealingRequest
    app.config.update(
        WTF_CSRF_TIME_LIMIT=int(CSRF_TIME_LIMIT.total_seconds()),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    init_sessions(app)
    init_i18n(app)
    init_pages(app)
    app.register_blueprint(make_blueprint(services))
