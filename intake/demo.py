"""`python -m intake.demo --data-dir DIR`: a data directory with a DEMO investigator key (make run).

The demo writes the investigator's SECRET keys next to the server's data, which a real
installation must never do: the whole point of Intake is that the server cannot open what it
stores. It exists so `make run` shows a working site and its submissions can be opened.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from crypto.keyfile import fingerprint, read_identities, write_identity_file
from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity
from intake.config import load_config
from intake.datadir import init_data_dir
from intake.db import make_engine
from intake.keyring import NewKey, add_to_file, read_keyring_file

__all__ = ["DEMO_KEY_NAME", "demo_environ", "main", "prepare_demo"]

DEMO_KEY_NAME = "Demo investigator (NOT FOR REAL USE)"
IDENTITY_FILE = "demo-investigator.key"
# Named as `triage keygen` names them (IDENTITY.minisign.key/.pub beside IDENTITY), so that
# `triage init WS -i DATA_DIR/demo-investigator.key` takes the demo key as it is.
SIGNING_KEY_FILE = IDENTITY_FILE + ".minisign.key"
VERIFY_KEY_FILE = IDENTITY_FILE + ".minisign.pub"
_OLD_NAMES = {
    "demo-investigator.minisign.key": SIGNING_KEY_FILE,
    "demo-investigator.minisign.pub": VERIFY_KEY_FILE,
}
"""What demos before issue W called the minisign files: renamed, so the keyring's key stays."""
KEYRING_FILE = "keyring.json"

_BANNER = """\
************************************************************************
** DEMO ONLY. The investigator's SECRET keys were written to
**   {identity}
**   {signing}
** next to the server's data. Never do this for real testimony: a real
** investigator key is made offline with `triage keygen`.
** To open the demo's submissions: .venv/bin/triage init WORKSPACE -i {identity}
************************************************************************"""


def _write_private(path: Path, text: str) -> None:
    """Create a secret file exclusively with mode 0600 (never overwriting one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _demo_identity(path: Path) -> X25519Identity:
    if path.exists():
        return read_identities(path)[0]
    identity = X25519Identity.generate()
    write_identity_file(path, identity)
    return identity


def _rename_old_names(data_dir: Path) -> None:
    for old, new in _OLD_NAMES.items():
        if (data_dir / old).exists() and not (data_dir / new).exists():
            (data_dir / old).rename(data_dir / new)


def _demo_signing_key(data_dir: Path) -> SigningKey:
    _rename_old_names(data_dir)
    secret_path = data_dir / SIGNING_KEY_FILE
    if secret_path.exists():
        return SigningKey.from_file_text(secret_path.read_text(), None)
    signing_key = SigningKey.generate()
    _write_private(secret_path, signing_key.to_file_text(None))
    (data_dir / VERIFY_KEY_FILE).write_text(signing_key.verify_key().to_file_text())
    return signing_key


def demo_environ(data_dir: Path) -> dict[str, str]:
    """The environment of the demo: its keyring file lives in the data directory.

    Only the demo may do that (the service could rewrite its own keyring); so doctor expects
    the running user, not root, to own it. An INTAKE_KEYRING_FILE already set is kept.
    """
    environ = {**os.environ, "INTAKE_DATA_DIR": str(data_dir)}
    environ.setdefault("INTAKE_KEYRING_FILE", str(data_dir / KEYRING_FILE))
    environ.setdefault("INTAKE_KEYRING_OWNER_UID", str(os.geteuid()))
    return environ


def prepare_demo(data_dir: Path) -> str:
    """Init `data_dir`, make (or reuse) the demo investigator keys and add them to the
    keyring file (see `demo_environ`). Idempotent. Returns the demo key's fingerprint.
    """
    config = load_config(demo_environ(data_dir))
    engine = make_engine(config.database_url)
    try:
        init_data_dir(config, engine)
        identity = _demo_identity(config.data_dir / IDENTITY_FILE)
        signing_key = _demo_signing_key(config.data_dir)
        recipient = identity.recipient()
        known = (
            {key.fingerprint for key in read_keyring_file(config.keyring_file).keys}
            if config.keyring_file.exists()
            else set()
        )
        if fingerprint(recipient) not in known:
            add_to_file(
                config.keyring_file,
                NewKey.parse(
                    str(recipient),
                    name=DEMO_KEY_NAME,
                    signing_key=signing_key.verify_key().to_file_text(),
                ),
            )
        return fingerprint(recipient)
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intake.demo", description=__doc__)
    parser.add_argument("--data-dir", required=True, type=Path)
    args = parser.parse_args(argv)
    data_dir: Path = args.data_dir.absolute()
    key_fingerprint = prepare_demo(data_dir)
    print(
        _BANNER.format(identity=data_dir / IDENTITY_FILE, signing=data_dir / SIGNING_KEY_FILE),
        file=sys.stderr,
    )
    print(f"demo investigator key {key_fingerprint} is active", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
