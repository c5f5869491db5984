"""The second attacker review of the cell: each probe runs inside the real cell (run_cell, the
child's limits, network namespace and filter) and tries to reach outside it: through the
parent's descriptors or memory, by signalling other processes, with root's capabilities, or
by changing a file's metadata."""

from __future__ import annotations

import ctypes
import os
import platform
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import triage
from triage.media.probe import run_cell

ROOT = str(Path(triage.__file__).parents[1])
_PRELUDE = """
import ctypes, errno, mmap, os, sys
sys.path.insert(0, sys.argv[2])
from triage.media._jail import confine, no_network, seccomp_deny
from triage.media._landlock import exiftool_paths, restrict
confine(1 << 30, 10)
if "nons" not in sys.argv:  # a machine that grants no network namespace
    no_network()
import shutil  # the ruleset the child gives each cell (triage.media._child._shut)
if "nolandlock" not in sys.argv:  # a kernel without Landlock
    restrict({} if sys.argv[1] == "pyav" else exiftool_paths(shutil.which("exiftool") or "/bin/sh"))
seccomp_deny(opens=sys.argv[1] == "pyav")
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sc(*a):
    done = libc.syscall(*[ctypes.c_long(x) if isinstance(x, int) else x for x in a])
    return "ok" if done >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")
def tried(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, "?")
"""
CELLS = ("pyav", "exiftool")
NR = {"pidfd_open": 434, "pidfd_getfd": 438, "pidfd_send_signal": 424}
X86 = {"kcmp": 312, "tkill": 200, "utimes": 235, "setxattrat": 463, "removexattrat": 466}


def _cell(which: str, code: str, *args: str, given: str = os.devnull) -> dict[str, str]:
    """Each `name=value` line the probe printed, run inside the `which` cell with `given`
    on its standard input."""
    with open(given, "rb") as source:
        out, why = run_cell(
            [sys.executable, "-c", _PRELUDE + code, which, ROOT, *args],
            source.fileno(), 20, 1 << 20,
        )  # fmt: skip
    assert out is not None, why
    return dict(line.split("=", 1) for line in out.decode().splitlines() if "=" in line)


@pytest.mark.parametrize("which", CELLS)
def test_the_cell_cannot_borrow_a_descriptor_or_read_its_parent(which: str, tmp_path: Path):
    victim = tmp_path / "triage.sqlite"
    victim.write_bytes(b"A" * 16384)
    held = os.open(victim, os.O_RDWR)  # like the workspace's own descriptor
    try:
        said = _cell(which, """
ppid = os.getppid()
print("pidfd_open=" + sc(434, ppid, 0))
print("pidfd_getfd=" + sc(438, 3, 3, 0))  # refused before the kernel looks at the pidfd
print("ptrace_attach=" + sc(101, 16, ppid, 0, 0))
fd = 0  # the file itself, as the parsers get it (read-only)
print("mmap_shared=" + tried(lambda: mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)))
print("mmap_private=" + tried(lambda: mmap.mmap(-1, 4096, mmap.MAP_PRIVATE)))
print("fallocate=" + sc(285, fd, 3, 0, 4096))
print("process_vm_readv=" + sc(310, ppid, 0, 0, 0, 0, 0))
print("kcmp=" + sc(312, ppid, os.getpid(), 0, 0, 0))
if sys.argv[1] == "exiftool":
    print("parent_mem=" + tried(lambda: os.open(f"/proc/{ppid}/mem", os.O_RDONLY)))
""", given=str(victim))  # fmt: skip
    finally:
        os.close(held)
    assert said["pidfd_open"] == said["pidfd_getfd"] == said["ptrace_attach"] == "EACCES"
    assert said["mmap_shared"] == "EACCES"
    assert said["mmap_private"] == "ok"  # malloc and the loader still map memory
    assert said["fallocate"] == "EACCES"
    assert said["process_vm_readv"] == "EACCES"
    assert said["kcmp"] == "EACCES"
    if which == "exiftool":
        assert said["parent_mem"] in {"EACCES", "EPERM"}
    assert victim.read_bytes() == b"A" * 16384
    libc = ctypes.CDLL(None)
    assert libc.prctl(3, 0, 0, 0, 0) == 1  # PR_GET_DUMPABLE: dumpable again once it is over


@pytest.mark.parametrize("which", CELLS)
def test_the_cell_cannot_signal_other_processes(which: str):
    sibling = subprocess.Popen(["sleep", "60"])  # the investigator's other work
    try:
        said = _cell(which, """
sib = int(sys.argv[3])
print("kill=" + tried(lambda: os.kill(sib, 9)))
print("kill_all=" + sc(62, -1, 0))
print("tkill=" + sc(200, sib, 9))
print("tgkill=" + sc(234, sib, sib, 9))
print("rt_sigqueueinfo=" + sc(129, sib, 9, ctypes.create_string_buffer(128)))
print("own=" + tried(lambda: os.kill(os.getpid(), 0)))
""", str(sibling.pid))  # fmt: skip
        assert sibling.poll() is None
    finally:
        sibling.kill()
        sibling.wait()
    for name in ("kill", "kill_all", "tkill", "tgkill", "rt_sigqueueinfo"):
        assert said[name] == "EPERM", (name, said)
    assert said["own"] == "ok"


@pytest.mark.parametrize("which", CELLS)
def test_a_cell_that_aborts_is_killed(which: str):
    with open(os.devnull, "rb") as nothing:
        out, why = run_cell(
            [sys.executable, "-c", _PRELUDE + "os.abort()", which, ROOT],
            nothing.fileno(), 20, 1 << 20,
        )  # fmt: skip
    assert out is None
    assert why == f"the parser failed (signal {int(signal.SIGABRT)})"


@pytest.mark.skipif(os.geteuid() != 0, reason="root's capabilities: only as root")
@pytest.mark.parametrize("which", CELLS)
def test_a_cell_started_by_root_has_no_capabilities(which: str, tmp_path: Path):
    target = tmp_path / "mnt"
    target.mkdir()
    victim = tmp_path / "v"
    victim.write_text("x")
    said = _cell(which, """
header = (ctypes.c_uint32 * 2)(0x20080522, 0)
sets = (ctypes.c_uint32 * 6)()
libc.capget(header, sets)
print("effective_permitted_inheritable=" + ",".join(str(n) for n in sets))
print("bounding=" + ",".join(str(libc.prctl(36, c, 0, 0, 0)) for c in range(41)))
print("ambient=" + ",".join(str(libc.prctl(47, 1, c, 0, 0)) for c in range(41)))
print("mount=" + ("ok" if libc.mount(b"none", sys.argv[3].encode(), b"tmpfs", 0, None) == 0
                  else errno.errorcode[ctypes.get_errno()]))
print("acct=" + ("ok" if libc.acct(sys.argv[4].encode()) == 0
                 else errno.errorcode[ctypes.get_errno()]))
print("sethostname=" + sc(170, b"x", 1))
print("unshare=" + sc(272, 0x10000000 | 0x20000))
print("chroot=" + sc(161, b"/"))
""", str(target), str(victim))  # fmt: skip
    subprocess.run(["umount", str(target)], stderr=subprocess.DEVNULL, check=False)
    assert said["effective_permitted_inheritable"] == ",".join(["0"] * 6)
    assert set(said["bounding"].split(",")) == {"0"}  # PR_CAPBSET_READ: none left
    assert set(said["ambient"].split(",")) == {"0"}  # PR_CAP_AMBIENT_IS_SET
    for name in ("mount", "acct", "sethostname", "unshare", "chroot"):
        assert said[name] in {"EACCES", "EPERM"}, (name, said)
    assert not os.path.ismount(target)


@pytest.mark.parametrize("which", CELLS)
def test_the_cell_cannot_change_a_files_metadata(which: str, tmp_path: Path):
    victim = tmp_path / "v"
    victim.write_text("x")
    os.utime(victim, (0, 0))
    os.setxattr(victim, "user.keep", b"1")
    said = _cell(which, """
v = sys.argv[3].encode()
print("setxattr=" + sc(188, v, b"user.evil", b"1", 1, 0))
print("removexattr=" + sc(197, v, b"user.keep"))
print("setxattrat=" + sc(463, -100, v, 0, b"user.evil", 0, 0))
print("removexattrat=" + sc(466, -100, v, 0, b"user.keep"))
print("utimes=" + sc(235, v, 0))
print("utimensat=" + sc(280, -100, v, 0, 0))
print("utime=" + sc(132, v, 0))
print("futimesat=" + sc(261, -100, v, 0))
attr = (ctypes.c_uint64 * 3)(0x80)  # struct file_attr (24 bytes): FS_XFLAG_NODUMP
print("file_setattr=" + sc(469, -100, v, attr, 24, 0))
fd = 0  # the file itself, read-only (Landlock keeps ExifTool's cell from opening it again)
flags = ctypes.c_long(0x40)  # FS_NODUMP_FL
print("setflags=" + sc(16, fd, 0x40086602, ctypes.byref(flags)))
""", str(victim), given=str(victim))  # fmt: skip
    for name in ("setxattr", "removexattr", "utimes", "utimensat", "utime", "futimesat"):
        assert said[name] == "EACCES", (name, said)
    assert said["setxattrat"] in {"EACCES", "ENOSYS"}  # ENOSYS: a kernel before 6.13
    assert said["removexattrat"] in {"EACCES", "ENOSYS"}
    before_6_17 = tuple(int(n) for n in platform.release().split(".")[:2]) < (6, 17)
    assert said["file_setattr"] in ({"EACCES", "ENOSYS"} if before_6_17 else {"EACCES"})
    assert said["setflags"] == "EACCES"
    assert victim.stat().st_mtime == 0
    assert os.listxattr(victim) == ["user.keep"]


@pytest.mark.parametrize("which", CELLS)
def test_the_cell_gets_no_handle_on_a_path_through_open_tree_attr(which: str):
    # open_tree_attr(AT_FDCWD, "/", 0, NULL, 0) answers an O_PATH descriptor without any
    # privilege (found by review): the PyAV cell, which may open no path, would get one.
    said = _cell(which, """
print("open_tree_attr=" + sc(467, -100, b"/", 0, 0, 0))
print("open_tree=" + sc(428, -100, b"/", 0))
""")  # fmt: skip
    before_6_15 = tuple(int(n) for n in platform.release().split(".")[:2]) < (6, 15)
    assert said["open_tree_attr"] in ({"EACCES", "ENOSYS"} if before_6_15 else {"EACCES"})
    assert said["open_tree"] == "EACCES"


pytestmark = pytest.mark.skipif(
    os.uname().machine != "x86_64" or not hasattr(ctypes, "CDLL"),
    reason="the probes use x86_64 system call numbers",
)


_AS_INVESTIGATOR = """
import os, sys
sys.path.insert(0, sys.argv[1])
from triage.media.probe import run_cell
with open(os.devnull, "rb") as nothing:
    out, why = run_cell([sys.executable, "-c", sys.argv[2], "exiftool", sys.argv[1], "nons",
                         "nolandlock"],
                        nothing.fileno(), 20, 1 << 20)
print(out.decode() if out else why)
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root to start a parent without capabilities (setpriv)",
)
def test_the_cell_cannot_read_an_unprivileged_parents_memory():
    # A parent with capabilities is kept out by the child's having none (it may not trace a
    # process holding more than itself), and one in a user namespace of its own by that; an
    # investigator without any (here root's uid without a capability: the same files stay
    # readable), on a laptop that grants no user namespace and a kernel without Landlock
    # ("nolandlock": the ruleset grants no /proc), only by being not dumpable.
    mem = 'f"/proc/{os.getppid()}/mem"'
    probe = _PRELUDE + f'print("parent_mem=" + tried(lambda: os.open({mem}, 0)))'
    done = subprocess.run(
        ["setpriv", "--bounding-set=-all", "--inh-caps=-all",
         sys.executable, "-c", _AS_INVESTIGATOR, ROOT, probe],
        capture_output=True, text=True, check=False, cwd="/",
    )  # fmt: skip
    assert "parent_mem=EACCES" in done.stdout, (done.stdout, done.stderr)
