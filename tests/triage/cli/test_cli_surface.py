"""The command line as a whole: lean start-up for `list`, every command documented, -i."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import click

from tests.triage.factory import build, export_bundle
from tests.triage.workbench import Bench, Investigator
from triage.cli import COMMANDS, triage
from triage.errors import ExitCode

DOCS = Path(__file__).resolve().parents[3] / "docs" / "triage.md"

_LIST_IMPORTS = textwrap.dedent(
    """
    import json, sys
    from triage.cli import triage
    try:
        triage.main(["list", "-w", sys.argv[1], "--search", "x"], prog_name="triage")
    except SystemExit:
        pass
    sys.stdout = sys.__stdout__
    print(json.dumps(sorted(sys.modules)))
    """
)


def test_list_loads_neither_sqlalchemy_nor_crypto(bench: Bench):
    # Importing SQLAlchemy's ORM alone costs more than half of list's 0.5 s budget.
    done = subprocess.run(
        [sys.executable, "-c", _LIST_IMPORTS, str(bench.root)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert {m.split(".")[0] for m in loaded}.isdisjoint({"sqlalchemy", "nacl", "rich"})
    # Of crypto and protocol: the error modules the funnel catches by class, and the code lists.
    light = {"crypto", "crypto.errors", "protocol", "protocol.errors", "protocol.codes"}
    assert {m for m in loaded if m.split(".")[0] in {"crypto", "protocol"}} <= light


def _documented_commands() -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    return set(re.findall(r"triage ([a-z]+)", text))


def test_every_command_and_subcommand_is_documented():
    documented = _documented_commands()
    text = DOCS.read_text(encoding="utf-8")
    for name in COMMANDS:
        assert name in documented, f"docs/triage.md does not mention 'triage {name}'"
        command = triage.get_command(click.Context(triage), name)
        if isinstance(command, click.Group):
            for sub in command.commands:
                assert f"triage {name} {sub}" in text, f"'triage {name} {sub}' undocumented"


def test_identity_override_names_another_key(bench: Bench, make_investigator, tmp_path: Path):
    other: Investigator = make_investigator("taras")
    bundle = export_bundle(tmp_path / "b", [build([bench.investigator.recipient])])
    result = bench.run("import", "-i", str(other.identity), str(bundle))
    assert result.exit_code == ExitCode.NO_MATCH
    assert other.fingerprint in result.stderr
