"""`intake keys add|list|retire|rotate|revoke|export-file`: the investigator keyring file.

The changing commands are run by the admin as root (`sudo intake keys …`): they edit the
keyring file atomically and never open the database, so a root-run command cannot leave
root-owned database files behind. `list` and `export-file` read the database too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.table import Table

from intake.cli._common import config_options, console, json_option, open_database
from intake.clock import utc_today
from intake.config import Config
from intake.errors import MalformedKeyError
from intake.keyring import (
    KeyChange,
    KeyInfo,
    Keyring,
    KeyringFile,
    NewKey,
    add_key,
    edit_keyring_file,
    merge_exported,
    retire_key,
    revoke_key,
    rotate_key,
)
from intake.keyring.cache import rows_as_entries
from intake.models import KeyStatus

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
    """Investigator keys (the keyring file): new submissions are sealed to every active key."""


@contextmanager
def _keyring(config: Config) -> Iterator[Keyring]:
    with open_database(config) as db:
        yield Keyring(config.keyring_file, db.sessions)


def _one(edited: tuple[KeyringFile, KeyChange]) -> tuple[KeyringFile, tuple[KeyChange, ...]]:
    return edited[0], (edited[1],)


def _echo_changes(config: Config, changes: tuple[KeyChange, ...], ring: KeyringFile) -> None:
    for change in changes:
        click.echo(change.describe())
    click.echo(f"wrote {config.keyring_file}: {len(ring.active)} active key(s)")
    if not ring.active:
        click.echo(
            "intake: warning: no active key is left; the site now refuses submissions", err=True
        )


def _apply(
    config: Config, change: Callable[[KeyringFile], tuple[KeyringFile, tuple[KeyChange, ...]]]
) -> None:
    """Edit the keyring file with `change` (atomic, locked) and print what changed."""

    def run(ring: KeyringFile) -> tuple[KeyringFile, tuple[tuple[KeyChange, ...], KeyringFile]]:
        updated, changes = change(ring)
        return updated, (changes, updated)

    changes, ring = edit_keyring_file(config.keyring_file, run)
    _echo_changes(config, changes, ring)


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
    _apply(config, lambda ring: _one(add_key(ring, new, utc_today())))
    click.echo("the next submission is sealed to it")


@keys_group.command("list")
@json_option
@config_options
def list_command(config: Config, as_json: bool) -> None:
    """Every key in the file: name, fingerprint, state, days, blobs sealed to it."""
    with _keyring(config) as keyring:
        keys = keyring.list_keys()
    if as_json:
        click.echo(json.dumps([_key_json(key) for key in keys], indent=2))
        return
    if not keys:
        click.echo("no keys; the site refuses submissions until one is added")
        return
    table = Table("name", "fingerprint", "state", "added", "retired", "revoked", "sealed blobs")
    for key in keys:
        table.add_row(
            key.name,
            key.fingerprint,
            key.status.value,
            key.added_on.isoformat(),
            key.retired_on.isoformat() if key.retired_on else "",
            key.revoked_on.isoformat() if key.revoked_on else "",
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
        "revoked_on": key.revoked_on.isoformat() if key.revoked_on else None,
        "sealed_blobs": key.sealed_blobs,
    }


@keys_group.command("retire")
@click.argument("fingerprint")
@click.option(
    "--force", is_flag=True, help="Retire even the last active key (the site stops accepting)."
)
@config_options
def retire(config: Config, fingerprint: str, force: bool) -> None:
    """Retire the key FINGERPRINT (routine rotation): nothing new is sealed to it, and its
    acks purge only what was exported sealed to it."""
    _apply(config, lambda ring: _one(retire_key(ring, fingerprint, force=force, today=utc_today())))


@keys_group.command("revoke")
@click.argument("fingerprint")
@config_options
def revoke(config: Config, fingerprint: str) -> None:
    """Revoke the key FINGERPRINT (compromised): it authorises nothing, not even an old ack."""
    _apply(config, lambda ring: _one(revoke_key(ring, fingerprint, today=utc_today())))
    click.echo(
        "stored submissions stay sealed to it until re-wrapped: triage rewrap, then "
        "intake keys apply-rewrap"
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
    _apply(config, lambda ring: rotate_key(ring, old_fingerprint, new, utc_today()))
    click.echo(
        "the next submission is sealed to the new key; stored blobs stay sealed to the retired "
        "key until re-wrapped: triage rewrap, then intake keys apply-rewrap"
    )


@keys_group.command("export-file")
@config_options
def export_file(config: Config) -> None:
    """Upgrade step, once, as root: write the database's keyring rows to the keyring file.

    Refused when the file already holds keys. Check every key it prints: a row inserted into
    the database before the upgrade would be written out too.
    """
    with open_database(config) as db, db.sessions() as session:
        entries = rows_as_entries(session)
    added = edit_keyring_file(config.keyring_file, lambda ring: merge_exported(ring, entries))
    for entry in added:
        click.echo(f"wrote {entry.fingerprint} ({entry.name}, {entry.state.value})")
    active = sum(1 for e in added if e.state is KeyStatus.ACTIVE)
    click.echo(f"wrote {config.keyring_file}: {len(added)} key(s), {active} active")
    click.echo("check each key above with its investigator; then run `intake doctor`")


def register(cli: click.Group) -> None:
    cli.add_command(keys_group)
