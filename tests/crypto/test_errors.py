"""crypto.errors stands alone: importing it (an error funnel does) loads no PyNaCl."""

from __future__ import annotations

import json
import subprocess
import sys


def loaded_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running `statement`."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_crypto_errors_loads_no_nacl():
    loaded = loaded_after("import crypto.errors")
    assert "crypto.errors" in loaded
    assert not {m for m in loaded if m.split(".")[0] in {"nacl", "_sodium"}}
    assert {m for m in loaded if m.split(".")[0] == "crypto"} == {"crypto", "crypto.errors"}


def test_the_package_itself_imports_nothing():
    assert {m for m in loaded_after("import crypto") if m.split(".")[0] == "crypto"} == {"crypto"}
