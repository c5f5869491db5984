"""What every `intake` command shares: exit codes, the error funnel, options, the database."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from intake.config import Config, load_config
from intake.db import SessionFactory, make_engine, make_session_factory
from intake.errors import DatabaseError, IntakeError
from intake.schema import schema_status

__all__ = [
    "Database",
    "ExitCode",
    "FunnelGroup",
    "config_options",
    "console",
    "json_option",
    "lazy_config_options",
    "open_database",
    "print_error",
]

PROG = "intake"
_F = TypeVar("_F", bound=Callable[..., Any])


class ExitCode(IntEnum):
    """Exit statuses of `intake`; scripts may rely on them."""

    OK = 0
    INTERNAL = 1  # a bug: run again with -v and report the traceback
    USAGE = 2  # click's own: unknown option, missing argument
    CONFIG = 3
    DATABASE = 4
    STORAGE = 5
    KEYRING = 6
    BUNDLE = 7
    PROBLEMS_FOUND = 8  # `intake doctor` found at least one problem
    LIVE_UNAVAILABLE = 9  # `intake stats --live` could read neither the front nor tor


_CATEGORY_EXIT = {
    "config": ExitCode.CONFIG,
    "database": ExitCode.DATABASE,
    "storage": ExitCode.STORAGE,
    "keyring": ExitCode.KEYRING,
    "bundle": ExitCode.BUNDLE,
    "live": ExitCode.LIVE_UNAVAILABLE,
}


def print_error(message: str, *hints: str) -> None:
    """`intake: error: …` then `intake: hint: …` on stderr (lowercase, no trailing period)."""
    click.echo(f"{PROG}: error: {message}", err=True)
    for hint in hints:
        click.echo(f"{PROG}: hint: {hint}", err=True)


def _as_intake_error(exc: Exception) -> IntakeError:
    if isinstance(exc, IntakeError):
        return exc
    if isinstance(exc, SQLAlchemyError):
        return DatabaseError(
            f"the database failed ({type(exc).__name__})",
            hint="run `intake doctor`; with -v the traceback is shown",
        )
    return IntakeError(
        f"unexpected internal error ({type(exc).__name__})",
        hint="run again with -v to see the traceback, and report it",
    )


class FunnelGroup(click.Group):
    """The one error funnel: every IntakeError (or unexpected error) leaves as our two lines."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if ctx.find_root().params.get("verbose"):
                traceback.print_exception(exc, file=sys.stderr)
            diagnostics = _as_intake_error(exc).diagnostics()
            print_error(diagnostics.message, *diagnostics.hints)
            code = _CATEGORY_EXIT.get(diagnostics.category, ExitCode.INTERNAL)
            raise click.exceptions.Exit(code) from exc


def _config_option_decorators(command: _F) -> _F:
    command = click.option(
        "--database-url",
        envvar="INTAKE_DATABASE_URL",
        help="sqlite:///PATH or postgresql+psycopg://USER@HOST/DB; default: SQLite in the data "
        "directory.  [env: INTAKE_DATABASE_URL]",
    )(command)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="INTAKE_DATA_DIR",
        help="Data directory (database, secret key, blobs).  [env: INTAKE_DATA_DIR]",
    )(command)


def _loader(data_dir: Path | None, database_url: str | None) -> Callable[[], Config]:
    environ = dict(os.environ)
    if data_dir is not None:
        environ["INTAKE_DATA_DIR"] = str(data_dir)
    if database_url:
        environ["INTAKE_DATABASE_URL"] = database_url
    return lambda: load_config(environ)


def config_options(command: _F) -> _F:
    """Add --data-dir and --database-url; the command receives `config: Config`."""

    @_config_option_decorators
    @functools.wraps(command)
    def wrapper(*args: Any, data_dir: Path | None, database_url: str | None, **kwargs: Any) -> Any:
        return command(*args, config=_loader(data_dir, database_url)(), **kwargs)

    return wrapper  # type: ignore[return-value]


def lazy_config_options(command: _F) -> _F:
    """As config_options, but the command receives `load_config: () -> Config` and calls it
    only when it needs the installation (`intake stats --live` runs as root without one)."""

    @_config_option_decorators
    @functools.wraps(command)
    def wrapper(*args: Any, data_dir: Path | None, database_url: str | None, **kwargs: Any) -> Any:
        return command(*args, load_config=_loader(data_dir, database_url), **kwargs)

    return wrapper  # type: ignore[return-value]


def json_option(command: _F) -> _F:
    """Add --json: machine-readable output on stdout (the command receives `as_json`)."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        command
    )


def console() -> Console:
    """A rich console on the current stdout; wide when not a terminal, so nothing is cut."""
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)


@dataclass(frozen=True)
class Database:
    """An open, migrated database for one command."""

    engine: Engine
    sessions: SessionFactory


@contextmanager
def open_database(config: Config) -> Iterator[Database]:
    """The database, checked to be at the schema this code needs. Raises DatabaseError."""
    engine = make_engine(config.database_url)
    try:
        status = schema_status(engine)
        if not status.at_head:
            raise DatabaseError(
                f"the database schema is at {status.current or 'nothing'}, not {status.head}",
                hint="run `intake init` for a new data directory, `intake migrate` otherwise",
            )
        yield Database(engine=engine, sessions=make_session_factory(engine))
    finally:
        engine.dispose()
