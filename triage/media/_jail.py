"""The parser's cell, set up inside the child before it reads a byte of a witness file.

Applied in this order, each a reason of its own (docs/media.md):
- an address-space limit (RLIMIT_AS), a CPU limit and a zero file-size limit (the parser
  writes no file, so it cannot alter an original or leave plaintext behind);
- a network namespace when the kernel grants one (as root, or through an unprivileged user
  namespace): a socket opened from C then has no interface to reach;
- a Landlock ruleset where the kernel has Landlock (triage.media._landlock, applied by the
  child just before this filter): only the paths a parser needs may be opened, to read; none
  for PyAV; for ExifTool, Perl and what it loads (no /proc, no terminal, no user's file);
- always, every capability dropped (a root investigator's child would keep them all) and a
  seccomp filter, on every thread of the process at once (TSYNC: a thread a library started
  earlier is not left outside it). It is a denylist (triage.media._numbers names each call and
  why): sockets; changes to a file, its name, mode, times, extended attributes or flags;
  fallocate and shared file mappings (writes the zero file-size limit does not see);
  io_uring; ptrace, other processes' memory and descriptors (pidfd_getfd); signals to any
  process but itself, and the fcntl commands that have the kernel signal for it (F_SETOWN,
  F_SETSIG ...); limits, scheduling and memory placement of any process but itself
  (prlimit64, sched_*, setpriority, ioprio_set ...); System V and POSIX IPC and keyrings,
  which would outlive it (and, with the network namespace, an IPC namespace of its own);
  what only a privileged process may do (mount, reboot, modules, clocks ...); new processes
  (fork, vfork, a clone that is not a thread) and, for PyAV, every open of a path and every
  exec; for ExifTool, every open that could write (create, truncate, append, write) and
  every open whose flags it cannot read (which paths it may read is Landlock's part: the
  filter cannot see paths). It needs no privilege and works where
  namespaces are off, and Python's socket blocker would not see a socket FFmpeg or Perl opens
  from C. The parent (triage.media.probe.run_cell) is not dumpable while a child lives, so the
  child cannot read its memory through /proc.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import resource

from triage.media._bpf import program
from triage.media._numbers import NUMBERS

__all__ = ["confine", "drop_capabilities", "no_network", "seccomp_deny"]

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWIPC = 0x08000000
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def confine(address_space: int, cpu_seconds: int) -> None:
    """Resource limits for the rest of this process's life (and of what it execs)."""
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def no_network() -> str:
    """Move into new network and IPC namespaces if the kernel allows; returns "netns" or ""
    (then the seccomp filter alone keeps the parser off the network and off System V and
    POSIX IPC, which it refuses anyway). The IPC namespace ends with the child, and whatever
    was left in it."""
    libc = _libc()
    both = _CLONE_NEWNET | _CLONE_NEWIPC
    for flags in (both, _CLONE_NEWUSER | both):
        if libc.unshare(flags) == 0:
            return "netns"
    return ""


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as told:
            return int(told.read())
    except (OSError, ValueError):  # also in the cell: Landlock, applied first, grants no /proc
        return 63  # every bit a capability set can hold; PR_CAPBSET_DROP says EINVAL past it


def drop_capabilities() -> None:
    """No capability, now or after an exec: a root investigator's child (or one in a user
    namespace of its own) could otherwise mount, reboot or read the parent's memory. The
    bounding set (needs CAP_SETPCAP: a child that is not root has nothing there to lose),
    the ambient set, then the effective, permitted and inheritable sets."""
    libc = _libc()
    for cap in range(_last_cap() + 1):
        dropped = libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) == 0
        if not dropped and ctypes.get_errno() not in (errno.EPERM, errno.EINVAL):
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
    if libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAP_AMBIENT_CLEAR_ALL) failed")
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    nothing = (_CapData * 2)()  # version 3: two 32-bit halves, all zero
    if libc.capset(ctypes.byref(header), nothing) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def seccomp_deny(*, opens: bool) -> None:
    """Drop every capability, then install the filter on every thread of this process, for
    the rest of its life and of what it execs. With `opens` (PyAV) no path may be opened and
    nothing exec'd; without (ExifTool, whose Perl opens its modules) paths may be opened to
    read only and the one exec of exiftool is left possible, but no new process. Raises
    OSError where no filter can be installed."""
    machine = platform.machine()
    if machine not in NUMBERS:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {machine}")
    seccomp, code = program(machine, opens=opens)
    buffer = ctypes.create_string_buffer(code)
    prog = _Prog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    drop_capabilities()
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    done = libc.syscall(
        ctypes.c_long(seccomp), ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
        ctypes.c_long(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog),
    )  # fmt: skip
    if done != 0:  # -1 with errno, or the id of a thread that could not be synchronised
        raise OSError(ctypes.get_errno(), f"seccomp filter refused ({done})")
