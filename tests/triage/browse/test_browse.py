"""list, show, extract, status, tag, note on imported submissions."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.triage.factory import Built, FileSpec, answers_for, build, export_bundle
from tests.triage.workbench import Bench
from triage.errors import ExitCode


@pytest.fixture
def imported(bench: Bench, tmp_path: Path) -> list[Built]:
    me = [bench.investigator.recipient]
    first = answers_for(B3=["torture"], B6_oblast="UA-23", B1="Бригада «Шторм» в селі")
    second = answers_for(B3=["civilians-killed", "torture"], B6_oblast="UA-63", D3=True)
    third = answers_for(B3=["deportation"], B1="They took the children by bus")
    subs = [
        build(me, answers=first, received_at=datetime(2024, 11, 20, 9, tzinfo=UTC),
              files=[FileSpec(b"1" * 200_000)]),
        build(me, answers=second, received_at=datetime(2024, 12, 1, 9, tzinfo=UTC)),
        build(me, answers=third, received_at=datetime(2025, 1, 5, 9, tzinfo=UTC)),
    ]  # fmt: skip
    assert bench.run("import", str(export_bundle(tmp_path / "e", subs))).exit_code == 0
    return subs


def _ids(bench: Bench, *args: str) -> list[str]:
    result = bench.run("list", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


def test_list_and_filters(bench: Bench, imported: list[Built]):
    first, second, third = (b.id for b in imported)
    assert _ids(bench) == [third, second, first]  # newest first
    assert _ids(bench, "--type", "torture") == [second, first]
    assert _ids(bench, "--oblast", "UA-63") == [second]
    assert _ids(bench, "--oblast", "zaporizhzhia") == [first]
    assert _ids(bench, "--since", "2024-12-01") == [third, second]
    assert _ids(bench, "--until", "2024-12-01") == [second, first]
    assert _ids(bench, "--search", "Shtorm") == [first]  # Latin finds Cyrillic
    assert _ids(bench, "--search", "children bus") == [third]
    assert _ids(bench, "--status", "new") == [third, second, first]
    table = bench.run("list", "--limit", "1").stdout
    assert "1 of 3 shown" in table
    assert third in table


def test_unknown_filter_values_are_usage_errors(bench: Bench, imported: list[Built]):
    result = bench.run("list", "--type", "nonsense")
    assert result.exit_code == ExitCode.USAGE
    assert "use one of:" in result.stderr


def test_show_lays_out_the_testimony_and_logs_the_view(bench: Bench, imported: list[Built]):
    shown = bench.run("show", imported[0].id.lower())  # ids are forgiving
    assert shown.exit_code == 0
    assert "Бригада «Шторм» в селі" in shown.stdout
    assert "Torture, beating, humiliation" in shown.stdout
    assert "verified" in shown.stdout
    assert hashlib.sha256(b"1" * 200_000).hexdigest() in shown.stdout
    assert "195.3 KiB" in shown.stdout
    log = (bench.root / "custody.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["action"] == "viewed"


def test_extract_is_bit_for_bit_and_never_overwrites(
    bench: Bench, imported: list[Built], tmp_path: Path
):
    out = tmp_path / "files"
    assert bench.run("extract", imported[0].id, "--to", str(out)).exit_code == 0
    (written,) = out.iterdir()
    assert written.read_bytes() == b"1" * 200_000
    again = bench.run("extract", imported[0].id, "--to", str(out))
    assert again.exit_code == ExitCode.IO
    assert "not overwriting" in again.stderr
    assert [p.name for p in out.iterdir()] == [written.name]


def test_statuses(bench: Bench, imported: list[Built]):
    first, second, _ = (b.id for b in imported)
    assert bench.run("status", first, "triaged", "--note", "seen it").exit_code == 0
    assert _ids(bench, "--status", "triaged") == [first]
    # needs-info is asked by a reply, which waits in the account: allowed without D3.
    asked = bench.run("status", first, "needs-info")
    assert asked.exit_code == 0
    assert "did not agree to be contacted otherwise" in asked.stderr
    assert "a reply waits in the witness's account" in asked.stderr
    assert bench.run("status", second, "needs-info").exit_code == 0
    assert bench.run("status", second, f"duplicate-of:{first}").exit_code == 0
    assert bench.run("status", first, "made-up").exit_code == ExitCode.USAGE
    assert "seen it" in bench.run("show", first).stdout


def test_tags_and_notes(bench: Bench, imported: list[Built]):
    first = imported[0].id
    assert bench.run("tag", first, "+POW", "+ua", "-ua").stdout.strip() == "pow"
    assert _ids(bench, "--tag", "pow") == [first]
    assert bench.run("note", first, "Позивний «Шторм» також у S-2").exit_code == 0
    assert "Позивний «Шторм» також у S-2" in bench.run("show", first).stdout
    log = (bench.root / "custody.jsonl").read_text().splitlines()
    actions = [json.loads(line)["action"] for line in log]
    assert {"tagged", "note_added"} <= set(actions)
