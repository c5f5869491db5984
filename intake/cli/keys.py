"""`intake keys add|list|retire|rotate`: the investigator keyring."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.table import Table

from intake.cli._common import config_options, console, json_option, open_database
from intake.config import Config
from intake.errors import MalformedKeyError
from intake.keyring import KeyInfo, Keyring, NewKey

__all__ = ["keys_group", "register"]

# A minisign public key file is two short lines; refuse to read anything much larger.
MAX_SIGNING_KEY_FILE = 4096

_signing_key_option = click.option(
    "--signing-key",
    "signing_key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The investigator's minisign public key file (.pub, from `triage keygen`).",
)
_name_option = click.option("--name", required=True, help="Who holds the key (shown in lists).")


@click.group("keys")
def keys_group() -> None:
    """Investigator keys: new submissions are sealed to every active key."""


@contextmanager
def _keyring(config: Config) -> Iterator[Keyring]:
    with open_database(config) as db:
        yield Keyring(db.sessions)


def _new_key(recipient: str, name: str, signing_key_file: Path) -> NewKey:
    raw = signing_key_file.read_bytes()[: MAX_SIGNING_KEY_FILE + 1]
    if len(raw) > MAX_SIGNING_KEY_FILE:
        raise MalformedKeyError(f"{signing_key_file} is too large to be a minisign public key")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedKeyError(f"{signing_key_file} is not a minisign public key file") from exc
    return NewKey.parse(recipient, name=name, signing_key=text)


@keys_group.command("add")
@click.argument("recipient")
@_name_option
@_signing_key_option
@config_options
def add(config: Config, recipient: str, name: str, signing_key_file: Path) -> None:
    """Add an investigator's age RECIPIENT (age1…) and minisign public key, active at once."""
    new = _new_key(recipient, name, signing_key_file)
    with _keyring(config) as keyring:
        info = keyring.add(new)
    click.echo(f"added {info.fingerprint} ({info.name}); the next submission is sealed to it")


@keys_group.command("list")
@json_option
@config_options
def list_command(config: Config, as_json: bool) -> None:
    """Every key: name, fingerprint, status, days added and retired, blobs sealed to it."""
    with _keyring(config) as keyring:
        keys = keyring.list_keys()
    if as_json:
        click.echo(json.dumps([_key_json(key) for key in keys], indent=2))
        return
    if not keys:
        click.echo("no keys; the site refuses submissions until one is added")
        return
    table = Table("name", "fingerprint", "status", "added", "retired", "sealed blobs")
    for key in keys:
        table.add_row(
            key.name,
            key.fingerprint,
            key.status.value,
            key.added_on.isoformat(),
            key.retired_on.isoformat() if key.retired_on else "",
            str(key.sealed_blobs),
        )
    console().print(table)


def _key_json(key: KeyInfo) -> dict[str, object]:
    return {
        "name": key.name,
        "fingerprint": key.fingerprint,
        "recipient": key.recipient,
        "signing_key_id": key.signing_key_id,
        "status": key.status.value,
        "added_on": key.added_on.isoformat(),
        "retired_on": key.retired_on.isoformat() if key.retired_on else None,
        "sealed_blobs": key.sealed_blobs,
    }


@keys_group.command("retire")
@click.argument("fingerprint")
@click.option(
    "--force", is_flag=True, help="Retire even the last active key (the site stops accepting)."
)
@config_options
def retire(config: Config, fingerprint: str, force: bool) -> None:
    """Retire the key FINGERPRINT: no new submission is sealed to it (stored ones still are)."""
    with _keyring(config) as keyring:
        info = keyring.retire(fingerprint, force=force)
        accepting = keyring.has_active_key()
    click.echo(f"retired {info.fingerprint} ({info.name})")
    if not accepting:
        click.echo(
            "intake: warning: no active key is left; the site now refuses submissions", err=True
        )


@keys_group.command("rotate")
@click.argument("old_fingerprint")
@click.argument("new_recipient")
@_name_option
@_signing_key_option
@config_options
def rotate(
    config: Config, old_fingerprint: str, new_recipient: str, name: str, signing_key_file: Path
) -> None:
    """Replace OLD_FINGERPRINT by NEW_RECIPIENT in one step (new active, old retired).

    Stored submissions stay sealed to the old key until `triage rewrap` and
    `intake keys apply-rewrap`.
    """
    new = _new_key(new_recipient, name, signing_key_file)
    with _keyring(config) as keyring:
        old, added = keyring.rotate(old_fingerprint, new)
        waiting = sum(
            k.sealed_blobs for k in keyring.list_keys() if k.fingerprint == old.fingerprint
        )
    click.echo(f"retired {old.fingerprint} ({old.name})")
    click.echo(f"added {added.fingerprint} ({added.name}); the next submission is sealed to it")
    if waiting:
        click.echo(
            f"{waiting} stored blob(s) stay sealed to the retired key until re-wrapped: "
            "triage rewrap, then intake keys apply-rewrap"
        )


def register(cli: click.Group) -> None:
    cli.add_command(keys_group)
