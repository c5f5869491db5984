"""The `triage` command line: one click group; each area registers its commands below."""

from __future__ import annotations

import click

from triage.cli._group import TriageGroup

__all__ = ["COMMANDS", "main", "triage"]

# One line per command: "name": "module:attribute". A module is imported only when its command
# runs or a help page lists it, so start-up stays small however many commands are added.
# Command modules import click at the top and anything heavier (crypto and PyNaCl, sqlalchemy,
# rich) inside the command function: ruff's TID253 refuses the modules listed as heavy in
# pyproject.toml at module level, and tests/triage/test_offline.py checks the start-up imports.
COMMANDS: dict[str, str] = {
    "decrypt": "triage.cli.age_cmds:decrypt",
    "encrypt": "triage.cli.age_cmds:encrypt",
    "keygen": "triage.cli.keygen:keygen",
    "init": "triage.cli.keygen:init",
    "import": "triage.cli.import_cmd:import_bundle",
    "list": "triage.cli.browse:list_submissions",
    "show": "triage.cli.browse:show",
    "extract": "triage.cli.browse:extract",
    "status": "triage.cli.edit:status",
    "tag": "triage.cli.edit:tag",
    "note": "triage.cli.edit:note",
    "links": "triage.cli.links_cmds:links",
    "incident": "triage.cli.links_cmds:incident",
    "log": "triage.cli.log_cmds:log",
    "reply": "triage.cli.reply_cmds:reply",
    "replies": "triage.cli.reply_cmds:replies",
    "rewrap": "triage.cli.rewrap_cmd:rewrap",
    "case": "triage.cli.case_cmds:case",
    "team": "triage.cli.team_cmds:team",
    "media": "triage.cli.media_cmds:media",
}


@click.group(
    cls=TriageGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("-v", "--verbose", is_flag=True, help="On failure, also print the traceback.")
@click.version_option(package_name="testimony-intake", prog_name="triage")
def triage(verbose: bool) -> None:
    """The offline investigator tool of Intake.

    It runs on an air-gapped machine: it never opens a network connection and never
    imports the web stack. On failure it prints `triage: error: ...` and `triage: hint: ...`
    lines on stderr and exits non-zero.
    """


def main() -> None:
    """Console-script entry point (`triage = "triage.cli:main"` in pyproject.toml)."""
    triage.main(prog_name="triage")
