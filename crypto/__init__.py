"""age v1 sealed files, minisign signatures and witness keys, on PyNaCl and the standard library.

The public API lives in the submodules, imported by name: `crypto.age` (seal, open, re-wrap a
header), `crypto.header`, `crypto.x25519`, `crypto.scrypt`, `crypto.stream`, `crypto.armor`,
`crypto.keyfile`, `crypto.minisign`, `crypto.witness` and `crypto.errors`. This file imports
nothing, so that `import crypto.errors` (an error funnel, a light CLI start-up) loads no PyNaCl.
"""
