"""Benchmark `triage import` and `triage list` against `age -d` on the same files (not a test).

    python bench/triage_import.py                       # 10,000 x (1 KB + 100 KB), 2 GiB video
    python bench/triage_import.py --submissions 1000 --video-size 200M

Prints submissions/s and MB/s of the imports, `age -d` on the same sealed files in the same
run, peak RSS, and `triage list` / `--search` wall time (process start included) at N rows.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

# bench/crypto.py sits beside this script and would shadow the crypto package: drop the
# script's folder from the import path before importing the project (hence E402 below).
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from crypto.age import Sealer, open_stream  # noqa: E402
from crypto.keyfile import read_identities  # noqa: E402
from crypto.x25519 import X25519Identity, X25519Recipient  # noqa: E402
from protocol.bundle import ItemSource, parse_size, write_bundle  # noqa: E402
from protocol.ids import new_blob_name, new_submission_id  # noqa: E402
from protocol.schema import Answers, FileEntry, Submission  # noqa: E402

BIN = Path(sys.executable).parent
TRIAGE = str(BIN / "triage")
WORDS = "свідок бачив солдати колона техніка село вибух ранок Шторм бригада полонені".split()


def _seal_file(plain: Path, sealed: Path, recipient: X25519Recipient) -> str:
    """Seal `plain` into `sealed` in 1 MiB steps; returns the plaintext SHA-256."""
    digest = hashlib.sha256()
    with plain.open("rb") as src, sealed.open("wb") as out, Sealer(out, [recipient]) as sealer:
        while block := src.read(1 << 20):
            digest.update(block)
            sealer.write(block)
    return digest.hexdigest()


def _submission(recipient: X25519Recipient, text: str, entry: FileEntry) -> Submission:
    witness = X25519Identity.generate().recipient()
    answers = {"A3": True, "A4": ["investigators", "ua-prosecutors"], "B1": text,
               "B3": ["captives-killed"], "B6_oblast": "UA-23", "B8_callsigns": ["Шторм"]}  # fmt: skip
    return Submission(
        kind="testimony", submission_id=new_submission_id(), form_version="1", ui_language="uk",
        received_at=datetime.now(UTC).replace(microsecond=0), parent_id=None,
        witness_reply_recipient=str(witness), answers=Answers.parse(answers), files=(entry,),
    )  # fmt: skip


def _sealed_bytes(data: bytes, recipient: X25519Recipient, path: Path) -> None:
    with path.open("wb") as out, Sealer(out, [recipient]) as sealer:
        sealer.write(data)


def make_bundle(
    work: Path, name: str, recipient: X25519Recipient, count: int, text_size: int, file_size: int
) -> tuple[Path, list[Path], int]:
    """An export bundle of `count` submissions, each with one file of `file_size` bytes."""
    folder = work / f"{name}-items"
    folder.mkdir()
    rng = random.Random(count)  # noqa: S311 - test data, not secrets
    items, blobs = [], []
    for n in range(count):
        plain = folder / "plain.tmp"
        plain.write_bytes(rng.randbytes(file_size))
        blob = new_blob_name()
        sealed = folder / blob
        sha = _seal_file(plain, sealed, recipient)
        entry = FileEntry(blob, _sha(sealed), sha, file_size, "video/mp4", f"clip{n}.mp4", 1, Answers())
        text = " ".join(rng.choice(WORDS) for _ in range(text_size // 8))[:text_size]
        submission = _submission(recipient, text, entry)
        doc = folder / f"{submission.submission_id}.json.age"
        _sealed_bytes(submission.to_json(), recipient, doc)
        items += [ItemSource.from_file(f"blobs/{blob}", sealed),
                  ItemSource.from_file(f"submissions/{submission.submission_id}.json.age", doc)]  # fmt: skip
        blobs.append(sealed)
    plain.unlink()
    meta = {"submissions": {}}
    bundle = work / f"{name}.bundle"
    write_bundle(bundle, "export", items, meta=meta)
    return bundle, blobs, sum(i.size for i in items)


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def timed(argv: Sequence[str], **kw: object) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of a command."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True, check=True, **kw
    )  # type: ignore[call-overload]
    return time.perf_counter() - start, int(done.stderr.strip().splitlines()[-1])


def age_over(files: Sequence[Path], identity: Path) -> float:
    start = time.perf_counter()
    for path in files:
        subprocess.run(["age", "-d", "-i", str(identity), "-o", "/dev/null", str(path)], check=True)
    return time.perf_counter() - start


def in_process_open(path: Path, identity: Path) -> float:
    identities = read_identities(identity)
    start = time.perf_counter()
    digest = hashlib.sha256()
    with path.open("rb") as sealed:
        for chunk in open_stream(sealed, identities):
            digest.update(chunk)
    return time.perf_counter() - start


def latency(argv: Sequence[str], runs: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def mb_s(size: int, seconds: float) -> str:
    return f"{size / seconds / 1e6:8.1f} MB/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--testimony-size", type=parse_size, default=1024)
    parser.add_argument("--file-size", type=parse_size, default=100 * 1024)
    parser.add_argument("--video-size", type=parse_size, default=2 * 1024**3)
    parser.add_argument("--workdir", type=Path, default=None, help="Where to put the data.")
    parser.add_argument("--keep", action="store_true", help="Keep the data afterwards.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="triage-bench-", dir=args.workdir))
    try:
        run(work, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args: argparse.Namespace) -> None:
    identity = work / "investigator.age"
    subprocess.run(
        [TRIAGE, "keygen", "-o", str(identity), "--no-passphrase"], check=True, capture_output=True
    )
    recipient = read_identities(identity)[0].recipient()
    subprocess.run(
        [TRIAGE, "init", str(work / "ws"), "-i", str(identity)], check=True, capture_output=True
    )
    ws = ["-w", str(work / "ws")]
    n = args.submissions
    print(
        f"generating {n} submissions ({args.testimony_size} B text, {args.file_size} B file) ...",
        flush=True,
    )
    many, blobs, many_size = make_bundle(
        work, "many", recipient, n, args.testimony_size, args.file_size
    )
    print(f"generating one {args.video_size / 2**20:.0f} MiB video ...", flush=True)
    video, (video_blob,), video_size = make_bundle(
        work, "video", recipient, 1, 200, args.video_size
    )

    seconds, rss = timed([TRIAGE, "import", *ws, str(many)])
    print(f"\nimport {n} submissions: {seconds:7.2f} s  {n / seconds:8.1f} submissions/s  "
          f"{mb_s(many_size, seconds)}  peak RSS {rss / 1024:.0f} MiB")  # fmt: skip
    age_seconds = age_over(blobs, identity)
    blob_bytes = sum(p.stat().st_size for p in blobs)
    print(f"age -d on the same {n} files: {age_seconds:7.2f} s  {mb_s(blob_bytes, age_seconds)}"
          f"  (one process per file)  import/age: {age_seconds / seconds:.2f}x")  # fmt: skip

    seconds, rss = timed([TRIAGE, "import", *ws, str(video)])
    age_seconds = age_over([video_blob], identity)
    ours = in_process_open(video_blob, identity)
    print(
        f"\nimport video: {seconds:7.2f} s  {mb_s(video_size, seconds)}  peak RSS {rss / 1024:.0f} MiB"
    )
    print(f"age -d video: {age_seconds:7.2f} s  {mb_s(video_size, age_seconds)}")
    print(f"triage open+sha256 video (in-process): {ours:7.2f} s  {mb_s(video_size, ours)}  "
          f"vs age: {age_seconds / ours:.2f}x;  whole import vs age -d: {age_seconds / seconds:.2f}x")  # fmt: skip

    print(f"\nlatency at {n + 1} submissions (wall, process start included; min / median of 5):")
    for label, extra in (("list", []), ("list --search shtorm", ["--search", "shtorm"]),
                         ("list --search 'колона ранок'", ["--search", "колона ранок"]),
                         ("list --type captives-killed --oblast UA-23", ["--type", "captives-killed", "--oblast", "UA-23"]),
                         ("list --json (all rows)", ["--json"])):  # fmt: skip
        best, median = latency([TRIAGE, "list", *ws, *extra])
        print(f"  {label:<45} {best:6.3f} s / {median:6.3f} s")
    best, median = latency([TRIAGE, "--help"])
    print(f"  {'triage --help (start-up alone)':<45} {best:6.3f} s / {median:6.3f} s")


if __name__ == "__main__":
    main()
