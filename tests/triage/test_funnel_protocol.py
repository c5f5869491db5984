"""The error funnel explains protocol failures itself: category -> exit code, message, hint."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from protocol.errors import CATEGORIES, Category, ProtocolError
from tests.triage.helpers import group_raising
from triage.errors import ExitCode

EXIT_CODES = {
    "bundle": ExitCode.DAMAGED,
    "integrity": ExitCode.DAMAGED,
    "signature": ExitCode.SIGNATURE,
    "schema": ExitCode.FAILURE,
    "unsupported_version": ExitCode.FAILURE,
}


def test_every_category_has_an_exit_code_here():
    assert set(EXIT_CODES) == CATEGORIES


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_protocol_categories_map_to_exit_codes_and_hints(runner: CliRunner, category: Category):
    error = ProtocolError(category, "Item blobs/x is  not what the manifest says.")
    result = runner.invoke(group_raising(error), ["boom"])
    assert result.exit_code == EXIT_CODES[category]
    message, hint = result.stderr.splitlines()
    assert message == f"triage: error: {category}: Item blobs/x is not what the manifest says"
    assert hint.startswith("triage: hint: ")
    assert not hint.endswith(".")


def test_verbose_shows_the_protocol_traceback(runner: CliRunner):
    error = ProtocolError("signature", "no signature")
    result = runner.invoke(group_raising(error), ["-v", "boom"])
    assert result.exit_code == ExitCode.SIGNATURE
    assert "protocol.errors.ProtocolError: no signature" in result.stderr
    assert result.stderr.endswith(
        "triage: error: signature: no signature\n"
        "triage: hint: the bundle is not signed by the key you expect\n"
    )
