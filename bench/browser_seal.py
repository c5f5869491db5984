"""Sealing and hashing in the browser (issue 16, item 5): Chromium with the JIT and without.

Usage: .venv/bin/python bench/browser_seal.py [--size 64MiB] [--repeat 3]

Serves the committed intake/web/static/seal.js from a throwaway loopback HTTP server (a secure
context: 127.0.0.1) and, in Debian's Chromium driven by Playwright, makes a random file of
`--size` in the page and runs the script's own workers on it: sealing alone, hashing alone, and
both side by side as the testimony page does (two workers). Each configuration is launched
fresh: Chromium as it comes ("jit") and with `--js-flags=--jitless` (V8 without its JIT, as
close as Chromium gets to Tor Browser's "Safer", which turns off SpiderMonkey's JITs and
WebAssembly). Modes are interleaved and repeated, and medians reported, because the machine is
shared; the figure that matters is the ratio jitless/jit in the same run, and whether the
parallel rate stays above the issue's 1.5 MB/s target.

Firefox ESR through marionette is not measured here: see bench/README.md.
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

if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from playwright.sync_api import sync_playwright

from crypto.x25519 import X25519Identity

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# As tests/e2e/chromium.py: no sandbox (a container may run as root), nothing calling home.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
MODES: dict[str, list[str]] = {"jit": [], "jitless": ["--js-flags=--jitless"]}

# Runs in the page: one job per fresh worker, as seal.js's page side does.
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


def _run(port: int, mode: str, size: int, recipient: str) -> dict[str, float]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*ARGS, *MODES[mode]]
        )
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/index.html")
            result: dict[str, float] = page.evaluate(_MEASURE, [size, recipient])
            return result
        finally:
            browser.close()


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
                    for job, ms in _run(port, mode, size, recipient).items():
                        times.setdefault((mode, job), []).append(ms)
        finally:
            server.shutdown()
    print(f"{args.size} in Chromium, medians of {args.repeat} (MB/s = 10^6 bytes/s)")
    rates = {key: size / 1e6 / (statistics.median(ms) / 1000) for key, ms in times.items()}
    for job in ("seal", "hash", "both"):
        jit, jitless = rates[("jit", job)], rates[("jitless", job)]
        ratio = jitless / jit
        print(f"  {job:5} jit {jit:8.1f} MB/s   jitless {jitless:7.2f} MB/s   ratio {ratio:.3f}")
    print("  (both: sealing and hashing in two workers side by side, the page's own path)")


if __name__ == "__main__":
    main()
