"""The error funnel explains protocol failures itself: category -> exit code, message, hint."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from protocol.errors import CATEGORIES, Category, ProtocolError, UnsupportedVersionError
from tests.triage.helpers import group_raising
from triage.errors import ExitCode

EXIT_CODES = {
    "bundle": ExitCode.DAMAGED,
    "integrity": ExitCode.DAMAGED,
    "signature": ExitCode.SIGNATURE,
    "schema": ExitCode.DAMAGED,
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


@pytest.mark.parametrize(
    ("version", "hint"),
    [
        (3, "triage: hint: this bundle was made by a newer version; update triage"),
        (0, "triage: hint: this bundle was made by an older version; ask the admin to update "
         "intake and export again"),
    ],
)  # fmt: skip
def test_a_version_refusal_says_which_side_to_update(runner: CliRunner, version: int, hint: str):
    error = UnsupportedVersionError("export", version, (1, 2))
    result = runner.invoke(group_raising(error), ["boom"])
    assert result.exit_code == ExitCode.FAILURE
    assert result.stderr.splitlines() == [
        f"triage: error: unsupported_version: export bundle version {version} is not one this "
        "side reads (1/2)",
        hint,
    ]
