"""The protocol error root: stable categories only, importable without crypto or PyNaCl."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from protocol.errors import CATEGORIES, ProtocolError


def test_categories_are_stable_and_checked() -> None:
    assert {"bundle", "integrity", "signature", "schema", "unsupported_version"} == CATEGORIES
    error = ProtocolError("bundle", "member 'x' is not in the manifest")
    assert error.category == "bundle"
    assert str(error.diagnostics()) == "bundle: member 'x' is not in the manifest"
    assert str(error) == "member 'x' is not in the manifest"
    with pytest.raises(ValueError, match="unknown protocol error category"):
        ProtocolError("oops", "x")  # type: ignore[arg-type]


def test_importing_protocol_errors_loads_no_nacl_and_only_crypto_errors() -> None:
    # The one Diagnostics shape lives in crypto.errors (standard library only): that is all of
    # crypto an error funnel or a light CLI start-up may load through protocol.errors.
    code = "import json, sys\nimport protocol.errors\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert {m for m in loaded if m.split(".")[0] in {"protocol", "crypto", "nacl", "_sodium"}} == {
        "protocol",
        "protocol.errors",
        "crypto",
        "crypto.errors",
    }
