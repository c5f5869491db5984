"""The benchmark's baseline: a minimal Flask app that stores what Intake stores, unsealed.

Served by bench/upload.py under the same gunicorn settings as Intake (deploy/gunicorn.conf.py,
`--chdir REPO bench.baseline_app:app`), with BENCH_BASELINE_DIR naming its directory.

- POST /upload: each file part is streamed by Werkzeug into a plain file of its own (its own
  `_get_file_stream`, so no spool file and no copy), then fsync'ed and closed, as Intake
  fsyncs a blob before naming it. No hashing, no sealing: the floor Intake is measured against.
- POST /testimony: the testimony form's text parts, checked for the two required answers and
  inserted as one JSON row into SQLite with Intake's own engine settings (WAL, secure_delete,
  busy timeout), one transaction per request. With BENCH_BASELINE_KDF=1 it also draws a
  codename and runs the codename KDF at its production cost behind the same two slots Intake
  uses, so that the comparison isolates what sealing and Intake's checks cost.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import threading
from pathlib import Path
from typing import IO, Any, cast

from flask import Flask, Request, request
from sqlalchemy import text

from crypto.witness import DEFAULT_COST, derive
from intake.config import Limits
from intake.db import make_engine
from intake.web.services.codename import CodenameFactory

SCHEMA = "CREATE TABLE IF NOT EXISTS testimony (id TEXT PRIMARY KEY, lookup BLOB, answers TEXT)"


class PlainFileRequest(Request):
    """Werkzeug's request, with each file part written straight into a file of its own."""

    upload_dir: Path

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        if not filename:  # an empty file input; Intake discards these parts too
            return io.BytesIO()
        # Exclusive, 0600, Python's default buffer: the same open as Intake's temporary blobs.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        fd = os.open(self.upload_dir / secrets.token_hex(16), flags, 0o600)
        return cast(IO[bytes], os.fdopen(fd, "wb"))


def _close_durably(handle: Any) -> int:
    """fsync and close a stored part; returns its size (0 for a discarded empty part)."""
    if isinstance(handle, io.BytesIO):
        return 0
    handle.flush()
    os.fsync(handle.fileno())
    size = int(handle.tell())
    handle.close()
    return size


def create_app(directory: Path, *, with_kdf: bool) -> Flask:
    """The baseline over `directory` (uploads/ and baseline.sqlite3 are made inside)."""
    uploads = directory / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    PlainFileRequest.upload_dir = uploads
    app = Flask(__name__)
    app.request_class = PlainFileRequest
    app.config["MAX_CONTENT_LENGTH"] = Limits().max_request_bytes
    engine = make_engine(f"sqlite:///{directory / 'baseline.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text(SCHEMA))
    slots = threading.BoundedSemaphore(Limits().kdf_concurrency)
    codenames = CodenameFactory.load()

    @app.get("/")
    def ready() -> str:
        return "ok"

    @app.post("/upload")
    def upload() -> str:
        sizes = [_close_durably(part.stream) for part in request.files.values()]
        return f"stored {sum(1 for size in sizes if size)} file(s), {sum(sizes)} bytes"

    @app.post("/testimony")
    def testimony() -> tuple[str, int]:
        form = request.form
        for part in request.files.values():  # the empty file inputs a browser always sends
            _close_durably(part.stream)
        if form.get("consent") != "y" or not form.get("account", "").strip():
            return "missing answers", 422
        lookup = b""
        if with_kdf:
            with slots:
                lookup = derive(codenames.new(), cost=DEFAULT_COST).lookup
        reference = secrets.token_hex(8)
        answers = json.dumps(form.to_dict(flat=False))
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO testimony VALUES (:id, :lookup, :answers)"),
                {"id": reference, "lookup": lookup, "answers": answers},
            )
        return f'<p>Received: <strong id="reference">{reference}</strong></p>', 200

    return app


# The one module-level app: gunicorn imports it by name in each worker after forking.
app = create_app(
    Path(os.environ["BENCH_BASELINE_DIR"]), with_kdf=os.environ.get("BENCH_BASELINE_KDF") == "1"
)
