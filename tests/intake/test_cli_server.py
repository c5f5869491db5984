"""`intake init`, `migrate`, `serve`, `sweep`, and the CLI's one error funnel."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from intake.cli import ExitCode, main
from intake.cli import server as server_module
from intake.schema import head_revision
from intake.wordlists import DIGESTS
from tests.intake.conftest import CliFixture


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_a_private_installation(cli: CliFixture, data_dir: Path) -> None:
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert f"created data directory {data_dir}" in result.stdout
    assert f"schema migrated from nothing to {head_revision()}" in result.stdout
    assert "intake keys add" in result.stdout
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "secret_key") == 0o600
    assert len((data_dir / "secret_key").read_text().strip()) == 64
    for sub in ("store", "store/blobs", "store/tmp"):
        assert _mode(data_dir / sub) == 0o700


def test_init_is_idempotent_and_keeps_the_secret_key(cli: CliFixture, data_dir: Path) -> None:
    assert cli("init").exit_code == 0
    key = (data_dir / "secret_key").read_text()
    os.chmod(data_dir, 0o755)  # noqa: S103 - the misconfiguration under test
    again = cli("init")
    assert again.exit_code == 0, again.output
    assert "kept data directory" in again.stdout
    assert "too open and are now 0700" in again.stdout
    assert "kept secret key" in again.stdout
    assert f"schema already at {head_revision()}" in again.stdout
    assert (data_dir / "secret_key").read_text() == key
    assert _mode(data_dir) == 0o700


def test_init_with_the_default_sqlite_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    result = CliRunner().invoke(main, ["init", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert _mode(data_dir / "intake.sqlite3") == 0o600


def test_migrate(cli: CliFixture) -> None:
    first = cli("migrate")
    assert first.exit_code == 0, first.output
    assert f"schema migrated from nothing to {head_revision()}" in first.stdout
    assert f"schema already at {head_revision()}" in cli("migrate").stdout


def test_missing_data_dir_is_a_config_error() -> None:
    result = CliRunner().invoke(main, ["migrate"], env={"INTAKE_DATA_DIR": ""})
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == (
        "intake: error: the data directory is not set\n"
        "intake: hint: pass --data-dir DIR or set INTAKE_DATA_DIR\n"
    )


def test_verbose_shows_the_traceback() -> None:
    result = CliRunner().invoke(main, ["-v", "migrate"], env={"INTAKE_DATA_DIR": ""})
    assert result.exit_code == ExitCode.CONFIG
    assert "Traceback (most recent call last)" in result.stderr
    assert "intake.errors.ConfigError" in result.stderr


def test_an_unexpected_error_is_internal(cli: CliFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("secret detail")

    monkeypatch.setattr(server_module, "init_data_dir", broken)
    result = cli("init")
    assert result.exit_code == ExitCode.INTERNAL
    assert "intake: error: unexpected internal error (ValueError)" in result.stderr
    assert "-v" in result.stderr
    assert "secret detail" not in result.stderr


def test_an_unreachable_database_is_a_database_error(cli: CliFixture) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    result = cli("migrate", "--database-url", url)
    assert result.exit_code == ExitCode.DATABASE
    assert result.stderr.startswith("intake: error: cannot read the schema revision")


class _Exec:
    def __init__(self) -> None:
        self.argv: list[str] = []
        self.env: dict[str, str] = {}

    def __call__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv, self.env = argv, env


@pytest.fixture
def fake_exec(monkeypatch: pytest.MonkeyPatch) -> _Exec:
    fake = _Exec()
    monkeypatch.setattr(server_module, "_exec", fake)
    return fake


def test_serve_execs_gunicorn_with_the_shipped_config(
    cli: CliFixture, fake_exec: _Exec, data_dir: Path
) -> None:
    assert cli("init").exit_code == 0
    result = cli("serve", "--bind", "127.0.0.1:9999")
    assert result.exit_code == 0, result.output
    assert fake_exec.argv[:3] == [sys.executable, "-m", "gunicorn"]
    conf = Path(fake_exec.argv[fake_exec.argv.index("--config") + 1])
    assert conf.name == "gunicorn.conf.py"
    assert conf.exists()
    assert fake_exec.argv[fake_exec.argv.index("--bind") + 1] == "127.0.0.1:9999"
    assert fake_exec.argv[-1] == "intake.wsgi:app"
    assert fake_exec.env["INTAKE_DATA_DIR"] == str(data_dir)
    assert fake_exec.env["INTAKE_BIND"] == "127.0.0.1:9999"
    assert "no active investigator key" in result.stderr


def test_serve_refuses_a_public_bind(cli: CliFixture, fake_exec: _Exec) -> None:
    assert cli("init").exit_code == 0
    result = cli("serve", "--bind", "0.0.0.0:8080")
    assert result.exit_code == ExitCode.CONFIG
    assert "refusing to listen on 0.0.0.0:8080" in result.stderr
    assert fake_exec.argv == []


def test_serve_refuses_a_changed_word_list(
    cli: CliFixture, fake_exec: _Exec, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("init").exit_code == 0
    monkeypatch.setitem(DIGESTS, "uk", "0" * 64)
    result = cli("serve")
    assert result.exit_code == ExitCode.CONFIG
    assert "intake: error: the uk codename word list" in result.stderr
    assert "intake: hint: rebuild the lists with `make wordlists`" in result.stderr
    assert fake_exec.argv == []


def test_serve_refuses_an_uninitialised_install(cli: CliFixture, fake_exec: _Exec) -> None:
    result = cli("serve")
    assert result.exit_code == ExitCode.CONFIG
    assert "intake init" in result.stderr
    assert fake_exec.argv == []


def test_sweep_command(cli: CliFixture, data_dir: Path) -> None:
    assert cli("init").exit_code == 0
    temp = data_dir / "store" / "tmp" / ("a" * 32)
    temp.write_bytes(b"abandoned")
    os.utime(temp, (0, 0))
    result = cli("sweep")
    assert result.exit_code == 0, result.output
    assert "removed 1 abandoned upload(s)" in result.stdout
    assert not temp.exists()


def test_every_command_has_help(cli: CliFixture) -> None:
    for args in (
        [], ["init"], ["migrate"], ["serve"], ["sweep"], ["stats"], ["doctor"],
        ["keys"], ["keys", "add"], ["keys", "list"], ["keys", "retire"], ["keys", "rotate"],
    ):  # fmt: skip
        result = cli(*args, "--help")
        assert result.exit_code == 0, args
        assert "Usage: intake" in result.stdout
