"""The committed in-browser sealing script is exactly what `make js` builds from the lockfile.

The witness's browser runs intake/web/static/seal.js; a reviewer reads js/src/*.js and
js/package-lock.json. This test rebuilds the bundle with the pinned esbuild and compares the
bytes, so the two can never drift apart unnoticed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from intake.web.static import STATIC_DIR

JS_DIR = Path(__file__).resolve().parents[3] / "js"
ESBUILD = JS_DIR / "node_modules" / ".bin" / "esbuild"


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is missing (Debian: apt install npm)")
@pytest.mark.skipif(
    not ESBUILD.exists(),
    reason="js/node_modules is missing: run `make js` (.ci/run runs `npm ci` in js/)",
)
def test_rebuilding_the_bundle_gives_the_committed_bytes(tmp_path: Path) -> None:
    out = tmp_path / "seal.js"
    subprocess.run([str(JS_DIR / "build.sh"), str(out)], check=True, timeout=120)
    assert out.read_bytes() == (STATIC_DIR / "seal.js").read_bytes()


def test_every_build_dependency_is_pinned_exactly() -> None:
    package = json.loads((JS_DIR / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((JS_DIR / "package-lock.json").read_text(encoding="utf-8"))
    for name, version in package["devDependencies"].items():
        assert version[0].isdigit(), f"{name} is not pinned to one version: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    for path, entry in lock["packages"].items():
        if path:
            # The registry is the client's (no `resolved` URL); the hash pins the bytes.
            assert entry["integrity"].startswith("sha512-"), path
