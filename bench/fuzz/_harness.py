"""What every atheris harness here shares: seeds, a dictionary, defaults, and the target.

A harness is `fuzz("header")`: it builds the target from tests/fuzz (the oracle the Hypothesis
tests use), writes the target's seeds to a corpus folder and its words to a libFuzzer
dictionary, instruments crypto/ and protocol/ for coverage, and hands over to libFuzzer.
Any libFuzzer flag may be given (`-atheris_runs=N`, `-max_total_time=60`, a corpus folder).

Everything a run writes goes under bench/out/fuzz/TARGET/ (git ignores bench/out/), or under
$INTAKE_FUZZ_WORKDIR/TARGET/: the corpus libFuzzer grows (kept, so the next run starts from
it), crash-* and timeout-* inputs, and the seeds. libFuzzer ends the process with exit(), so
nothing could clean up a temporary folder afterwards.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Under bench/out/, which git ignores: corpora, crash and hang inputs are not for committing.
WORKDIR = Path(os.environ.get("INTAKE_FUZZ_WORKDIR", ROOT / "bench" / "out" / "fuzz"))
# A reader answers in milliseconds; libFuzzer reports anything slower than this as a hang.
TIMEOUT_SECONDS = 5
# Inputs beyond this add nothing to the readers' logic (headers, lines, tar blocks) and slow
# every execution; the seed corpus holds a 64 KiB age file, which libFuzzer may still read.
MAX_LEN = 70_000


def _dictionary(tokens: tuple[bytes, ...], path: Path) -> None:
    escaped = ("".join(f"\\x{b:02x}" for b in token) for token in tokens)
    path.write_text("".join(f'"{text}"\n' for text in escaped), encoding="ascii")


def _flags(argv: list[str], workdir: Path, seeds: Path, dictionary: Path | None) -> list[str]:
    """libFuzzer's argv: the caller's flags and folders, then our defaults and seed corpus."""
    given = [arg for arg in argv[1:] if arg.startswith("-")]
    folders = [arg for arg in argv[1:] if not arg.startswith("-")]
    defaults = {
        "-timeout": str(TIMEOUT_SECONDS),
        "-max_len": str(MAX_LEN),
        "-rss_limit_mb": "2048",
        "-artifact_prefix": f"{workdir}/",
    }
    if dictionary is not None:
        defaults["-dict"] = str(dictionary)
    flags = given + [
        f"{k}={v}" for k, v in defaults.items() if not any(a.startswith(k + "=") for a in given)
    ]
    # libFuzzer writes new inputs to the first folder: ours unless one is given.
    corpus = folders or [str(workdir / "corpus")]
    Path(corpus[0]).mkdir(parents=True, exist_ok=True)
    return [argv[0], *flags, *corpus, str(seeds)]


def fuzz(name: str) -> None:
    """Fuzz the target `name` (one of tests.fuzz.targets.NAMES) until libFuzzer stops."""
    import atheris  # type: ignore[import-untyped]  # noqa: PLC0415 - may not import; only here

    with atheris.instrument_imports(include=["crypto", "protocol"]):
        from tests.fuzz import targets  # noqa: PLC0415 - imported under instrumentation

    workdir = WORKDIR / name
    seeds = workdir / "seeds"
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir(parents=True)
    target = targets.build(name, workdir)
    for number, seed in enumerate(target.seeds):
        (seeds / f"seed-{number:03d}").write_bytes(seed)
    dictionary = workdir / "words.dict" if target.tokens else None
    if dictionary is not None:
        _dictionary(target.tokens, dictionary)
    atheris.Setup(_flags(sys.argv, workdir, seeds, dictionary), target.run)
    atheris.Fuzz()
