"""protocol.threads: a submission's testimony is itself or the testimony it names."""

from __future__ import annotations

from protocol import threads  # by module: pytest would collect a bare testimony_of


def test_a_testimony_is_its_own_and_a_later_submission_is_its_parents() -> None:
    assert threads.testimony_of("S-AAAAAAAAAAAAAAAA", None) == "S-AAAAAAAAAAAAAAAA"
    assert threads.testimony_of("S-BBBBBBBBBBBBBBBB", "S-AAAAAAAAAAAAAAAA") == "S-AAAAAAAAAAAAAAAA"
