"""The WSGI entry point gunicorn loads (`intake.wsgi:app`); configuration from the environment."""

from __future__ import annotations

import os

from intake.app import create_app
from intake.config import load_config

# The one module-level app: gunicorn imports it by name in each worker after forking.
app = create_app(load_config(os.environ))
