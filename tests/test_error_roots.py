"""One error shape: every layer's error root answers `diagnostics()` with the same type."""

from __future__ import annotations

import pytest

from crypto.errors import CryptoError, Diagnostics, HeaderError
from intake.errors import IntakeError, UnknownKeyError
from intake.web.receiving import BodyFailedError
from intake.web.services.codename import KdfBusyError
from intake.web.services.submit import AlreadyReceivedError, NoActiveKeyError
from protocol.errors import ProtocolError
from triage.errors import TriageError, refused


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            HeaderError("bad line"),
            Diagnostics("header", "bad line", (HeaderError.hint,)),
        ),
        (
            ProtocolError("bundle", "member 'x' is not in the manifest"),
            Diagnostics("bundle", "member 'x' is not in the manifest"),
        ),
        (
            UnknownKeyError("no key abc"),
            Diagnostics("keyring", "no key abc", (UnknownKeyError.default_hint or "",)),
        ),
        (
            refused("already exported", "pass --force"),
            Diagnostics("refused", "already exported", ("pass --force",)),
        ),
    ],
)
def test_every_root_gives_the_same_diagnostics_shape(error: Exception, expected: Diagnostics):
    assert isinstance(error, CryptoError | ProtocolError | IntakeError | TriageError)
    assert error.diagnostics() == expected


def test_diagnostics_text_is_category_message_then_hints():
    shown = Diagnostics("schema", "bad id", ("check the bundle", "ask the admin"))
    assert str(shown) == "schema: bad id\nhint: check the bundle\nhint: ask the admin"
    assert str(Diagnostics("bundle", "truncated")) == "bundle: truncated"


def test_the_web_layer_s_signals_have_the_server_s_root() -> None:
    """The witness site's refusals (busy, already received, no key, a body that failed) were
    bare Exceptions outside the one root; the site still maps each to its own calm page."""
    signals = [
        KdfBusyError(),
        AlreadyReceivedError(),
        NoActiveKeyError(),
        BodyFailedError(too_large=True),
    ]
    assert all(isinstance(signal, IntakeError) for signal in signals)
    assert [s.diagnostics().category for s in signals] == [
        "busy",
        "already_received",
        "no_active_key",
        "body",
    ]
