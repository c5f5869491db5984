"""Fixtures for the server side: databases (SQLite and PostgreSQL), data dirs, apps, investigators.

`db_url` runs a test on SQLite and, when INTAKE_TEST_DATABASE_URL is set, on PostgreSQL too,
each PostgreSQL test in its own freshly created schema (selected through the connection's
search_path), so helpers running suites in parallel never share tables.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, make_url, text

from crypto.keyfile import fingerprint
from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity, X25519Recipient
from intake.app import build_services, create_app
from intake.cli import main
from intake.config import Config, load_config
from intake.context import Services
from intake.datadir import init_data_dir
from intake.db import make_engine
from intake.keyring import NewKey, add_to_file
from tests.conftest import POSTGRES_ENV, keyring_env


def _postgres_schema_url(base: str) -> Iterator[str]:
    schema = f"intake_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(make_url(base).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).set(drivername="postgresql+psycopg")
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV} (.ci/run does)")
    yield from _postgres_schema_url(base)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A path for the data directory (not created)."""
    return tmp_path / "data"


@pytest.fixture
def env(data_dir: Path, db_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of an installation on `db_url`, its keyring file in `tmp_path`."""
    return {
        "INTAKE_DATA_DIR": str(data_dir),
        "INTAKE_DATABASE_URL": db_url,
        **keyring_env(tmp_path),
    }


@pytest.fixture
def config(env: dict[str, str]) -> Config:
    """The Config for `env` (nothing created on disk yet)."""
    return load_config(env)


@pytest.fixture
def engine(config: Config) -> Iterator[Engine]:
    engine = make_engine(config.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def initialized(config: Config, engine: Engine) -> Config:
    """`config` after `intake init`: data dir, secret key, blob store and schema exist."""
    init_data_dir(config, engine)
    return config


@pytest.fixture
def services(initialized: Config) -> Iterator[Services]:
    """The app's collaborators over an initialised installation (empty keyring)."""
    built = build_services(initialized)
    yield built
    built.engine.dispose()


@dataclass(frozen=True)
class Investigator:
    """An investigator's key pair as `triage keygen` makes it, with the .pub file written."""

    identity: X25519Identity
    signing_key: SigningKey
    pub_file: Path

    @property
    def recipient(self) -> X25519Recipient:
        return self.identity.recipient()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.recipient)

    @property
    def signing_key_text(self) -> str:
        return self.signing_key.verify_key().to_file_text()

    def new_key(self, name: str = "Test") -> NewKey:
        """This investigator as a key to add to a keyring."""
        return NewKey.parse(str(self.recipient), name=name, signing_key=self.signing_key_text)


@pytest.fixture
def make_investigator(tmp_path: Path) -> Callable[[], Investigator]:
    """A factory: each `make_investigator()` is a new Investigator."""
    counter = iter(range(10_000))

    def make() -> Investigator:
        signing_key = SigningKey.generate()
        pub_file = tmp_path / f"investigator-{next(counter)}.pub"
        pub_file.write_text(signing_key.verify_key().to_file_text())
        return Investigator(X25519Identity.generate(), signing_key, pub_file)

    return make


@pytest.fixture
def investigator(make_investigator: Callable[[], Investigator]) -> Investigator:
    return make_investigator()


@pytest.fixture
def keyed_services(services: Services, investigator: Investigator) -> Services:
    """Services whose keyring holds `investigator` as its one active key."""
    add_to_file(services.config.keyring_file, investigator.new_key())
    with services.sessions() as session:  # as the first submission would
        services.keyring.sync_cache(session)
        session.commit()
    return services


@pytest.fixture
def app(initialized: Config) -> Iterator[Flask]:
    """The witness site over an initialised installation (keyring empty: add keys as needed)."""
    application = create_app(initialized)
    application.config["TESTING"] = True
    yield application
    Services.of(application).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cli(env: dict[str, str]) -> CliFixture:
    """Runs `intake …` in-process against `env`: `cli("keys", "list")`."""
    return CliFixture(CliRunner(), env)


@dataclass(frozen=True)
class CliFixture:
    runner: CliRunner
    env: dict[str, str]

    def __call__(self, *args: str, extra_env: dict[str, str] | None = None) -> Result:
        return self.runner.invoke(
            main, list(args), env={**self.env, **(extra_env or {})}, catch_exceptions=False
        )
