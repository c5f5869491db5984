"""Debian's Chromium for the browser tests: where it is, how it starts, the marks its tests carry.

One place for what test_browser, test_browser_sealing and the Tor network's browser test share:
a browser that calls nobody home, so that every request a test sees is the site's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: the test may run as root in a container, where Chromium's sandbox cannot start.
# The rest keeps the browser from calling home, so that every request seen is the site's.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
# The marks of every module that drives Chromium against a live site on the loopback.
BROWSER_MARKS = [
    pytest.mark.slow,
    pytest.mark.enable_socket,
    pytest.mark.allow_hosts(["127.0.0.1"]),
    pytest.mark.skipif(
        not CHROMIUM.is_file(), reason=f"{CHROMIUM} is missing (make tools installs chromium)"
    ),
]


@contextmanager
def chromium(extra_args: Sequence[str] = ()) -> Iterator[Any]:
    """A headless Chromium (Playwright's Browser), closed on the way out."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield launched
        finally:
            launched.close()
