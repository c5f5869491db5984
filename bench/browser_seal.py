"""Sealing and hashing in the browser (issue 16, item 5): Chromium and Firefox ESR, JIT on and off.

Usage: .venv/bin/python bench/browser_seal.py [--size 64MiB] [--repeat 3]

Serves the committed intake/web/static/seal.js from a throwaway loopback HTTP server (a secure
context: 127.0.0.1) and, in each browser, makes a random file of `--size` in the page and runs
the script's own workers on it: sealing alone, hashing alone, and both side by side as the
testimony page does (two workers). The hash worker runs js/src/sha256.js (bench/browser_sha256.py
compares it with @noble/hashes' sha256, which it replaced). Each configuration is launched fresh:

- "jit" / "jitless": Debian's Chromium driven by Playwright, as it comes and with
  `--js-flags=--jitless` (V8 without its JIT; not SpiderMonkey's interpreter).
- "firefox-jit" / "firefox-nojit": Debian's Firefox ESR driven through marionette
  (tests/e2e/firefox.py), as it comes and with `javascript.options.ion`, `baselinejit` and
  `wasm` off: the engine and settings of Tor Browser at "Safer".

Both browsers run the same measurement snippet (`_MEASURE`, one definition). Configurations are
interleaved and repeated, and medians reported, because the machine is shared; the figures that
matter are the ratios in the same run, and whether Firefox's no-JIT parallel rate stays above the
issue's 1.5 MB/s target.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, for tests.e2e

from playwright.sync_api import sync_playwright

from crypto.x25519 import X25519Identity
from tests.e2e.firefox import NO_JIT, Pref, firefox  # checks its prefs took

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# As tests/e2e/chromium.py: no sandbox (a container may run as root), nothing calling home.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CHROMIUM_FLAGS: dict[str, list[str]] = {"jit": [], "jitless": ["--js-flags=--jitless"]}
FIREFOX_PREFS: dict[str, dict[str, Pref]] = {"firefox-jit": {}, "firefox-nojit": NO_JIT}
SCRIPT_SECONDS = 1800  # Firefox without its JITs seals 64 MiB in minutes on a busy machine

# Runs in the page, in both browsers: one job per fresh worker, as seal.js's page side does.
# An async function of [size, recipient] resolving to {job: milliseconds}.
_MEASURE = """
async ([size, recipient]) => {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
  }
  const file = new File([bytes], "bench.bin");
  // Sealing hands out 4 MiB parts and waits for each to be released, as the page releases a
  // part the server holds; here each is released (and dropped) as it comes.
  const job = (message) => new Promise((resolve, reject) => {
    const worker = new Worker("/seal.js");
    worker.onmessage = (event) => {
      if (event.data.ok && event.data.kind === "part") worker.postMessage({ op: "release" });
      if (event.data.ok && event.data.kind !== "end") return;
      worker.terminate();
      event.data.ok ? resolve(event.data) : reject(new Error(event.data.error)); };
    worker.onerror = (event) => { worker.terminate(); reject(new Error(event.message)); };
    worker.postMessage(message);
  });
  const timed = async (work) => {
    const t0 = performance.now();
    await work();
    return performance.now() - t0;
  };
  const seal = () =>
    job({ op: "seal", file, recipients: [recipient], partSize: 4 * 1024 * 1024, window: 3 });
  const hash = () => job({ op: "hash", file });
  return {
    seal: await timed(seal),
    hash: await timed(hash),
    both: await timed(() => Promise.all([seal(), hash()])),
  };
}
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _parse_size(text: str) -> int:
    units = {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "": 1}
    number = text.rstrip("KMGBkmgbi")
    return int(number) * units[text[len(number) :].lower()]


# Marionette's async scripts get their arguments in `arguments` and finish by calling the last.
_MARIONETTE_CALL = """
const done = arguments[arguments.length - 1];
(MEASURE)(arguments[0]).then(done, (error) => done({ error: String(error) }));
"""
MODES = (*CHROMIUM_FLAGS, *FIREFOX_PREFS)


def evaluate(mode: str, url: str, snippet: str, argument: list[Any]) -> dict[str, Any]:
    """`snippet` (an async function of one argument, resolving to a dict) run in a fresh
    browser of `mode` at `url`: Chromium through Playwright, Firefox through marionette. A
    snippet that failed in the page raises RuntimeError. Shared by bench/browser_sha256.py."""
    if mode in CHROMIUM_FLAGS:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=[*ARGS, *CHROMIUM_FLAGS[mode]]
            )
            try:
                page = browser.new_page()
                page.goto(url)
                result: dict[str, Any] = page.evaluate(snippet, argument)
            finally:
                browser.close()
    else:
        with firefox(FIREFOX_PREFS[mode]) as client:
            client.timeout.script = SCRIPT_SECONDS
            client.navigate(url)
            script = _MARIONETTE_CALL.replace("MEASURE", snippet)  # not %: it may hold a %
            result = client.execute_async_script(script, script_args=[argument])
    if "error" in result:
        raise RuntimeError(f"{mode}: {result['error']}")
    return result


def _report(
    size_text: str, repeat: int, size: int, times: dict[tuple[str, str], list[float]]
) -> None:
    print(f"{size_text}, medians of {repeat} (MB/s = 10^6 bytes/s)")
    rates = {key: size / 1e6 / (statistics.median(ms) / 1000) for key, ms in times.items()}
    print(f"  {'':5} " + "".join(f"{mode:>15}" for mode in MODES))
    for job in ("seal", "hash", "both"):
        print(f"  {job:5} " + "".join(f"{rates[(mode, job)]:15.2f}" for mode in MODES))
    print("  ratios: chromium jitless/jit, firefox nojit/jit, firefox-nojit/chromium-jitless")
    for job in ("seal", "hash", "both"):
        pairs = [("jitless", "jit"), ("firefox-nojit", "firefox-jit"), ("firefox-nojit", "jitless")]
        ratios = "   ".join(f"{rates[(a, job)] / rates[(b, job)]:7.3f}" for a, b in pairs)
        print(f"  {job:5} {ratios}")
    print("  (both: sealing and hashing in two workers side by side, the page's own path)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="64MiB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = _parse_size(args.size)
    recipient = str(X25519Identity.generate().recipient())
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "intake" / "web" / "static" / "seal.js", root / "seal.js")
        (root / "index.html").write_text("<!doctype html><title>bench</title>\n")
        server, port = _serve(root)
        try:
            for _ in range(args.repeat):
                for mode in MODES:
                    url = f"http://127.0.0.1:{port}/index.html"
                    found = evaluate(mode, url, _MEASURE, [size, recipient])
                    result = {job: float(ms) for job, ms in found.items()}
                    print(f"  {mode}: {result}", file=sys.stderr, flush=True)  # long runs: progress
                    for job, ms in result.items():
                        times.setdefault((mode, job), []).append(ms)
        finally:
            server.shutdown()
    _report(args.size, args.repeat, size, times)


if __name__ == "__main__":
    main()
