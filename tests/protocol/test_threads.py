"""protocol.threads: a submission's testimony is itself or the testimony it names."""

from __future__ import annotations

from protocol import threads


def test_a_testimony_is_its_own_and_a_later_submission_is_its_parents() -> None:
    assert threads.thread_root("S-AAAAAAAAAAAAAAAA", None) == "S-AAAAAAAAAAAAAAAA"
    assert threads.thread_root("S-BBBBBBBBBBBBBBBB", "S-AAAAAAAAAAAAAAAA") == "S-AAAAAAAAAAAAAAAA"
