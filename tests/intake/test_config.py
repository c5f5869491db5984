"""load_config: defaults, overrides, precise errors, and every key documented in docs/config.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from intake.config import ENV_KEYS, Config, Limits, is_loopback_bind, load_config
from intake.errors import ConfigError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_defaults_follow_the_data_dir(tmp_path: Path) -> None:
    config = load_config({"INTAKE_DATA_DIR": str(tmp_path)})
    assert config.data_dir == tmp_path
    assert config.database_url == f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    assert config.secret_key_file == tmp_path / "secret_key"
    assert config.blob_dir == tmp_path / "store"
    assert config.bind == "127.0.0.1:8080"
    assert config.limits == Limits()
    assert config.limits.max_request_bytes == 9 * 1024**3 // 2  # 4.5 GiB: a 4 GB video fits
    assert config.limits.max_files == 20
    assert config.limits.kdf_concurrency == 2
    assert config.limits.pending_draft_ttl_hours == 24


def test_every_variable_overrides(tmp_path: Path) -> None:
    config = load_config(
        {
            "INTAKE_DATA_DIR": str(tmp_path),
            "INTAKE_DATABASE_URL": "postgresql://u@h/db",
            "INTAKE_SECRET_KEY_FILE": str(tmp_path / "k"),
            "INTAKE_BLOB_DIR": str(tmp_path / "b"),
            "INTAKE_BIND": "127.0.0.1:9000",
            "INTAKE_MAX_REQUEST_BYTES": "1_000",
            "INTAKE_MAX_FILES": "3",
            "INTAKE_MAX_FIELD_BYTES": "10",
            "INTAKE_MAX_TEXT_BYTES": "20",
            "INTAKE_MAX_FORM_PARTS": "30",
            "INTAKE_KDF_CONCURRENCY": "1",
            "INTAKE_PENDING_DRAFT_TTL_HOURS": "2",
        }
    )
    assert config.database_url == "postgresql+psycopg://u@h/db"
    assert config.secret_key_file == tmp_path / "k"
    assert config.blob_dir == tmp_path / "b"
    assert config.bind == "127.0.0.1:9000"
    assert config.limits == Limits(1000, 3, 10, 20, 30, 1, 2)


def test_config_is_frozen(tmp_path: Path) -> None:
    config = Config.for_data_dir(tmp_path)
    with pytest.raises(AttributeError):
        config.bind = "0.0.0.0:80"  # type: ignore[misc]
    assert config.replace(bind="127.0.0.1:1").bind == "127.0.0.1:1"


def test_relative_data_dir_becomes_absolute() -> None:
    assert load_config({"INTAKE_DATA_DIR": "rel/dir"}).data_dir.is_absolute()


def test_missing_data_dir_says_how_to_set_it() -> None:
    with pytest.raises(ConfigError) as info:
        load_config({})
    assert info.value.category == "config"
    assert "INTAKE_DATA_DIR" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("key", "value"),
    [("INTAKE_MAX_FILES", "many"), ("INTAKE_KDF_CONCURRENCY", "0"), ("INTAKE_MAX_FILES", "-1")],
)
def test_bad_limits_are_refused(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(ConfigError):
        load_config({"INTAKE_DATA_DIR": str(tmp_path), key: value})


def test_a_malformed_value_names_its_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="INTAKE_MAX_FILES"):
        load_config({"INTAKE_DATA_DIR": str(tmp_path), "INTAKE_MAX_FILES": "x"})


def test_unsupported_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mysql"):
        load_config({"INTAKE_DATA_DIR": str(tmp_path), "INTAKE_DATABASE_URL": "mysql://x/y"})


def test_every_config_key_is_documented() -> None:
    documented = set(re.findall(r"^\| `(INTAKE_[A-Z_]+)` \|", DOCS.read_text(), re.MULTILINE))
    assert set(ENV_KEYS) <= documented, set(ENV_KEYS) - documented


def test_every_key_read_is_in_env_keys() -> None:
    source = (Path(__file__).resolve().parents[2] / "intake" / "config.py").read_text()
    read = set(re.findall(r'"(INTAKE_[A-Z_]+)"', source))
    assert read == set(ENV_KEYS)


@pytest.mark.parametrize(
    ("bind", "loopback"),
    [
        ("127.0.0.1:8080", True),
        ("127.0.0.2:80", True),
        ("localhost:8080", True),
        ("[::1]:8080", True),
        ("unix:/run/intake.sock", True),
        ("tcp://127.0.0.1:1", True),
        ("0.0.0.0:8080", False),
        ("[::]:8080", False),
        ("192.168.1.4:8080", False),
        ("example.org:80", False),
    ],
)
def test_loopback_binds(bind: str, loopback: bool) -> None:
    assert is_loopback_bind(bind) is loopback
