"""Every folder of modules is a package, so import-linter and the walks in tests see its code."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# tests mirror the tree, so their folders are packages too (pytest imports them as tests.<path>).
PACKAGES = ("crypto", "protocol", "intake", "triage", "tests")


def test_every_folder_with_modules_has_an_init():
    # A folder without __init__.py is a namespace package: import-linter and pkgutil skip it
    # silently, and with it every contract on the modules inside.
    missing = sorted(
        str(folder.relative_to(ROOT))
        for package in PACKAGES
        for folder in {p.parent for p in (ROOT / package).rglob("*.py")}
        if not (folder / "__init__.py").is_file()
    )
    assert missing == []
