"""Fixtures for the fuzz tests: deterministic keys, the targets, and their sandboxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz import seeds, targets
from tests.fuzz.sandbox import Sandbox


@pytest.fixture(scope="session")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="session")
def fuzz_keys() -> seeds.Keys:
    return seeds.Keys.fixed()


@pytest.fixture(scope="session")
def fuzz_targets(fuzz_dir: Path) -> dict[str, targets.Target]:
    return {name: targets.build(name, fuzz_dir) for name in targets.NAMES}


@pytest.fixture(scope="session")
def sandboxes(fuzz_dir: Path) -> Iterator[dict[str, Sandbox]]:
    """One child per target, started together, and ready before any example is timed."""
    started = {name: Sandbox(name, fuzz_dir / "sandboxes") for name in targets.NAMES}
    for sandbox in started.values():
        sandbox.wait_ready()
    yield started
    for sandbox in started.values():
        sandbox.close()
