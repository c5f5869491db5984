"""The `triage` group: lazy commands, `-v`, and the one error funnel (messages and exit codes)."""

from __future__ import annotations

import errno

import click
import pytest
from click.testing import CliRunner

from crypto import errors as crypto_errors
from tests.triage.helpers import group_raising
from triage.cli import COMMANDS, _funnel, triage
from triage.errors import CRYPTO_EXIT_CODES, Diagnosis, ExitCode, TriageError


def test_every_registered_command_loads():
    for name in COMMANDS:
        assert isinstance(triage.get_command(click.Context(triage), name), click.Command)
    listed = triage.list_commands(click.Context(triage))
    assert listed == sorted(COMMANDS)
    assert {"decrypt", "encrypt"} <= set(listed)


def test_bare_group_shows_help_and_version(runner: CliRunner):
    assert "encrypt" in runner.invoke(triage, ["--help"]).stdout
    assert runner.invoke(triage, ["--version"]).stdout.startswith("triage, version ")


def test_unknown_command(runner: CliRunner):
    result = runner.invoke(triage, ["decrpyt"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.splitlines() == [
        "triage: error: no such command 'decrpyt'",
        "triage: hint: did you mean 'decrypt'?",
        "triage: hint: run 'triage --help' for usage",
    ]


def test_unknown_group_option(runner: CliRunner):
    result = runner.invoke(triage, ["--frobnicate"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.splitlines() == [
        "triage: error: no such option '--frobnicate'",
        "triage: hint: run 'triage --help' for usage",
    ]


def test_triage_error_with_hints_and_verbose_traceback(runner: CliRunner):
    error = TriageError("the thing broke", hints=["fix it", "then retry"], exit_code=ExitCode.IO)
    quiet = runner.invoke(group_raising(error), ["boom"])
    assert quiet.exit_code == ExitCode.IO
    assert quiet.stderr == (
        "triage: error: the thing broke\ntriage: hint: fix it\ntriage: hint: then retry\n"
    )
    loud = runner.invoke(group_raising(error), ["-v", "boom"])
    assert loud.stderr.startswith("Traceback (most recent call last):\n")
    assert loud.stderr.endswith(quiet.stderr)
    assert "TriageError: the thing broke" in loud.stderr
    hostile = TriageError("S-2\x1b]0;pwned\x07\x9b31m\r intact\u202e", exit_code=ExitCode.IO)
    loud = runner.invoke(group_raising(hostile), ["-v", "boom"])
    for char in ("\x1b", "\x9b", "\x07", "\r", "\u202e"):
        assert char not in loud.stderr, repr(char)


@pytest.mark.parametrize("category", sorted(CRYPTO_EXIT_CODES))
def test_crypto_categories_map_to_exit_codes_and_hints(runner: CliRunner, category: str):
    cls = next(c for c in vars(crypto_errors).values() if getattr(c, "category", "") == category)
    result = runner.invoke(group_raising(cls("Something failed.")), ["boom"])
    assert result.exit_code == CRYPTO_EXIT_CODES[category]
    error, hint = result.stderr.splitlines()
    assert error == "triage: error: something failed"
    assert hint.startswith("triage: hint: ")
    assert not hint.endswith(".")


def test_os_errors(runner: CliRunner):
    denied = PermissionError(errno.EACCES, "Permission denied", "/root/secret")
    result = runner.invoke(group_raising(denied), ["boom"])
    assert result.exit_code == ExitCode.IO
    assert result.stderr.splitlines() == [
        "triage: error: /root/secret: permission denied",
        "triage: hint: check the file's permissions",
    ]
    full = runner.invoke(group_raising(OSError(errno.ENOSPC, "No space left on device")), ["boom"])
    assert full.stderr == "triage: error: no space left on device\n"


def test_other_click_exceptions(runner: CliRunner):
    class OddExit(click.ClickException):
        exit_code = 42  # a class variable in click (its stubs refuse setting it on an instance)

    odd = OddExit("Odd failure.")
    result = runner.invoke(group_raising(odd), ["boom"])
    assert (result.exit_code, result.stderr) == (1, "triage: error: odd failure\n")
    unreadable = click.FileError("x.txt", "unreadable")
    result = runner.invoke(group_raising(unreadable), ["boom"])
    assert (result.exit_code, result.stderr) == (
        1,
        "triage: error: could not open file 'x.txt': unreadable\n",
    )


def test_interrupt_and_abort(runner: CliRunner):
    interrupted = runner.invoke(group_raising(KeyboardInterrupt()), ["boom"])
    assert (interrupted.exit_code, interrupted.stderr) == (130, "triage: error: interrupted\n")
    aborted = runner.invoke(group_raising(click.Abort()), ["boom"])
    assert (aborted.exit_code, aborted.stderr) == (1, "triage: error: aborted\n")


def test_a_bug_keeps_its_traceback_printed_inert(runner: CliRunner):
    # A bug's message can quote a bundle (a file name, a manifest line): it must not drive the
    # terminal either, so the funnel prints the traceback itself, neutralised line by line.
    hostile = "S-2\x1b[2J\x1b]0;pwned\x07\x9b31m\rcase bundle intact\u202e.txt"
    result = runner.invoke(group_raising(ZeroDivisionError(hostile)), ["boom"])
    assert result.exit_code == ExitCode.FAILURE
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "ZeroDivisionError: S-2case bundle intact.txt" in result.stderr
    assert "triage: error" not in result.stderr
    for char in ("\x1b", "\x9b", "\x07", "\r", "\u202e"):
        assert char not in result.stderr, repr(char)


def test_broken_pipe_is_left_to_click(runner: CliRunner):
    result = runner.invoke(group_raising(BrokenPipeError(errno.EPIPE, "Broken pipe")), ["boom"])
    assert "triage: error" not in result.stderr
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("raw", "tidied"),
    [
        ("No such file or directory.", "no such file or directory"),
        ("SHA256 mismatch.", "SHA256 mismatch"),
        ("X25519 stanza is malformed", "X25519 stanza is malformed"),
        ("  spread\nover  lines ", "spread over lines"),
        ("", ""),
    ],
)
def test_tidy(raw: str, tidied: str):
    assert _funnel.tidy(raw) == tidied


def test_diagnose_leaves_unknown_errors_alone():
    assert _funnel.diagnose(ValueError("x")) is None
    assert _funnel.diagnose(TriageError("y")) == Diagnosis("y", (), ExitCode.FAILURE)
