"""Fixtures for the fuzz tests: one set of keys and seeds for the session, built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz import seeds, targets


@pytest.fixture(scope="session")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="session")
def fuzz_keys() -> seeds.Keys:
    return seeds.Keys.generate()


@pytest.fixture(scope="session")
def fuzz_targets(fuzz_dir: Path, fuzz_keys: seeds.Keys) -> dict[str, targets.Target]:
    return {name: targets.build(name, fuzz_dir, fuzz_keys) for name in targets.NAMES}
