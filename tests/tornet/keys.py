"""Keys and identities for the private network: authorities, relays, onion client authorization.

Authority identities and signing certificates come from tor-gencert (Debian package `tor`);
relay identities from `tor --list-fingerprint`, which creates them in the data directory the
relay then runs in. Nothing here starts a long-lived process.
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
from pathlib import Path

from nacl.public import PrivateKey

from tests.tornet import torrc


class TornetError(Exception):
    """The private network did not come up; the message says which step stopped, and when."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def binary(name: str) -> str:
    """Path of `name` (tor, tor-gencert); TornetError if Debian's `tor` package is missing."""
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if path is None:
        raise TornetError(f"{name} is not installed (Debian package `tor`; `make tools`)")
    return path


def _authority_keys(datadir: Path, dir_port: int) -> str:
    """An authority identity and signing certificate (tor-gencert); returns its v3 ident."""
    keys = datadir / "keys"
    keys.mkdir(mode=0o700, parents=True)
    subprocess.run(
        [
            binary("tor-gencert"),
            "--create-identity-key",
            "-m",
            "12",
            "-a",
            f"127.0.0.1:{dir_port}",
            "-i",
            str(keys / "authority_identity_key"),
            "-s",
            str(keys / "authority_signing_key"),
            "-c",
            str(keys / "authority_certificate"),
            "--passphrase-fd",
            "0",
        ],
        input=b"\n",
        capture_output=True,
        check=True,
        timeout=60,
    )
    for line in (keys / "authority_certificate").read_text().splitlines():
        if line.startswith("fingerprint "):
            return line.split()[1]
    raise TornetError("tor-gencert wrote no fingerprint line")


def _relay_fingerprint(datadir: Path, nickname: str) -> str:
    """Create the relay identity in `datadir` and return its fingerprint."""
    datadir.mkdir(mode=0o700, exist_ok=True)
    datadir.chmod(0o700)
    empty = datadir / "empty-torrc"
    empty.write_text("", encoding="utf-8")
    result = subprocess.run(
        [
            binary("tor"),
            "--list-fingerprint",
            "--DataDirectory",
            str(datadir),
            "--ORPort",
            "1",
            "--Nickname",
            nickname,
            # A placeholder authority: without one tor would fall back on the public ones.
            "--DirAuthority",
            f"placeholder 127.0.0.1:1 {'F' * 40}",
            "--defaults-torrc",
            str(empty),
            "-f",
            str(empty),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return "".join(result.stdout.strip().splitlines()[-1].split()[1:])


def make_authorities(root: Path, count: int) -> list[torrc.Authority]:
    """`count` authorities with their keys made in root/authN (their data directories)."""
    found = []
    for index in range(count):
        nickname = f"auth{index}"
        dir_port, or_port = free_port(), free_port()
        v3ident = _authority_keys(root / nickname, dir_port)
        fingerprint = _relay_fingerprint(root / nickname, nickname)
        found.append(torrc.Authority(nickname, or_port, dir_port, v3ident, fingerprint))
    return found


def client_auth_keys() -> tuple[str, str]:
    """(service line, private key in base64) of a fresh x25519 onion client-authorization key."""
    key = PrivateKey.generate()
    public = base64.b32encode(bytes(key.public_key)).decode().rstrip("=")
    return f"descriptor:x25519:{public}", base64.b64encode(bytes(key)).decode()
