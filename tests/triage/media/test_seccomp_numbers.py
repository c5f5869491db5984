"""The seccomp filter's numbers, checked against libseccomp for every machine we filter on.

Only x86_64 runs here; a wrong aarch64 number would let that call through on an ARM laptop
with nothing to notice. libseccomp's own tables are the reference: `scmp_sys_resolver`
(Debian's `seccomp` package) for system call numbers, libseccomp's
`seccomp_arch_resolve_name` for the AUDIT_ARCH_* constants (its architecture tokens are
those constants).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess

import pytest

from triage.media._numbers import (
    AUDIT_ARCH,
    CHANGES,
    EXECS,
    IPC,
    NEWER,
    NUMBERS,
    OPENS,
    OWN,
    PIDS,
    PRIVILEGED,
    SIGNALS,
    SOCKETS,
)

RESOLVER = shutil.which("scmp_sys_resolver")
NAMES = SOCKETS + OPENS + CHANGES + PRIVILEGED + SIGNALS + EXECS + OWN + IPC + tuple(PIDS)
# Calls newer than Debian 12's libseccomp 2.5.4, which answers -1 for them (as if the machine
# lacked them), from the kernel's generic table (scripts/syscall.tbl, which aarch64 uses) and
# x86_64's syscall_64.tbl, where each is "common" with the same number: written here by hand,
# apart from the code's table. Linux 6.13's setxattrat and removexattrat; 6.17's file_setattr
# (468 is file_getattr, which only reads).
BY_HAND = {"setxattrat": 463, "removexattrat": 466, "open_tree_attr": 467, "file_setattr": 469}


def _resolve(machine: str, names: tuple[str, ...]) -> dict[str, int]:
    """libseccomp's number for each name on `machine`; negative where the machine lacks it."""
    assert RESOLVER, "scmp_sys_resolver missing: `make tools` installs Debian's seccomp"
    numbers = {}
    for name in names:
        done = subprocess.run(
            [RESOLVER, "-a", machine, name], capture_output=True, text=True, check=True
        )
        numbers[name] = int(done.stdout.strip())
        if numbers[name] < 0 and name in BY_HAND:  # not known to this libseccomp yet
            numbers[name] = BY_HAND[name]
    return numbers


def test_we_filter_on_x86_64_and_aarch64():
    assert set(NUMBERS) == set(AUDIT_ARCH) == {"x86_64", "aarch64"}


@pytest.mark.parametrize("machine", sorted(NUMBERS))
def test_every_number_is_libseccomps(machine: str):
    ours = NUMBERS[machine]
    assert set(ours) <= set(NAMES)  # no number the filter would not use
    theirs = _resolve(machine, NAMES)
    # Every call the machine has is numbered (none silently left out of the filter), and
    # none it lacks is given a number (one that would then mean another call).
    assert {name: n for name, n in theirs.items() if n >= 0} == ours


def test_audit_arch_constants_are_libseccomps():
    lib = ctypes.util.find_library("seccomp")
    assert lib, "libseccomp2 (a dependency of the seccomp package) is missing"
    resolve = ctypes.CDLL(lib).seccomp_arch_resolve_name
    resolve.argtypes = [ctypes.c_char_p]
    resolve.restype = ctypes.c_uint32
    assert {m: resolve(m.encode()) for m in AUDIT_ARCH} == AUDIT_ARCH


def test_the_hand_written_numbers_are_only_those_libseccomp_lacks():
    # Once libseccomp knows them, its numbers take over above; until then both tables agree.
    assert NEWER == BY_HAND
    for machine in NUMBERS:
        for name, number in NEWER.items():
            assert NUMBERS[machine][name] == number
