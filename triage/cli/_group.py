"""The click group class behind `triage`: commands loaded on demand, failures sent to the funnel."""

from __future__ import annotations

import difflib
import errno
import importlib
from collections.abc import Mapping
from typing import Any, NoReturn

import click

from triage.cli._funnel import diagnose, print_traceback, report
from triage.errors import ExitCode

__all__ = ["TriageGroup"]


class TriageGroup(click.Group):
    """A click group whose subcommands are named as "module:attribute" and imported when used.

    Start-up cost then stays flat however many commands later areas add. Every failure raised
    while parsing or running a command goes through `_fail`, the one error funnel.
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            name = click.utils.make_str(args[0]) if args else ""
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            if not close or name.startswith("-"):
                raise
            raise click.UsageError(
                f"No such command {name!r}. Did you mean {close[0]!r}?", ctx
            ) from exc

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:  # bad options to the group itself
            _fail(exc, verbose=False)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            _fail(exc, verbose=bool(ctx.params.get("verbose")))


def _fail(exc: BaseException, *, verbose: bool) -> NoReturn:
    """Report a known failure and exit with its code; a bug gets its whole traceback."""
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        raise exc  # the reader went away (`| head`): click exits quietly, as Unix tools do
    diagnosis = diagnose(exc)
    if diagnosis is None:
        # Printed here rather than re-raised: Python's default hook would write the message
        # raw, and it may quote a hostile bundle. Exit 1, as an uncaught exception does.
        print_traceback(exc)
        raise click.exceptions.Exit(int(ExitCode.FAILURE)) from None
    report(diagnosis, exc=exc, verbose=verbose)
    raise click.exceptions.Exit(int(diagnosis.exit_code)) from None
