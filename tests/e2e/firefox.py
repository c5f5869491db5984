"""Debian's Firefox ESR for the browser tests and bench/, driven through marionette.

Debian packages no geckodriver, so the browser is started here with `--marionette` on a free
port and driven with Mozilla's own client (`marionette-driver`, PyPI). Each start gets a fresh
profile whose user.js keeps the browser from calling home (updates, telemetry, captive portal,
safe browsing, normandy, remote settings, push…), every pref read back once it runs, and
MOZ_DISABLE_NONLOCAL_CONNECTIONS refuses whatever a pref misses, so that every request a test
sees is the site's (tests/e2e/test_firefox_quiet.py proves it with strace). `NO_JIT` is the
JavaScript engine of Tor Browser at "Safer": SpiderMonkey's baseline and optimising JITs off,
and WebAssembly off. The browser runs in its own process group, killed on the way out whatever
state it is in.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

FIREFOX = Path("/usr/bin/firefox-esr")
START_SECONDS = 60

Pref = bool | int | str

# Nothing calling home: every request the browser makes is then the page's.
QUIET_PREFS: dict[str, Pref] = {
    "app.update.auto": False,
    "app.update.enabled": False,
    "app.update.disabledForTesting": True,
    "app.normandy.enabled": False,
    "app.normandy.api_url": "",
    "app.shield.optoutstudies.enabled": False,
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.server": "",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "browser.ping-centre.telemetry": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.downloads.remote.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "extensions.update.enabled": False,
    "extensions.blocklist.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "media.gmp-manager.updateEnabled": False,
    "browser.search.update": False,
    "browser.region.update.enabled": False,
    "browser.region.network.url": "",
    "geo.provider.network.url": "",
    "dom.push.connection.enabled": False,
    "network.trr.mode": 5,
    "network.prefetch-next": False,
    "network.dns.disablePrefetch": True,
    "network.http.speculative-parallel-limit": 0,
    "network.proxy.type": 0,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.page": 0,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.newtabpage.enabled": False,
    "browser.aboutwelcome.enabled": False,
    "browser.topsites.contile.enabled": False,
    # Plain http:// stays plain (the tests serve the loopback without TLS).
    "dom.security.https_first": False,
    "dom.security.https_only_mode": False,
}
# Release builds ignore `services.settings.server` (remote settings obey it only with
# MOZ_REMOTE_SETTINGS_DEVTOOLS=1) and look up firefox.settings.services.mozilla.com anyway: the
# test harness's switch makes Gecko refuse any connection, DNS included, outside the loopback.
QUIET_ENV = {
    "MOZ_HEADLESS": "1",
    "MOZ_CRASHREPORTER_DISABLE": "1",
    "MOZ_DISABLE_NONLOCAL_CONNECTIONS": "1",
}
# Tor Browser's "Safer": no JIT at all (SpiderMonkey interprets) and no WebAssembly.
NO_JIT: dict[str, Pref] = {
    "javascript.options.ion": False,
    "javascript.options.baselinejit": False,
    "javascript.options.wasm": False,
}
FIREFOX_MARKS = [
    pytest.mark.slow,
    pytest.mark.enable_socket,
    pytest.mark.allow_hosts(["127.0.0.1"]),
    pytest.mark.skipif(
        not FIREFOX.is_file(), reason=f"{FIREFOX} is missing (make tools installs firefox-esr)"
    ),
]


def _marionette_class() -> Any:
    """marionette_driver.Marionette, imported quietly: its mozinfo calls a deprecated `distro`
    function at import time, which the test run's warnings-as-errors would turn into a failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from marionette_driver.marionette import Marionette  # noqa: PLC0415 - see above

    return Marionette


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_profile(profile: Path, prefs: Mapping[str, Pref]) -> None:
    """A fresh profile directory whose user.js holds `prefs`."""
    profile.mkdir(parents=True, exist_ok=True)
    lines = [
        f"user_pref({json.dumps(name)}, {json.dumps(value)});" for name, value in prefs.items()
    ]
    (profile / "user.js").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    """Until marionette listens. Polled here, each socket closed: the client's own poll leaves
    every refused socket open, a ResourceWarning the test run would turn into an error."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{FIREFOX} exited with {process.returncode} before marionette listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"marionette did not listen on port {port} within {START_SECONDS} s")


# Each pref's value as the browser holds it, or null if unset or of no known type (a typo).
_READ_PREFS = """
const getters = {32: "getStringPref", 64: "getIntPref", 128: "getBoolPref"};
return arguments[0].map(name => {
  const getter = getters[Services.prefs.getPrefType(name)];
  return getter ? Services.prefs[getter](name) : null;
});
"""


def check_prefs(client: Any, prefs: Mapping[str, Pref]) -> None:
    """The browser's prefs are `prefs`, read back from the running browser: user.js silently
    drops a value of the wrong type, and a pref the browser overrides would not be the one set."""
    with client.using_context("chrome"):
        actual = client.execute_script(_READ_PREFS, [list(prefs)])
    wrong = {
        name: got
        for (name, value), got in zip(prefs.items(), actual, strict=True)
        if type(got) is not type(value) or got != value  # True == 1, so the types too
    }
    assert not wrong, "prefs not as written to user.js: " + ", ".join(
        f"{name} is {got!r}, not {prefs[name]!r}" for name, got in wrong.items()
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@contextmanager
def firefox(
    prefs: Mapping[str, Pref] | None = None, *, wrapper: Sequence[str] = ()
) -> Iterator[Any]:
    """A headless Firefox ESR with a fresh profile (QUIET_PREFS, then `prefs`), as a marionette
    client with a session open; its process group is killed on the way out. `wrapper` is a
    command the browser runs under (`strace …`), in the same process group."""
    marionette = _marionette_class()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="intake-firefox-") as tmp:
        profile = Path(tmp) / "profile"
        wanted = {**QUIET_PREFS, "marionette.port": port, **(prefs or {})}
        write_profile(profile, wanted)
        env = {**os.environ, **QUIET_ENV}
        process = subprocess.Popen(
            [
                *wrapper,
                str(FIREFOX),
                "--headless",
                "--marionette",
                "--no-remote",
                "--profile",
                str(profile),
                # Lets the client read prefs back in the chrome context (check_prefs): a typo in
                # user.js is silently ignored, and a benchmark must know its engine's settings.
                "-remote-allow-system-access",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # its own group, so that _kill ends its content processes
        )
        client = None
        try:
            _wait_for_port(port, process)
            client = marionette(host="127.0.0.1", port=port, startup_timeout=START_SECONDS)
            client.start_session()
            check_prefs(client, wanted)
            yield client
        finally:
            if client is not None:  # closes the client's socket; the browser is killed anyway
                client.delete_session(send_request=False)
            _kill(process)
