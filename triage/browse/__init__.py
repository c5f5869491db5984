"""Browse and annotate: list, find, show and extract submissions; status, tags, notes, replies.

Step two of the workflow, on what `triage import` stored. This file imports nothing (see
triage/cli/__init__.py: `--help` must stay light).
"""
