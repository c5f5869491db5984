#!/usr/bin/env bash
# Bundle src/seal.js with the pinned esbuild (npm ci first: `make js`). The output is committed
# as intake/web/static/seal.js; tests/intake/web/test_seal_bundle.py rebuilds it and compares
# the bytes, so any change to the source, the lockfile or these flags must be rebuilt here.
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-../intake/web/static/seal.js}"
# iife: one classic script, loaded by the page with SRI and by `new Worker(src)`.
# es2020: BigInt (the noble libraries) and nothing newer than Tor Browser's Firefox ESR has.
exec ./node_modules/.bin/esbuild src/seal.js --bundle --format=iife --platform=browser \
  --target=es2020 --minify --legal-comments=eof --charset=utf8 --log-level=warning \
  --outfile="$out"
