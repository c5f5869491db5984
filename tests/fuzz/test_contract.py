"""Every reader of hostile input, fed mutated and random bytes: only its typed error, quickly.

The inputs run in a child process per target (tests.fuzz.sandbox), so that a reader that
hangs or crashes fails its test instead of stalling the suite.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import targets
from tests.fuzz.sandbox import Sandbox
from tests.fuzz.strategies import FUZZ, LARGE_REPR, mutants

pytestmark = LARGE_REPR


@pytest.mark.parametrize("name", targets.NAMES)
@FUZZ
@given(data=st.data())
def test_only_typed_errors(
    name: str,
    data: st.DataObject,
    fuzz_targets: dict[str, targets.Target],
    sandboxes: dict[str, Sandbox],
) -> None:
    target = fuzz_targets[name]
    sandboxes[name].run(data.draw(mutants(target.seeds, target.tokens), label="input"))


@pytest.mark.parametrize("name", targets.NAMES)
def test_seeds_run_cleanly(
    name: str, fuzz_targets: dict[str, targets.Target], sandboxes: dict[str, Sandbox]
) -> None:
    # A broken oracle would refuse valid input; then every fuzz example would be noise.
    target = fuzz_targets[name]
    assert target.seeds
    for seed in target.seeds:
        sandboxes[name].run(seed)
