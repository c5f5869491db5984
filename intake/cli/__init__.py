"""The admin CLI `intake`: a click group whose commands live in intake/cli/<area>.py.

Each public module here (no leading underscore) defines `register(cli: click.Group)` and is
picked up automatically, so a new area (export, purge, replies) adds a file, not an edit.
A module adding a subcommand to another area's group imports that group (e.g.
`from intake.cli.keys import keys_group`) inside its `register`.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from intake.cli._common import ExitCode, FunnelGroup

__all__ = ["ExitCode", "main"]


@click.group("intake", cls=FunnelGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show the traceback when a command fails.")
@click.version_option(package_name="testimony-intake", prog_name="intake")
def main(verbose: bool) -> None:
    """Run and administer Intake: keys, the witness site, stats and checks."""


def _register_commands(group: click.Group) -> None:
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        module.register(group)


_register_commands(main)
