"""Every reader of hostile input, fed mutated and random bytes: only its typed error, quickly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import targets
from tests.fuzz.strategies import FUZZ, mutants, watchdog


@pytest.mark.parametrize("name", targets.NAMES)
@FUZZ
@given(data=st.data())
def test_only_typed_errors(name: str, data: st.DataObject, fuzz_targets: dict[str, targets.Target]) -> None:
    target = fuzz_targets[name]
    sample = data.draw(mutants(target.seeds, target.tokens), label="input")
    with watchdog():
        target.run(sample)


@pytest.mark.parametrize("name", targets.NAMES)
def test_every_seed_is_accepted_by_its_target(
    name: str, fuzz_targets: dict[str, targets.Target]
) -> None:
    # A target that refused its own seeds would fuzz nothing but the first check.
    target = fuzz_targets[name]
    assert target.seeds
    for seed in target.seeds:
        target.run(seed)
