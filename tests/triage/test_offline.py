"""triage stays offline and light: no web stack in any triage module, no PyNaCl in `--help`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import pytest
from pytest_socket import SocketBlockedError

WEB_STACK = {"flask", "werkzeug", "gunicorn", "flask_wtf", "flask_babel", "intake"}

# Runs in a fresh interpreter: this test process has imported all sorts of things already.
_IMPORT_EVERYTHING = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    import triage, triage.cli
    names = sorted(m.name for m in pkgutil.walk_packages(triage.__path__, "triage."))
    for name in names:
        importlib.import_module(name)
    top = sorted({m.split(".")[0] for m in sys.modules})
    print(json.dumps({"modules": names, "top": top}))
    """
)

_HELP_ONLY = textwrap.dedent(
    """
    import json, sys
    from triage.cli import triage
    try:
        triage.main(["--help"], prog_name="triage")
    except SystemExit:
        pass
    sys.stdout = sys.__stdout__
    print(json.dumps(sorted(sys.modules)))
    """
)

# The error funnel catches crypto's and protocol's errors by class, and `list` checks codes:
# those modules (standard library only) and the package files above them, which import
# nothing, are all `--help` may load of crypto and protocol.
LIGHT = {"crypto", "crypto.errors", "protocol", "protocol.errors", "protocol.codes"}


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1]


def test_no_triage_module_imports_the_web_stack():
    report = json.loads(_python(_IMPORT_EVERYTHING))
    assert "triage.cli.age_cmds" in report["modules"]
    assert "triage.errors" in report["modules"]
    assert "triage.workspace.models" in report["modules"]  # a package, so the walk enters it
    assert WEB_STACK.isdisjoint(report["top"])


def test_help_imports_neither_crypto_nor_heavy_libraries():
    loaded = set(json.loads(_python(_HELP_ONLY)))
    top = {name.split(".")[0] for name in loaded}
    assert "click" in top
    assert top.isdisjoint({"nacl", "sqlalchemy", "rich", *WEB_STACK})
    assert {m for m in loaded if m.split(".")[0] in {"crypto", "protocol"}} <= LIGHT


def test_sockets_are_disabled_in_triage_tests():
    # pytest-socket warns, then raises; with filterwarnings=error the warning is the exception.
    blocked = (SocketBlockedError, UserWarning)
    with pytest.raises(blocked, match="A test tried to use socket.socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
