"""One private Tor network per test session, with the deployment behind its onion service.

It starts when the first test here asks for it and stops at the end of the session (or when
bring-up fails: `bring_up` stops what it started before raising). A network that does not come
up within BRING_UP_SECONDS fails the tests that need it with the step it stopped at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tornet.network import TornetError, binary
from tests.tornet.stack import Stack, running


@pytest.fixture(scope="session")
def tornet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    try:
        binary("tor")
        binary("tor-gencert")
    except TornetError as error:
        pytest.skip(str(error))
    with running(tmp_path_factory.mktemp("tornet")) as stack:
        yield stack
