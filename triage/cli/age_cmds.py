"""`triage encrypt` and `triage decrypt`: the subset of the age command line that triage needs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from crypto.errors import NoIdentityMatchError
from triage.cli import _streams
from triage.cli._age_keys import (
    PEEK_SIZE,
    is_passphrase_sealed,
    load_identities,
    load_recipients,
    no_match_error,
)
from triage.cli._passphrase import Passphrases, passphrase_file_option
from triage.errors import ExitCode, TriageError

if TYPE_CHECKING:
    from crypto.header import Identity, Recipient

__all__ = ["decrypt", "encrypt"]

# Read 1 MiB at a time: 16 STREAM chunks per write, so the sealer can spread them over cores.
_READ_SIZE = 1 << 20
# What may reach a terminal: text bytes (UTF-8 lead and continuation bytes included), and not
# the UTF-8 encoding of a C1 control such as U+009B, which some terminals obey as CSI.
_TEXT_BYTES = b"\t\n\r" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")

_ENCRYPT_EPILOG = """\
INPUT defaults to standard input. Binary output is refused when it would go to a
terminal: use -o OUTPUT or -a. With -o, OUTPUT appears (or is replaced) only once
the whole file is sealed.

\b
Examples:
  triage encrypt -r age1... -o notes.txt.age notes.txt
  triage encrypt -R investigators.txt -a < notes.txt > notes.txt.age
  triage encrypt -p --passphrase-file pass.txt -o notes.txt.age notes.txt
"""

_DECRYPT_EPILOG = """\
INPUT defaults to standard input; armored input is recognised. Without -i, INPUT
must be sealed with a passphrase, which is asked on the terminal (or read with
--passphrase-file).

With -o, plaintext is written to a temporary file beside OUTPUT, which is renamed
to OUTPUT (replacing an existing file, as age does) only after the last chunk has
authenticated: on any failure nothing is left at OUTPUT.

To standard output, plaintext is streamed as each 64 KiB chunk authenticates. If a
later chunk fails (a truncated or tampered file), triage stops, prints an error and
exits non-zero: whatever was already written must then be discarded. To a terminal,
output containing control characters is refused.

\b
Examples:
  triage decrypt -i key.txt -o notes.txt notes.txt.age
  triage decrypt -i key.txt notes.txt.age | less
"""


@click.command(epilog=_ENCRYPT_EPILOG)
@click.option(
    "-r",
    "--recipient",
    "recipients",
    multiple=True,
    metavar="RECIPIENT",
    help="Seal to this age public key (age1...). Repeatable.",
)
@click.option(
    "-R",
    "--recipients-file",
    "recipient_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="Seal to every recipient listed in PATH, one per line. Repeatable.",
)
@click.option(
    "-p",
    "--passphrase",
    "use_passphrase",
    is_flag=True,
    help="Seal with a passphrase (scrypt), asked twice on the terminal.",
)
@passphrase_file_option
@click.option("-a", "--armor", is_flag=True, help="Write PEM-style ASCII armor, not binary.")
@_streams.output_option
@click.argument("input_name", metavar="[INPUT]", required=False)
def encrypt(
    *,
    recipients: tuple[str, ...],
    recipient_files: tuple[Path, ...],
    use_passphrase: bool,
    passphrase_file: Path | None,
    armor: bool,
    output: str | None,
    input_name: str | None,
) -> None:
    """Seal INPUT as an age file to recipients or with a passphrase."""
    target = _streams.output_path(output)
    if target is None and not armor and _streams.is_terminal(_streams.stdout()):
        raise TriageError(
            "refusing to write binary output to the terminal",
            hints=["write to a file with -o OUTPUT, or use -a/--armor for text"],
            exit_code=ExitCode.USAGE,
        )
    sealed_to = load_recipients(
        recipients, recipient_files, use_passphrase, Passphrases(passphrase_file)
    )
    with _streams.open_input(input_name) as source:
        if target is None:
            _seal(source, _streams.stdout(), sealed_to, armor=armor)
        elif _streams.streams_into(target):
            with target.open("wb") as sink:
                _seal(source, sink, sealed_to, armor=armor)
        else:
            with _streams.atomic_output(target) as sink:
                _seal(source, sink, sealed_to, armor=armor)


@click.command(epilog=_DECRYPT_EPILOG)
@click.option(
    "-i",
    "--identity",
    "identity_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="Open with the identities in PATH (age-keygen format, or passphrase-protected). "
    "Repeatable.",
)
@passphrase_file_option
@_streams.output_option
@click.argument("input_name", metavar="[INPUT]", required=False)
def decrypt(
    *,
    identity_files: tuple[Path, ...],
    passphrase_file: Path | None,
    output: str | None,
    input_name: str | None,
) -> None:
    """Open an age file sealed to your identities or with a passphrase."""
    target = _streams.output_path(output)
    passphrases = Passphrases(passphrase_file)
    with _streams.open_input(input_name) as raw:
        head, source = _streams.peek(raw, PEEK_SIZE)
        identities = load_identities(
            identity_files, passphrases, passphrase_sealed=is_passphrase_sealed(head)
        )
        try:
            if target is None:
                _open_to(source, _streams.stdout(), identities, check_terminal=True)
            elif _streams.streams_into(target):
                with target.open("wb") as sink:
                    _open_to(source, sink, identities, check_terminal=False)
            else:
                from crypto.age import open_to_file

                open_to_file(source, identities, target)
        except NoIdentityMatchError as exc:
            raise no_match_error(identity_files, identities) from exc


def _seal(
    source: BinaryIO, sink: BinaryIO, recipients: Sequence[Recipient], *, armor: bool
) -> None:
    from crypto.age import Sealer

    with Sealer(sink, recipients, armor=armor) as sealer:
        while block := source.read(_READ_SIZE):
            sealer.write(block)
    sink.flush()


def _open_to(
    source: BinaryIO, sink: BinaryIO, identities: Sequence[Identity], *, check_terminal: bool
) -> None:
    from crypto.age import open_stream

    to_terminal = check_terminal and _streams.is_terminal(sink)
    for chunk in open_stream(source, identities):
        if to_terminal and _has_control_characters(chunk):
            raise TriageError(
                "refusing to write binary output to the terminal",
                hints=["write to a file with -o OUTPUT"],
                exit_code=ExitCode.USAGE,
            )
        sink.write(chunk)
    sink.flush()


def _has_control_characters(chunk: bytes) -> bool:
    # Escape sequences hidden in a sealed file must not drive the terminal. Tab, newline and
    # carriage return are text; C0 controls, DEL and UTF-8-encoded C1 controls are not.
    return bool(chunk.translate(None, _TEXT_BYTES)) or _C1_CONTROL.search(chunk) is not None
