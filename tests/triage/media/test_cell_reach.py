"""The third attacker review of the cell: each probe runs inside the real cell and reaches for
what outlives or surrounds it: another process's limits or scheduling, a signal delivered by
the kernel on its behalf (F_SETOWN + O_ASYNC), a file's generation, verity or encryption,
System V and POSIX IPC or keyrings left behind with plaintext in them."""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.triage.media.test_cell_escapes import CELLS, _cell

pytestmark = pytest.mark.skipif(
    os.uname().machine != "x86_64", reason="the probes use x86_64 system call numbers"
)


@pytest.mark.parametrize("which", CELLS)
def test_the_cell_cannot_change_another_process_limits_or_scheduling(which: str):
    sibling = subprocess.Popen(["sleep", "60"])  # the investigator's other work
    before = resource.prlimit(sibling.pid, resource.RLIMIT_NOFILE)
    try:
        said = _cell(which, """
sib, ppid, me = int(sys.argv[3]), os.getppid(), os.getpid()
zero = (ctypes.c_ulong * 2)(0, 0)
print("prlimit_parent=" + sc(302, ppid, 7, zero, 0))  # RLIMIT_NOFILE
print("prlimit_sibling=" + sc(302, sib, 0, zero, 0))  # RLIMIT_CPU 0: SIGKILL
print("prlimit_own=" + sc(302, 0, 7, 0, ctypes.byref(zero)))
print("prlimit_self=" + sc(302, me, 7, 0, ctypes.byref(zero)))
print("setpriority=" + sc(141, 0, sib, 19))
print("setpriority_user=" + sc(141, 2, 0, 19))  # PRIO_USER: every process of the uid
print("setpriority_own=" + sc(141, 0, 0, 1))
mask = (ctypes.c_ulong * 16)(1)
print("affinity=" + sc(203, sib, 128, mask))
print("affinity_own=" + sc(203, 0, 128, mask))
param = (ctypes.c_int * 1)(0)
print("setscheduler=" + sc(144, sib, 5, param))  # SCHED_IDLE
print("setparam=" + sc(142, sib, param))
print("setattr=" + sc(314, sib, ctypes.create_string_buffer(56), 0))
print("ioprio=" + sc(251, 1, sib, (3 << 13)))  # IOPRIO_CLASS_IDLE
print("ioprio_own=" + sc(251, 1, 0, (2 << 13) | 4))
print("migrate_pages=" + sc(256, sib, 64, mask, mask))
print("move_pages=" + sc(279, sib, 0, 0, 0, 0, 0))
""", str(sibling.pid))  # fmt: skip
        assert sibling.poll() is None
        assert resource.prlimit(sibling.pid, resource.RLIMIT_NOFILE) == before
    finally:
        sibling.kill()
        sibling.wait()
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] > 0
    for name in ("prlimit_parent", "prlimit_sibling", "setpriority", "setpriority_user",
                 "affinity", "setscheduler", "setparam", "setattr", "ioprio",
                 "migrate_pages", "move_pages"):  # fmt: skip
        assert said[name] == "EPERM", (name, said)
    for name in ("prlimit_own", "prlimit_self", "setpriority_own", "affinity_own", "ioprio_own"):
        assert said[name] == "ok", (name, said)


@pytest.mark.parametrize("which", CELLS)
def test_the_cell_cannot_have_the_kernel_signal_for_it(which: str):
    sibling = subprocess.Popen(["sleep", "60"])
    try:
        said = _cell(which, """
sib = int(sys.argv[3])  # fcntl by number: the module is not importable once opens are refused
r, w = os.pipe()
print("setown=" + sc(72, r, 8, sib))  # F_SETOWN
own = (ctypes.c_int * 2)(0, sib)  # F_OWNER_TID
print("setown_ex=" + sc(72, r, 15, own))
print("setsig=" + sc(72, r, 10, 9))  # F_SETSIG SIGKILL
print("setlease=" + sc(72, 0, 1024, 0))  # F_SETLEASE F_RDLCK
print("notify=" + sc(72, r, 1026, 0))  # F_NOTIFY
print("fiosetown=" + sc(16, r, 0x8901, ctypes.byref(ctypes.c_int(sib))))  # the same by ioctl
print("fioasync=" + sc(16, r, 0x5452, ctypes.byref(ctypes.c_int(1))))  # O_ASYNC by ioctl
print("getfl=" + sc(72, r, 3))  # F_GETFL
print("setfd=" + sc(72, r, 2, 1))  # F_SETFD FD_CLOEXEC
print("setfl=" + sc(72, r, 4, 0o20000 | os.O_NONBLOCK))  # F_SETFL O_ASYNC
os.write(w, b"x")
print("flock=" + sc(73, 0, 1))  # LOCK_SH
print("userfaultfd=" + sc(323, 0))
print("perf_event_open=" + sc(298, 0, sib, -1, -1, 0))  # sigtrap would signal the sibling
""", str(sibling.pid))  # fmt: skip
        assert sibling.poll() is None
    finally:
        sibling.kill()
        sibling.wait()
    refused = ("setown", "setown_ex", "setsig", "setlease", "notify", "flock", "userfaultfd")
    for name in (*refused, "perf_event_open"):
        assert said[name] in {"EACCES", "EPERM"}, (name, said)
    for name in ("fiosetown", "fioasync"):  # not among the ioctls the parsers make
        assert said[name] == "ENOTTY", (name, said)
    for name in ("getfl", "setfd", "setfl"):
        assert said[name] == "ok", (name, said)


@pytest.mark.parametrize("which", CELLS)
def test_the_cell_cannot_set_a_files_generation_verity_or_encryption(which: str):
    # Not tmp_path (a tmpfs here may lack the ioctls): a file on /work's filesystem.
    with tempfile.NamedTemporaryFile(dir=Path(__file__).parent) as victim:
        victim.write(b"x" * 4096)
        victim.flush()
        said = _cell(which, """
fd = 0  # the file itself, as the parsers get it
gen = ctypes.c_long(12345)
print("setversion=" + sc(16, fd, 0x40087602, ctypes.byref(gen)))
print("setversion32=" + sc(16, fd, 0x40047602, ctypes.byref(gen)))
print("verity=" + sc(16, fd, 0x40806685, ctypes.create_string_buffer(128)))
print("encrypt=" + sc(16, fd, 0x800C6613, ctypes.create_string_buffer(12)))
print("add_key=" + sc(16, fd, 0xC0506617, ctypes.create_string_buffer(128)))
print("fionread=" + sc(16, fd, 0x541B, ctypes.byref(ctypes.c_int())))
""", given=victim.name)  # fmt: skip
    for name in ("setversion", "setversion32", "verity", "encrypt", "add_key"):
        assert said[name] == "EACCES", (name, said)
    assert said["fionread"] in {"ok", "ENOTTY", "EINVAL"}


@pytest.mark.parametrize("which", CELLS)
def test_nothing_the_cell_shares_outlives_it(which: str):
    said = _cell(which, """
print("shmget=" + sc(29, 0, 4096, 0o1600))  # IPC_PRIVATE | IPC_CREAT
print("msgget=" + sc(68, 0, 0o1600))
print("semget=" + sc(64, 0, 1, 0o1600))
print("shmat=" + sc(30, 0, 0, 0))
print("mq_open=" + sc(240, b"cell", 0o100 | 2, 0o600, 0))
print("add_key=" + sc(248, b"user", b"k", b"plaintext", 9, -2))  # the user keyring
print("keyctl=" + sc(250, 0, -3, 0))  # KEYCTL_GET_KEYRING_ID of the session keyring
print("ipcns=" + os.readlink("/proc/self/ns/ipc"))
print("netns=" + os.readlink("/proc/self/ns/net"))
""")  # fmt: skip
    for name in ("shmget", "msgget", "semget", "shmat", "mq_open", "add_key", "keyctl"):
        assert said[name] in {"EACCES", "EPERM"}, (name, said)
    if said["netns"] != os.readlink("/proc/self/ns/net"):  # namespaces granted: both new
        assert said["ipcns"] != os.readlink("/proc/self/ns/ipc")


@pytest.mark.parametrize("which", CELLS)
def test_the_cell_makes_only_the_ioctls_the_parsers_need(which: str):
    said = _cell(which, """
n = ctypes.c_int(0)
r, w = os.pipe()
print("fionread=" + sc(16, r, 0x541B, ctypes.byref(n)))  # FIONREAD
print("fioclex=" + sc(16, 0, 0x5451, 0))  # FIOCLEX
print("fionclex=" + sc(16, 0, 0x5450, 0))  # FIONCLEX
print("fionbio=" + sc(16, 0, 0x5421, ctypes.byref(n)))  # FIONBIO 0
print("tcgets=" + sc(16, 0, 0x5401, ctypes.create_string_buffer(64)))
print("getflags=" + sc(16, 0, 0x80086601, ctypes.byref(ctypes.c_long())))  # FS_IOC_GETFLAGS
print("fiemap=" + sc(16, 0, 0xC020660B, ctypes.create_string_buffer(64)))  # FS_IOC_FIEMAP
print("tiocsti=" + sc(16, 1, 0x5412, ctypes.byref(ctypes.c_char(b"x"))))  # TIOCSTI
""", given=__file__)  # fmt: skip
    for name in ("fionread", "fioclex", "fionclex", "fionbio"):
        assert said[name] == "ok", (name, said)
    assert said["tcgets"] == "ENOTTY"  # the kernel's own answer: the input is not a terminal
    # Any other command, even one this regular file would answer: "not for this file".
    for name in ("getflags", "fiemap", "tiocsti"):
        assert said[name] == "ENOTTY", (name, said)
