"""The hash worker's SHA-256 in the browser: js/src/sha256.js against @noble/hashes, JIT on and off.

Usage: .venv/bin/python bench/browser_sha256.py [--size 4MiB] [--repeat 3]

Bundles both implementations with the pinned esbuild (js/node_modules: `make js`) into one
throwaway script and, in each of bench/browser_seal.py's four configurations (Chromium with and
without V8's JIT, Firefox ESR as it comes and with the JITs off as Tor Browser at "Safer"), hashes
one random buffer of `--size` fed in 64 KiB chunks (the chunks `File.stream()` hands the worker),
alternating the two implementations in the same page and checking their digests agree. The
figure that matters is the ratio in the same run (js/src/sha256.js's rate over noble's): the hash
worker caps the witness's upload rate at "Safer" when it is the slower of the page's two workers.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, for tests.e2e

from bench.browser_seal import MODES, REPO, _parse_size, _serve, evaluate

IMPLEMENTATIONS = ("noble", "inlined")
# The throwaway script, run as a dedicated Worker as the hash worker is: on [size, rounds] it
# hashes one random buffer `rounds` times with each implementation, alternating, and posts
# {implementation: [milliseconds…]}, or {error} when the two digests differ.
_ENTRY = """
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Sha256 } from "./src/sha256.js";
const hashers = {
  noble: (chunks) => { const d = sha256.create(); for (const c of chunks) d.update(c);
    return bytesToHex(d.digest()); },
  inlined: (chunks) => { const d = new Sha256(); for (const c of chunks) d.update(c);
    return d.hexDigest(); },
};
self.onmessage = ({ data: [size, rounds] }) => {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
  }
  const chunks = [];
  for (let at = 0; at < size; at += 65536) chunks.push(bytes.subarray(at, at + 65536));
  const times = {};
  const digests = new Set();
  for (let round = 0; round < rounds; round++) {
    for (const [name, hash] of Object.entries(hashers)) {
      const t0 = performance.now();
      digests.add(hash(chunks));
      (times[name] ||= []).push(performance.now() - t0);
    }
  }
  postMessage(digests.size === 1 ? times : { error: "digests differ: " + [...digests] });
};
"""

# Runs in the page, in both browsers: an async function of [size, rounds] resolving to the
# worker's answer.
_MEASURE = """
async (args) => new Promise((resolve, reject) => {
  const worker = new Worker("/hashers.js");
  worker.onmessage = (event) => { worker.terminate(); resolve(event.data); };
  worker.onerror = (event) => { worker.terminate(); reject(new Error(event.message)); };
  worker.postMessage(args);
})
"""


def _bundle(out: Path) -> None:
    subprocess.run(
        [str(REPO / "js" / "node_modules" / ".bin" / "esbuild"), "--bundle", "--format=iife",
         "--target=es2020", "--minify", "--log-level=warning", "--sourcefile=bench.js",
         f"--outfile={out}"],
        input=_ENTRY, text=True, check=True, cwd=REPO / "js",
    )  # fmt: skip


def _report(size_text: str, size: int, times: dict[tuple[str, str], list[float]]) -> None:
    print(f"{size_text} in 64 KiB chunks, medians (MB/s = 10^6 bytes/s)")
    rates = {key: size / 1e6 / (statistics.median(ms) / 1000) for key, ms in times.items()}
    print(f"  {'':8} " + "".join(f"{mode:>15}" for mode in MODES))
    for name in IMPLEMENTATIONS:
        print(f"  {name:8} " + "".join(f"{rates[(mode, name)]:15.2f}" for mode in MODES))
    ratios = "".join(f"{rates[(mode, 'inlined')] / rates[(mode, 'noble')]:15.3f}" for mode in MODES)
    print(f"  {'ratio':8} {ratios}   (inlined / noble, same page)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="4MiB")
    parser.add_argument("--repeat", type=int, default=3, help="browser launches per configuration")
    parser.add_argument("--rounds", type=int, default=3, help="hashes per implementation per page")
    args = parser.parse_args()
    size = _parse_size(args.size)
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _bundle(root / "hashers.js")
        (root / "index.html").write_text("<!doctype html><title>bench</title>\n")
        server, port = _serve(root)
        try:
            for _ in range(args.repeat):
                for mode in MODES:
                    url = f"http://127.0.0.1:{port}/index.html"
                    found = evaluate(mode, url, _MEASURE, [size, args.rounds])
                    result = {name: [float(ms) for ms in times] for name, times in found.items()}
                    print(f"  {mode}: {result}", file=sys.stderr, flush=True)
                    for name, ms in result.items():
                        times.setdefault((mode, name), []).extend(ms)
        finally:
            server.shutdown()
    _report(args.size, size, times)


if __name__ == "__main__":
    main()
