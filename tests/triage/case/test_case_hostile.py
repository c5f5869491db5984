"""A hostile case bundle cannot drive the recipient's terminal, and the .txt shows every control.

`triage case verify` prints a signer's trusted comment and file names taken from the bundle;
escape sequences there could retitle the window, hide lines or forge an "intact" verdict. The
text layout of a testimony makes a witness's control characters visible; the JSON keeps them.
"""

from __future__ import annotations

import json
from pathlib import Path

from crypto.minisign import SigningKey, sign_file
from tests.triage.factory import FileSpec, answers_for, build, export_bundle
from tests.triage.workbench import Bench
from triage.case.files import MANIFEST, SIGNATURE, write_manifest
from triage.errors import ExitCode

# Clear the screen, set the window title, a C1 CSI, a bell, a carriage return that rewrites
# the line, and a right-to-left override.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x9b31m\rcase bundle intact\u202e"
# A minisign trusted comment is one line (no carriage return), and `case verify` reads the
# signature file as ASCII: only 7-bit sequences can survive there.
HOSTILE_COMMENT = "\x1b[2J\x1b]0;pwned\x07\x1b[1A case bundle intact\x7f"
FORBIDDEN = ("\x1b", "\x9b", "\x07", "\r", "\u202e", "\x7f")


def _assert_inert(text: str) -> None:
    for char in FORBIDDEN:
        assert char not in text, repr(char)


def _bundle(root: Path, comment: str) -> SigningKey:
    key = SigningKey.generate()
    (root / "testimony").mkdir(parents=True)
    (root / "testimony" / "S-1.txt").write_text("hello\n")
    (root / "minisign.pub").write_text(key.verify_key().to_file_text())
    write_manifest(root, key, comment)
    return key


def test_a_hostile_trusted_comment_is_printed_inert(bench: Bench, tmp_path: Path) -> None:
    root = tmp_path / "CASE"
    _bundle(root, f"triage case X {HOSTILE_COMMENT}")
    result = bench.cli("case", "verify", str(root))
    assert result.exit_code == 0, result.output
    _assert_inert(result.stdout + result.stderr)
    assert "signed: triage case X" in result.stdout
    assert "pwned" not in result.stdout  # the whole OSC sequence went, not only its ESC


def test_hostile_file_names_are_printed_inert(bench: Bench, tmp_path: Path) -> None:
    added = tmp_path / "added"
    _bundle(added, "triage case X")
    (added / "testimony" / f"S-2{HOSTILE}.txt").write_text("slipped in")
    result = bench.cli("case", "verify", str(added))
    assert result.exit_code == ExitCode.DAMAGED
    assert "is not in manifest.sha256" in result.stderr
    _assert_inert(result.stdout + result.stderr)

    listed = tmp_path / "listed"
    key = _bundle(listed, "triage case X")
    with (listed / MANIFEST).open("a", encoding="utf-8") as manifest:
        # No carriage return: the manifest is read line by line and would split there.
        manifest.write(f"{'0' * 64}  testimony/S-3{HOSTILE.replace(chr(13), '')}.txt\n")
    signature = sign_file(listed / MANIFEST, key, trusted_comment="triage case X")
    (listed / SIGNATURE).write_text(signature, encoding="ascii")
    result = bench.cli("case", "verify", str(listed))
    assert result.exit_code == ExitCode.DAMAGED
    assert "is missing" in result.stderr
    _assert_inert(result.stdout + result.stderr)


def test_verbose_tracebacks_are_printed_inert(bench: Bench, tmp_path: Path) -> None:
    # `-v` prints the traceback, whose last line is the exception's message: the file name.
    added = tmp_path / "added"
    _bundle(added, "triage case X")
    (added / "testimony" / f"S-2{HOSTILE}.txt").write_text("slipped in")
    result = bench.cli("-v", "case", "verify", str(added))
    assert result.exit_code == ExitCode.DAMAGED
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "case bundle intact" in result.stderr
    _assert_inert(result.stdout + result.stderr)


def test_the_text_layout_shows_controls_and_the_json_keeps_them(
    bench: Bench, tmp_path: Path
) -> None:
    me = [bench.investigator.recipient]
    told = f"They came at night.{HOSTILE}\nThen\tthey left."
    video = FileSpec(b"v" * 4096, original_name=f"IMG{HOSTILE}.MOV", declared_type="video/mp4")
    made = build(me, answers=answers_for(B1=told, D0=True, D1=f"Olena{HOSTILE}"), files=[video])
    assert bench.run("import", str(export_bundle(tmp_path / "export", [made]))).exit_code == 0
    incident = bench.run("incident", "new", "Night raid", "--oblast", "UA-23").stdout.strip()
    assert bench.run("incident", "add", incident, made.id).exit_code == 0
    to = tmp_path / "CASE-1"
    exported = bench.run(
        "case", "export", incident, "--to", str(to), "--recipient", "OPG Ukraine",
        "--recipient-class", "ua-prosecutors", "--purpose", "criminal proceedings",
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    _assert_inert(exported.stdout + exported.stderr)
    text = (to / "testimony" / f"{made.id}.txt").read_text(encoding="utf-8")
    _assert_inert(text)
    assert "They came at night.<U+001B>[2J<U+001B>]0;pwned<U+0007><U+009B>31m<U+000D>" in text
    assert "<U+202E>" in text
    assert "Then\tthey left." in text  # newline and tab are ordinary text
    document = json.loads((to / "testimony" / f"{made.id}.json").read_text(encoding="utf-8"))
    assert document["answers"]["B1"] == told  # the exact text, for anyone who needs it
    assert (to / "testimony" / f"{made.id}.json").read_bytes() == made.submission.to_json()
    verified = bench.cli("case", "verify", str(to))
    assert verified.exit_code == 0
    _assert_inert(verified.stdout + verified.stderr)
