"""What every atheris harness here shares: seeds, a dictionary, defaults, and the target.

A harness is `fuzz("header")`: it builds the target from tests/fuzz (the oracle the Hypothesis
tests use), writes the target's seeds to a corpus folder and its words to a libFuzzer
dictionary, instruments crypto/ and protocol/ for coverage, and hands over to libFuzzer.
Any libFuzzer flag may be given (`-atheris_runs=N`, `-max_total_time=60`, a corpus folder).

libFuzzer stops at the first finding. With INTAKE_FUZZ_KNOWN=ignore, the findings already
reported (tests/fuzz/test_findings.py) are passed over, so a long run explores past them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Under bench/out/, which git ignores: crash and hang inputs are not for committing.
FINDINGS = ROOT / "bench" / "out" / "fuzz"
# A reader answers in milliseconds; libFuzzer reports anything slower than this as a hang.
TIMEOUT_SECONDS = 5
# Inputs beyond this add nothing to the readers' logic (headers, lines, tar blocks) and slow
# every execution; the seed corpus holds a 64 KiB age file, which libFuzzer may still read.
MAX_LEN = 70_000

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _known(exc: Exception) -> str | None:
    """Which reported finding `exc` is, if it is one (see tests/fuzz/test_findings.py)."""
    frames = {(Path(f.filename).name, f.name) for f in traceback.extract_tb(exc.__traceback__)}
    if isinstance(exc, AssertionError) and "unbounded read" in str(exc):
        return "negative tar size reads the whole bundle"
    if isinstance(exc, UnicodeEncodeError) and any(f == "minisign.py" for f, _ in frames):
        return "lone surrogate in a minisign trusted comment"
    if ("targets.py", "check_submission") in frames:
        return "submission accepts surrogate code points"
    return None


def _ignoring_known(run: Callable[[bytes], None]) -> Callable[[bytes], None]:
    seen: set[str] = set()

    def wrapped(data: bytes) -> None:
        try:
            run(data)
        except Exception as exc:
            finding = _known(exc)
            if finding is None:
                raise
            if finding not in seen:
                seen.add(finding)
                print(f"INFO: passing over a known finding: {finding}", file=sys.stderr)

    return wrapped


def _dictionary(tokens: tuple[bytes, ...], path: Path) -> None:
    escaped = ("".join(f"\\x{b:02x}" for b in token) for token in tokens)
    path.write_text("".join(f'"{text}"\n' for text in escaped), encoding="ascii")


def _flags(argv: list[str], scratch: Path, seeds: Path, dictionary: Path | None) -> list[str]:
    """libFuzzer's argv: the caller's flags and folders, then our defaults and seed corpus."""
    given = [arg for arg in argv[1:] if arg.startswith("-")]
    folders = [arg for arg in argv[1:] if not arg.startswith("-")]
    defaults = {
        "-timeout": str(TIMEOUT_SECONDS),
        "-max_len": str(MAX_LEN),
        "-rss_limit_mb": "2048",
        "-artifact_prefix": f"{FINDINGS}/{Path(argv[0]).stem}-",
    }
    if dictionary is not None:
        defaults["-dict"] = str(dictionary)
    flags = given + [
        f"{k}={v}" for k, v in defaults.items() if not any(a.startswith(k + "=") for a in given)
    ]
    # libFuzzer writes new inputs to the first folder: ours (a scratch copy) unless one is given.
    corpus = folders or [str(scratch / "corpus")]
    Path(corpus[0]).mkdir(parents=True, exist_ok=True)
    return [argv[0], *flags, *corpus, str(seeds)]


def fuzz(name: str) -> None:
    """Fuzz the target `name` (one of tests.fuzz.targets.NAMES) until libFuzzer stops."""
    import atheris  # type: ignore[import-untyped]  # noqa: PLC0415 - may not import; only here

    with atheris.instrument_imports(include=["crypto", "protocol"]):
        from tests.fuzz import targets  # noqa: PLC0415 - imported under instrumentation

    FINDINGS.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"intake-fuzz-{name}-"))
    ignore = os.environ.get("INTAKE_FUZZ_KNOWN") == "ignore"
    target = targets.build(name, scratch, avoid_known=ignore)
    run = _ignoring_known(target.run) if ignore else target.run
    seeds = scratch / "seeds"
    seeds.mkdir()
    for number, seed in enumerate(target.seeds):
        (seeds / f"seed-{number:03d}").write_bytes(seed)
    dictionary = scratch / "words.dict" if target.tokens else None
    if dictionary is not None:
        _dictionary(target.tokens, dictionary)
    try:
        atheris.Setup(_flags(sys.argv, scratch, seeds, dictionary), run)
        atheris.Fuzz()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
