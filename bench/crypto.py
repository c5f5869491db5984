"""Seal and open one file with crypto.age, `triage encrypt/decrypt` and the `age` binary.

Usage: .venv/bin/python bench/crypto.py [--size 1GiB] [--small 10MiB] [--dir DIR] [--profile]

Every measurement runs in its own child process, reaped with os.wait4 so that the peak RSS
reported is that child's own (ru_maxrss of one process, not the maximum over all children).
The in-process figures come from a fresh Python child that imports crypto.age and times only
the sealing or opening; the CLI and age figures are wall time of the whole command.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TRIAGE = Path(sys.executable).parent / "triage"
GNU_TIME = Path("/usr/bin/time")
UNITS = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "kb": 10**3}
UNITS |= {"mb": 10**6, "gb": 10**9}

# Runs in a fresh interpreter (python -c): argv is mode, key file, input, output.
CHILD = """
import sys, time
from pathlib import Path
from crypto.age import Sealer, open_to_file
from crypto.keyfile import read_identities
mode, key, src, dst = sys.argv[1:5]
identities = read_identities(key)
start = time.perf_counter()
with open(src, "rb") as inp:
    if mode == "seal":
        with open(dst, "wb") as out, Sealer(out, [identities[0].recipient()]) as sealer:
            while block := inp.read(1 << 20):
                sealer.write(block)
    else:
        open_to_file(inp, identities, Path(dst))
print(time.perf_counter() - start)
"""


@dataclass(frozen=True)
class Run:
    seconds: float  # wall time
    cpu: float  # user + system seconds, all threads
    peak_rss: int  # bytes


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1GiB, 10MiB)")
    return int(float(match.group(1)) * UNITS[match.group(2).lower()])


def measure(argv: list[str], *, inner_time: bool = False) -> Run:
    """Run argv: its wall time (or the time it prints), CPU time and its own peak RSS.

    Peak RSS: Linux carries the parent's high-water mark into a forked child across exec, so
    wait4 on a child of this (large) process would report at least this process's peak. GNU
    time is a tiny parent and reports its child's ru_maxrss; without it, VmHWM of the child's
    own address space is polled from /proc until it exits. CPU time (user + system) comes
    from wait4, which that inheritance does not distort; it does not depend on the load.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", prefix="rss-") as rss,
    ):
        wrapper = ["/usr/bin/time", "-f", "%M", "-o", rss.name] if GNU_TIME.exists() else []
        start = time.perf_counter()
        child = subprocess.Popen([*wrapper, *argv], stdout=out, stderr=err)
        peak = 0
        while True:
            pid, status, usage = os.wait4(child.pid, 0 if wrapper else os.WNOHANG)
            if pid:
                break
            peak = max(peak, _vm_hwm(child.pid))
            time.sleep(0.005)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"{argv[:3]} failed ({child.returncode}): {err.read().decode()}")
        if wrapper:
            peak = int(rss.read().split()[-1]) * 1024  # KiB
        seconds = float(out.read().decode().split()[-1]) if inner_time else elapsed
    return Run(seconds, usage.ru_utime + usage.ru_stime, peak)


def _vm_hwm(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def tools(work: Path, key: Path, recipient: str) -> dict[str, dict[str, list[str]]]:
    """For each tool, the seal and open commands. All open the same age-sealed file."""
    plain, sealed, opened = (str(work / n) for n in ("plain", "sealed", "opened"))
    by_age = str(work / "by-age.age")
    python = [sys.executable, "-c", CHILD]
    return {
        "age": {
            "seal": ["age", "-r", recipient, "-o", sealed, plain],
            "open": ["age", "-d", "-i", str(key), "-o", opened, by_age],
        },
        "triage (CLI)": {
            "seal": [str(TRIAGE), "encrypt", "-r", recipient, "-o", sealed, plain],
            "open": [str(TRIAGE), "decrypt", "-i", str(key), "-o", opened, by_age],
        },
        "crypto.age (in-process)": {
            "seal": [*python, "seal", str(key), plain, sealed],
            "open": [*python, "open", str(key), by_age, opened],
        },
    }


def make_plaintext(path: Path, size: int) -> str:
    block = os.urandom(16 << 20)  # random, so no layer can cheat by compressing
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for offset in range(0, size, len(block)):
            piece = block[: min(len(block), size - offset)]
            out.write(piece)
            digest.update(piece)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def bench(work: Path, size: int) -> dict[str, dict[str, Run]]:
    """Seal and open `size` bytes with every tool in `work`; check every result."""
    key = work / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
    ).stdout.strip()
    expected = make_plaintext(work / "plain", size)
    age_seal = ["age", "-r", recipient, "-o", str(work / "by-age.age"), str(work / "plain")]
    subprocess.run(age_seal, check=True)
    results: dict[str, dict[str, Run]] = {}
    for name, commands in tools(work, key, recipient).items():
        inner = name.startswith("crypto.age")
        print(f"  {size} bytes, {name}: load average {os.getloadavg()[0]:.2f}", flush=True)
        results[name] = {"seal": measure(commands["seal"], inner_time=inner)}
        # What each tool sealed must open with age, and what it opened must be the plaintext.
        age_open = ["age", "-d", "-i", str(key), "-o", str(work / "opened"), str(work / "sealed")]
        subprocess.run(age_open, check=True)
        assert sha256(work / "opened") == expected, f"{name}: sealed file does not round-trip"
        os.unlink(work / "sealed")
        os.unlink(work / "opened")
        results[name]["open"] = measure(commands["open"], inner_time=inner)
        assert sha256(work / "opened") == expected, f"{name}: opened file differs"
        os.unlink(work / "opened")
    return results


def pick_dir(requested: Path | None, size: int) -> Path:
    if requested is not None:
        return requested
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 4 * size + (1 << 30):
        return shm
    return Path(tempfile.gettempdir())


def mib(n: float) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def report(
    size: int, results: dict[str, dict[str, Run]], small_size: int, small: dict[str, dict[str, Run]]
) -> None:
    age = results["age"]
    half = f"{'MB/s':>8}{'x age':>7}{'CPU s':>7}{'peak RSS':>11}"
    print(f"\n{'':24}{'seal':^33}  {'open':^33}\n{'':24}{half}  {half}")
    for name, runs in results.items():
        cells = []
        for op in ("seal", "open"):
            run = runs[op]
            rate, ratio = size / run.seconds / 1e6, age[op].seconds / run.seconds
            cells.append(f"{rate:8.1f}{ratio:7.2f}{run.cpu:7.2f}{mib(run.peak_rss):>11}")
        print(f"{name:24}{cells[0]}  {cells[1]}")
    print(f"\npeak RSS at {mib(small_size)} vs {mib(size)}:")
    for name in results:
        pairs = [
            f"{op} {mib(small[name][op].peak_rss)} vs {mib(results[name][op].peak_rss)}"
            for op in ("seal", "open")
        ]
        print(f"  {name:26}" + ";  ".join(pairs))


def profile(size: int, base: Path) -> None:
    """Where in-process time goes: cProfile of sealing and opening `size` bytes."""
    with tempfile.TemporaryDirectory(dir=base, prefix="bench-crypto-") as work_dir:
        work = Path(work_dir)
        key = work / "key.txt"
        subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
        make_plaintext(work / "plain", size)
        wrapped = f"import cProfile\ncProfile.run({CHILD!r}, sort='tottime')"
        for mode, src, dst in (("seal", "plain", "sealed"), ("open", "sealed", "opened")):
            argv = [sys.executable, "-c", wrapped, mode, str(key), str(work / src), str(work / dst)]
            done = subprocess.run(argv, capture_output=True, text=True, check=True)
            print(f"--- {mode} ---")
            print("\n".join(done.stdout.splitlines()[:30]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=1 << 30, help="default 1GiB")
    parser.add_argument("--small", type=parse_size, default=10 << 20, help="RSS comparison size")
    parser.add_argument("--dir", type=Path, help="working directory (default /dev/shm if roomy)")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process runs")
    args = parser.parse_args()
    base = pick_dir(args.dir, args.size)
    if args.profile:
        profile(args.size, base)
        return
    kind = "tmpfs in RAM: measures CPU, not the disk" if base == Path("/dev/shm") else "disk"
    age_version = subprocess.run(["age", "--version"], capture_output=True, text=True, check=True)
    print(f"bench/crypto.py: {args.size} bytes ({mib(args.size)}); files in {base} ({kind})")
    how = "GNU time (its child's ru_maxrss)" if GNU_TIME.exists() else "polling VmHWM"
    print(f"age {age_version.stdout.strip()}, python {sys.version.split()[0]}, RSS by {how}")
    print(f"{os.cpu_count()} CPUs, shared with whatever else runs: see the load averages")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory(dir=base, prefix="bench-crypto-") as small_dir:
        small = bench(Path(small_dir), args.small)
    with tempfile.TemporaryDirectory(dir=base, prefix="bench-crypto-") as work:
        results = bench(Path(work), args.size)
    report(args.size, results, args.small, small)
    print("load average at end:   {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(json.dumps({n: {op: vars(r) for op, r in runs.items()} for n, runs in results.items()}))


if __name__ == "__main__":
    main()
