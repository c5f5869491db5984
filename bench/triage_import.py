"""Benchmark `triage import` and `triage list` against `age -d` on the same files (not a test).

    .venv/bin/python bench/triage_import.py                  # 10,000 x (1 KB + 100 KB), 2 GiB
    .venv/bin/python bench/triage_import.py --submissions 1000 --video-size 200M
    .venv/bin/python bench/triage_import.py --media-only --clips 20 --clip-seconds 10

Prints submissions/s and MB/s of the imports beside `age -d` on the same sealed files in the
same run, peak RSS, and the wall time of `triage list` / `--search` at N rows (process start
included, as an investigator sees it). Those imports run with --no-media (their baseline is
decryption); the media scan's cost is its own section, first: one bundle of --clips real
phone-like clips imported with --no-media and with the scan, alternated, into new
workspaces, and the ratio (`--media-only` runs that section alone). Keys are made with
--no-passphrase so that no KDF is timed. Data goes to a temporary folder (--workdir to
choose where; --keep to keep it).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# bench/crypto.py sits beside this script and would shadow the crypto package: drop the
# script's folder from the import path before importing the project.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from crypto.age import Sealer
from crypto.keyfile import read_identities
from crypto.x25519 import X25519Identity, X25519Recipient
from protocol._copy import copy_range
from protocol.bundle import ItemSource, parse_size, write_bundle
from protocol.ids import new_blob_name, new_submission_id, new_witness_id
from protocol.meta.export import ExportFile, ExportMeta, ExportSubmission
from protocol.meta.items import blob_item, manifest_item
from protocol.schema import Answers, FileEntry, Submission
from triage.importing.scan import open_hashed
from triage.workspace.blobs import sha256_file

TRIAGE = str(Path(sys.executable).parent / "triage")
WORDS = ["свідок", "бачив", "солдати", "колона", "техніка", "село", "вибух", "ранок", "Шторм"]


@dataclass(frozen=True)
class Shape:
    count: int
    text_size: int
    file_size: int


def _seal(plain: Path, sealed: Path, recipient: X25519Recipient) -> str:
    """Seal `plain` into `sealed` in 1 MiB steps; returns the plaintext SHA-256."""
    digest = hashlib.sha256()
    with plain.open("rb") as src, sealed.open("wb") as out, Sealer(out, [recipient]) as sealer:
        while block := src.read(1 << 20):
            digest.update(block)
            sealer.write(block)
    return digest.hexdigest()


def _plain_file(path: Path, size: int, rng: random.Random) -> None:
    with path.open("wb") as out:
        for start in range(0, size, 1 << 24):
            out.write(rng.randbytes(min(1 << 24, size - start)))


def _submission(text: str, entry: FileEntry) -> Submission:
    answers = {
        "A3": True,
        "A4": ["investigators", "ua-prosecutors"],
        "B1": text,
        "B3": ["captives-killed"],
        "B6_oblast": "UA-23",
        "B8_callsigns": ["Шторм"],
    }
    return Submission(
        kind="testimony",
        submission_id=new_submission_id(),
        form_version="1",
        ui_language="uk",
        received_at=datetime.now(UTC).replace(microsecond=0),
        parent_id=None,
        witness_reply_recipient=str(X25519Identity.generate().recipient()),
        answers=Answers.parse(answers),
        files=(entry,),
    )


def _listed(
    submission: Submission, doc_item: ItemSource, file_item: ItemSource, blob: str
) -> ExportSubmission:
    """The export meta's entry for one submission, as `intake export` writes it."""
    return ExportSubmission(
        submission_id=submission.submission_id,
        parent_id=None,
        kind="testimony",
        received_on=submission.received_at.date(),
        witness_id=new_witness_id(),
        witness_reply_recipient=submission.witness_reply_recipient,
        manifest_blob=new_blob_name(),
        manifest_sha256=doc_item.sha256,
        files=(ExportFile(blob, file_item.sha256),),
    )


def make_bundle(
    work: Path, name: str, recipient: X25519Recipient, shape: Shape, clips: Sequence[Path] = ()
) -> tuple[Path, list[Path], int]:
    """An export bundle of `shape.count` submissions with one file each (random bytes, or the
    clip of the same number when `clips` are given); (bundle, blobs, bytes)."""
    folder = work / f"{name}-items"
    folder.mkdir()
    rng = random.Random(shape.count)  # noqa: S311 - test data, not secrets
    plain = folder / "plain.tmp"
    items, blobs, listed = [], [], []
    for number in range(shape.count):
        source = clips[number] if clips else plain
        if not clips:
            _plain_file(plain, shape.file_size, rng)
        blob = new_blob_name()
        sealed = folder / blob
        plain_sha = _seal(source, sealed, recipient)
        entry = FileEntry(
            blob, sha256_file(sealed), plain_sha, source.stat().st_size, "video/mp4",
            f"clip{number}.mp4", 1, Answers(),
        )  # fmt: skip
        text = " ".join(rng.choice(WORDS) for _ in range(shape.text_size // 6))[: shape.text_size]
        submission = _submission(text, entry)
        document = folder / f"{submission.submission_id}.json.age"
        with document.open("wb") as out, Sealer(out, [recipient]) as sealer:
            sealer.write(submission.to_json())
        file_item = ItemSource.from_file(blob_item(blob), sealed)
        doc_item = ItemSource.from_file(manifest_item(submission.submission_id), document)
        items += [doc_item, file_item]
        listed.append(_listed(submission, doc_item, file_item, blob))
        blobs.append(sealed)
    plain.unlink(missing_ok=True)
    bundle = work / f"{name}.bundle"
    write_bundle(bundle, "export", items, meta=ExportMeta(tuple(listed)).to_meta())
    return bundle, blobs, sum(item.size for item in items)


def timed(argv: Sequence[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of a command."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True, check=True
    )
    return time.perf_counter() - start, int(done.stderr.strip().splitlines()[-1])


def age_over(files: Sequence[Path], identity: Path) -> float:
    start = time.perf_counter()
    for path in files:
        argv = ["age", "-d", "-i", str(identity), "-o", "/dev/null", str(path)]
        subprocess.run(argv, check=True)
    return time.perf_counter() - start


def open_in_process(path: Path, identity: Path) -> float:
    """triage's own opening: open_hashed, what import does to each file (plaintext SHA-256)."""
    identities = read_identities(identity)
    start = time.perf_counter()
    with path.open("rb") as sealed:
        open_hashed(sealed, identities)
    return time.perf_counter() - start


def import_extras(path: Path, work: Path) -> tuple[float, float]:
    """What import does beyond opening, timed alone: the sealed SHA-256 checked against the
    manifest, and the kernel copy of the sealed file into the workspace."""
    start = time.perf_counter()
    sha256_file(path)
    hashed = time.perf_counter() - start
    target = work / "copy.tmp"
    start = time.perf_counter()
    with path.open("rb") as src, target.open("xb") as out:
        while copy_range(src, out.fileno(), 1 << 30):
            pass
    copied = time.perf_counter() - start
    target.unlink()
    return hashed, copied


def latency(argv: Sequence[str], runs: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def mb_s(size: int, seconds: float) -> str:
    return f"{size / seconds / 1e6:7.1f} MB/s"


def bench_many(work: Path, identity: Path, ws: list[str], shape: Shape) -> None:
    recipient = read_identities(identity)[0].recipient()
    print(f"generating {shape.count} submissions ({shape.text_size} B text, "
          f"{shape.file_size} B file) ...", flush=True)  # fmt: skip
    bundle, blobs, size = make_bundle(work, "many", recipient, shape)
    seconds, rss = timed([TRIAGE, "import", "--no-media", *ws, str(bundle)])
    print(f"import {shape.count} submissions: {seconds:7.2f} s  "
          f"{shape.count / seconds:7.1f} submissions/s  {mb_s(size, seconds)}  "
          f"peak RSS {rss / 1024:.0f} MiB")  # fmt: skip
    age_seconds = age_over(blobs, identity)
    blob_bytes = sum(path.stat().st_size for path in blobs)
    print(f"age -d, same {len(blobs)} files:  {age_seconds:7.2f} s  {mb_s(blob_bytes, age_seconds)}"
          f"  (one process per file)  import / age: {age_seconds / seconds:.2f}x")  # fmt: skip


@dataclass
class VideoRound:
    age_null: float  # age -d -o /dev/null: decryption alone
    age_file: float  # age -d -o FILE: decryption and a copy kept on disk, as import keeps one
    opening: float  # triage's opening in-process: open + plaintext SHA-256
    imported: float  # triage import, process start included, into a new workspace
    rss: int


def video_round(work: Path, identity: Path, blob: Path, bundle: Path, number: int) -> VideoRound:
    """One of each, in turn; each after a sync so that nobody pays for another's writeback."""
    os.sync()
    age_null = age_over([blob], identity)
    out = work / "age-out"
    start = time.perf_counter()
    subprocess.run(["age", "-d", "-i", str(identity), "-o", str(out), str(blob)], check=True)
    age_file = time.perf_counter() - start
    out.unlink()
    os.sync()
    opening = open_in_process(blob, identity)
    ws = work / f"ws-video-{number}"
    init = [TRIAGE, "init", str(ws), "-i", str(identity)]
    subprocess.run(init, check=True, capture_output=True)
    os.sync()
    imported, rss = timed([TRIAGE, "import", "--no-media", "-w", str(ws), str(bundle)])
    shutil.rmtree(ws)
    return VideoRound(age_null, age_file, opening, imported, rss)


def bench_video(work: Path, identity: Path, size: int, rounds: int) -> None:
    recipient = read_identities(identity)[0].recipient()
    print(f"\ngenerating one {size / 2**20:.0f} MiB video ...", flush=True)
    bundle, (blob,), _ = make_bundle(work, "video", recipient, Shape(1, 200, size))
    results = [video_round(work, identity, blob, bundle, n) for n in range(rounds)]
    best = VideoRound(
        min(r.age_null for r in results),
        min(r.age_file for r in results),
        min(r.opening for r in results),
        min(r.imported for r in results),
        max(r.rss for r in results),
    )
    print(f"best of {rounds} rounds (each: age, age to a file, triage opening, triage import):")
    rows = (
        ("age -d -o /dev/null", best.age_null, ""),
        ("age -d -o FILE", best.age_file, ""),
        ("triage opening (+ SHA-256)", best.opening,
         f"vs age: {best.age_null / best.opening:.2f}x  (open_hashed, what import runs)"),
        ("triage import", best.imported,
         f"vs age: {best.age_null / best.imported:.2f}x, vs age to a file: "
         f"{best.age_file / best.imported:.2f}x  peak RSS {best.rss / 1024:.0f} MiB"),
    )  # fmt: skip
    for label, seconds, note in rows:
        print(f"  {label:<28} {seconds:6.2f} s  {mb_s(size, seconds)}  {note}")
    os.sync()
    hashed, copied = import_extras(blob, work)
    print(f"  import's other work, alone: sealed SHA-256 {hashed:.2f} s (checked against the "
          f"manifest), kernel copy into the workspace {copied:.2f} s")  # fmt: skip


def _clip(path: Path, seconds: float, seed: int) -> Path:
    """A phone-like clip: 640x360 moving pattern with sensor-like noise, a tone, and the
    metadata a phone writes (time, ISO 6709 place, make and model) for ExifTool and PyAV."""
    video = f"testsrc2=size=640x360:rate=25,noise=alls=12:allf=t:all_seed={seed}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", video,
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
         "-metadata", "creation_time=2024-03-01T10:00:00Z",
         "-metadata", "location=+44.6167+033.5254/", "-metadata", "make=Apple",
         "-metadata", "model=iPhone 12", "-movflags", "use_metadata_tags", str(path)],
        check=True,
    )  # fmt: skip
    return path


def media_round(work: Path, identity: Path, bundle: Path, scan: bool) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the cells included) of one `triage import`
    of `bundle` into a new workspace, with or without the media scan. On a shared machine the
    CPU time is what the scan costs; the wall time also holds what other jobs took."""
    ws = work / "ws-media"
    subprocess.run([TRIAGE, "init", str(ws), "-i", str(identity)], check=True, capture_output=True)
    os.sync()
    argv = [TRIAGE, "import", *([] if scan else ["--no-media"]), "-w", str(ws), str(bundle)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if scan and "\nunreadable: " in f"\n{done.stdout}":
        raise SystemExit(f"the scan could not read a clip:\n{done.stdout}")
    shutil.rmtree(ws)
    return seconds, cpu


def bench_media(work: Path, identity: Path, count: int, seconds: float, rounds: int) -> None:
    recipient = read_identities(identity)[0].recipient()
    print(f"\ngenerating {count} phone-like clips of {seconds:g} s (640x360) ...", flush=True)
    folder = work / "clips"
    folder.mkdir()
    clips = [_clip(folder / f"clip{n}.mp4", seconds, 1000 + n) for n in range(count)]
    bundle, _, size = make_bundle(work, "media", recipient, Shape(count, 200, 0), clips)
    plain, scanned = [], []
    for _ in range(rounds):  # alternated, so that load from elsewhere falls on both
        plain.append(media_round(work, identity, bundle, scan=False))
        scanned.append(media_round(work, identity, bundle, scan=True))
    print(f"import of {count} clips ({size / 1e6:.1f} MB sealed), median of {rounds} "
          f"alternated rounds, each into a new workspace:")  # fmt: skip
    for unit, pick in (("wall", 0), ("CPU", 1)):
        a = statistics.median(r[pick] for r in plain)
        b = statistics.median(r[pick] for r in scanned)
        for label, runs in (("--no-media", plain), ("with the scan", scanned)):
            listed = ", ".join(f"{r[pick]:.2f}" for r in runs)
            print(f"  {unit:<4} {label:<14} {statistics.median(r[pick] for r in runs):7.2f} s"
                  f"  (runs: {listed})")  # fmt: skip
        print(f"  {unit:<4} ratio {b / a:.2f}x; the scan adds {(b - a) / count:.2f} s a file "
              f"({(b - a) / count / seconds:.3f} s per second of video)")  # fmt: skip


def bench_list(ws: list[str], rows: int) -> None:
    print(f"\nwall time at {rows} submissions (process start included; min / median of 5):")
    cases: tuple[tuple[str, list[str]], ...] = (
        ("list", []),
        ("list --search shtorm", ["--search", "shtorm"]),
        ("list --search 'колона ранок'", ["--search", "колона ранок"]),
        ("list --type captives-killed --oblast UA-23",
         ["--type", "captives-killed", "--oblast", "UA-23"]),
        ("list --oblast zaporizhzhia (loads code lists)", ["--oblast", "zaporizhzhia"]),
        ("list --json (all rows)", ["--json"]),
    )  # fmt: skip
    for label, extra in cases:
        best, median = latency([TRIAGE, "list", *ws, *extra])
        print(f"  {label:<48} {best:6.3f} s / {median:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--testimony-size", type=parse_size, default=1024)
    parser.add_argument("--file-size", type=parse_size, default=100 * 1024)
    parser.add_argument("--video-size", type=parse_size, default=2 * 1024**3)
    parser.add_argument("--rounds", type=int, default=3, help="Video rounds (best is shown).")
    parser.add_argument("--clips", type=int, default=20, help="Clips for the media scan's cost.")
    parser.add_argument("--clip-seconds", type=float, default=10)
    parser.add_argument("--media-rounds", type=int, default=3)
    parser.add_argument(
        "--media-only", action="store_true", help="Only import with and without the scan."
    )
    parser.add_argument("--workdir", type=Path, default=None, help="Where to put the data.")
    parser.add_argument("--keep", action="store_true", help="Keep the data afterwards.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="triage-bench-", dir=args.workdir))
    try:
        identity = work / "investigator.age"
        keygen = [TRIAGE, "keygen", "-o", str(identity), "--no-passphrase"]
        subprocess.run(keygen, check=True, capture_output=True)
        init = [TRIAGE, "init", str(work / "ws"), "-i", str(identity)]
        subprocess.run(init, check=True, capture_output=True)
        bench_media(work, identity, args.clips, args.clip_seconds, args.media_rounds)
        if args.media_only:
            return
        ws = ["-w", str(work / "ws")]
        shape = Shape(args.submissions, args.testimony_size, args.file_size)
        bench_many(work, identity, ws, shape)
        bench_video(work, identity, args.video_size, args.rounds)
        bench_list(ws, args.submissions)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
