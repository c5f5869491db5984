"""The protocol error root: stable categories only."""

from __future__ import annotations

import pytest

from protocol.errors import CATEGORIES, ProtocolError


def test_categories_are_stable_and_checked() -> None:
    assert {"bundle", "integrity", "signature", "schema", "unsupported_version"} == CATEGORIES
    error = ProtocolError("bundle", "member 'x' is not in the manifest")
    assert error.category == "bundle"
    assert error.diagnostics() == "bundle: member 'x' is not in the manifest"
    assert str(error) == "member 'x' is not in the manifest"
    with pytest.raises(ValueError, match="unknown protocol error category"):
        ProtocolError("oops", "x")  # type: ignore[arg-type]
