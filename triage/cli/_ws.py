"""Options every workspace command shares (--workspace, -i, --passphrase-file) and its context."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from triage.cli._passphrase import Passphrases, passphrase_file_option
from triage.errors import usage

if TYPE_CHECKING:
    from triage.workspace.context import WorkContext

__all__ = ["CachedPassphrase", "with_workspace", "work_context"]

F = TypeVar("F", bound=Callable[..., Any])
ENV = "TRIAGE_WORKSPACE"


class CachedPassphrase:
    """Asks (or reads --passphrase-file) once; the same passphrase unlocks the age identity and
    the minisign key that `triage keygen` wrote beside it."""

    def __init__(self, passphrases: Passphrases, prompt: str) -> None:
        self._passphrases = passphrases
        self._prompt = prompt
        self._value: bytes | None = None

    def __call__(self) -> bytes:
        if self._value is None:
            self._value = self._passphrases.get(self._prompt)
        return self._value


@contextmanager
def work_context(
    workspace: Path | None, identity: Path | None, passphrase_file: Path | None
) -> Iterator[WorkContext]:
    """Open the workspace for one command; closes its database on the way out."""
    from triage.workspace.context import WorkContext  # noqa: PLC0415 - lean start-up

    if workspace is None:
        raise usage(
            "no workspace given",
            f"pass --workspace DIR or set {ENV}; create one with 'triage init'",
        )
    prompt = "Enter passphrase for your identity:"
    ctx = WorkContext.open(
        workspace, identity, CachedPassphrase(Passphrases(passphrase_file), prompt)
    )
    try:
        yield ctx
    finally:
        ctx.close()


def to_folder_option(help_text: str) -> Callable[[F], F]:
    """`--to DIR`, required: where a command writes files for the investigator (never over one)."""
    return click.option(
        "--to",
        "folder",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        metavar="DIR",
        help=help_text,
    )


def with_workspace(function: F) -> F:
    """Add --workspace, -i/--identity and --passphrase-file; call `function(ctx, **rest)`."""

    @functools.wraps(function)
    def wrapper(
        *, workspace: Path | None, identity: Path | None, passphrase_file: Path | None, **rest: Any
    ) -> Any:
        with work_context(workspace, identity, passphrase_file) as ctx:
            return function(ctx, **rest)

    decorated: Any = passphrase_file_option(wrapper)
    decorated = click.option(
        "-i",
        "--identity",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="IDENTITY",
        help="Use this identity file instead of the one the workspace remembers.",
    )(decorated)
    return cast(
        F,
        click.option(
            "-w",
            "--workspace",
            envvar=ENV,
            type=click.Path(file_okay=False, path_type=Path),
            metavar="DIR",
            help=f"The workspace directory (default: ${ENV}).",
        )(decorated),
    )
