"""deploy/README.md: the tested code blocks work, and its paths agree with the shipped files."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import nacl.bindings
import pytest

from tests.deploy.conftest import DEPLOY, README, directives, readme_block
from tests.deploy.haproxy import (
    check_config,
    config_for_hosts,
    sections,
    shipped,
    with_backends,
)


def heredoc(block: str) -> str:
    """The text of the first `<<'EOF'` here-document in a shell block."""
    match = re.search(r"<<'EOF'\n(.*?)\nEOF\n", block, re.S)
    assert match
    return match.group(1) + "\n"


def test_every_shipped_deploy_file_is_documented() -> None:
    shipped = [p for p in DEPLOY.rglob("*") if p.is_file() and p.name != "README.md"]
    assert shipped
    for path in shipped:
        assert f"`{path.relative_to(DEPLOY)}`" in README, path


def test_paths_agree_with_the_units() -> None:
    site = directives((DEPLOY / "systemd" / "intake.service").read_text(encoding="utf-8"))
    exec_start = dict(site)["ExecStart"].split()
    for path in (exec_start[0].rsplit("/bin/", 1)[0], exec_start[2], dict(site)["ReadWritePaths"]):
        assert path in README, path
    assert "intake.wsgi:app" in README


def test_client_auth_keygen_makes_a_matching_x25519_pair(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_block("client-auth-keygen")],
        cwd=tmp_path,
        check=True,
        timeout=30,
    )
    private = (tmp_path / "admin.private").read_text().strip()
    public = (tmp_path / "admin.public").read_text().strip()
    # tor wants unpadded base32 of the raw 32-byte keys (tor(1), CLIENT AUTHORIZATION).
    assert re.fullmatch(r"[A-Z2-7]{52}", private)
    assert re.fullmatch(r"[A-Z2-7]{52}", public)
    secret = base64.b32decode(private + "====")
    assert nacl.bindings.crypto_scalarmult_base(secret) == base64.b32decode(public + "====")
    assert (tmp_path / "admin.pem").stat().st_mode & 0o077 == 0


def test_several_hosts_backends_keep_the_slot_split_and_pass_haproxy(tmp_path: Path) -> None:
    block = readme_block("haproxy-several-hosts")
    ours, theirs = sections(block), sections(shipped())
    assert [name for name in ours] == [n for n in theirs if n.startswith("backend ")][-3:]
    for name, lines in ours.items():
        single = [line for line in theirs[name] if line.startswith("server ")]
        assert len(single) == 1, name
        servers = [line.split() for line in lines if line.startswith("server ")]
        assert [s[1] for s in servers] == ["app1", "app2"], name
        # Every host gets the slots the single host had: the split of its 512 threads holds.
        assert {tuple(s[3:5]) for s in servers} == {tuple(single[0].split()[3:5])}, name
        assert "http-reuse never" in lines, name
        assert "option redispatch" in lines, name
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        config_for_hosts(
            with_backends(shipped(), block), front_port=18000, hosts={"app1": 1, "app2": 2}
        )
    )
    check_config(config)


def test_several_servers_keeps_one_tor_with_proof_of_work() -> None:
    several = README[README.index("## Several servers") : README.index("## The front: HAProxy")]
    assert "OnionBalanceInstance" not in several
    assert "warm standby" in several
    assert "stopped and disabled" in several
    for needle in ("secret_key", "/etc/intake/keyring.json", "INTAKE_BLOB_DIR", "postgresql"):
        assert needle in several, needle
    assert "HiddenServicePoWDefensesEnabled 1" in (DEPLOY / "torrc").read_text(encoding="utf-8")


def test_intake_admin_wrapper_passes_the_service_environment(tmp_path: Path) -> None:
    script = heredoc(readme_block("intake-admin"))
    fake_intake = tmp_path / "intake"
    fake_intake.write_text('#!/bin/sh\necho "args=$*"\nenv | grep ^INTAKE_ | sort\numask\npwd\n')
    fake_intake.chmod(0o755)
    env_file = tmp_path / "intake.env"
    env_file.write_text("INTAKE_DATABASE_URL=postgresql+psycopg://intake@db/intake\n")
    script = (
        script.replace("runuser -u intake -- ", "")
        .replace("/opt/intake/venv/bin/intake", str(fake_intake))
        .replace("/etc/intake/intake.env", str(env_file))
        .replace("/var/lib/intake", str(tmp_path))
    )
    wrapper = tmp_path / "intake-admin"
    wrapper.write_text(script)
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    out = subprocess.run(
        [str(wrapper), "keys", "list"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    assert out == [
        "args=keys list",
        "INTAKE_DATABASE_URL=postgresql+psycopg://intake@db/intake",
        f"INTAKE_DATA_DIR={tmp_path}",
        "0077",
        str(tmp_path),
    ]
