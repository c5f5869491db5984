"""The witness site in this process (Flask's test client) with collaborators a test may swap:
a fault-injecting blob store, a counting key derivation. For the faults no real process can aim.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from crypto.age import open_bytes
from crypto.minisign import SigningKey
from crypto.witness import FAST_TEST_COST
from crypto.x25519 import X25519Identity
from intake.app import build_services, create_app
from intake.blobstore import BlobStore
from intake.config import Limits, load_config
from intake.context import Services
from intake.datadir import init_data_dir
from intake.keyring import NewKey, add_to_file
from intake.web.services.context import KDF_COST_KEY, WebContext
from tests.conftest import keyring_env
from tests.reliability.client import MINIMAL_TESTIMONY, FilePart, Multipart, confirm_words

_ACTION = re.compile(r'<form id="([a-z-]+)" method="post"[^>]*action="([^"]+)"')


@dataclass(frozen=True)
class Site:
    app: Flask
    services: Services
    investigator: X25519Identity

    @property
    def ctx(self) -> WebContext:
        return self.app.blueprints["web"].web_context  # type: ignore[attr-defined,no-any-return]

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def temp_files(self) -> list[str]:
        return sorted(p.name for p in (self.services.config.blob_dir / "tmp").iterdir())

    def blob_files(self) -> list[str]:
        return sorted(p.name for p in (self.services.config.blob_dir / "blobs").iterdir())

    def open_blob(self, name: str) -> bytes:
        with self.services.store.open(name) as handle:
            return open_bytes(handle.read(), [self.investigator])


@contextmanager
def site_at(root: Path, *, store: BlobStore | None = None, **limits: int) -> Iterator[Site]:
    """An initialised installation with one investigator key, served in-process."""
    config = load_config({"INTAKE_DATA_DIR": str(root / "data"), **keyring_env(root)}).replace(
        database_url=f"sqlite:///{root / 'intake.sqlite3'}", limits=Limits(**limits)
    )
    services = build_services(config)
    try:
        init_data_dir(config, services.engine)
        if store is not None:
            services = dataclasses.replace(services, store=store)
        investigator = X25519Identity.generate()
        signing = SigningKey.generate().verify_key().to_file_text()
        add_to_file(
            config.keyring_file,
            NewKey.parse(str(investigator.recipient()), name="Inv", signing_key=signing),
        )
        app = create_app(config, services=services)
        app.config.update(TESTING=True, **{KDF_COST_KEY: FAST_TEST_COST})
        yield Site(app, services, investigator)
    finally:
        services.engine.dispose()


def action_of(response: TestResponse, form_id: str) -> str:
    for found, action in _ACTION.findall(response.get_data(as_text=True)):
        if found == form_id:
            return str(action).replace("&amp;", "&")
    raise AssertionError(f"no form {form_id!r} (status {response.status_code})")


def post(client: FlaskClient, action: str, form: Multipart) -> TestResponse:
    """POST `form`; a 303 is followed with a GET, as a browser does."""
    answer = client.post(action, data=b"".join(form.chunks()), content_type=form.content_type)
    if answer.status_code == 303:
        return client.get(answer.headers["Location"])
    return answer


def testimony_action(client: FlaskClient) -> str:
    """The testimony form's action, reached through the codename step."""
    issued = post(client, action_of(client.get("/start"), "start-form"), Multipart([]))
    words = confirm_words(issued.get_data(as_text=True))
    return action_of(
        post(client, action_of(issued, "confirm-form"), Multipart(words)), "testimony-form"
    )


def submit(client: FlaskClient, files: list[FilePart] | None = None) -> TestResponse:
    """A fresh testimony form (after the codename step), filled minimally, with `files`."""
    action = testimony_action(client)
    return post(client, action, Multipart(list(MINIMAL_TESTIMONY), list(files or [])))
