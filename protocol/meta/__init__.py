"""The `meta` of every bundle kind, one frozen dataclass each, as docs/bundles.md says.

`intake` writes these with `to_meta()` and reads them with `parse()`; `triage` does the same,
so the contract is written once. The submodules are imported directly (`protocol.meta.export`):
this file imports nothing, so reading one kind never loads the others.
"""
