"""What crosses between server and offline laptop: bundles, the submission schema, code lists.

The public API lives in the submodules, imported by name: `protocol.bundle` and
`protocol.bundle_reader`, `protocol.manifest`, `protocol.schema`, `protocol.entries`,
`protocol.fields`, `protocol.codes`, `protocol.ids`, `protocol.consent`, `protocol.threads`
and `protocol.errors`. This file imports nothing, so that `import protocol.errors` loads
neither crypto nor PyNaCl.
"""
