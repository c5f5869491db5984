"""The parser's cell, set up inside the child before it reads a byte of a witness file.

Applied in this order, each a reason of its own (docs/media.md):
- an address-space limit (RLIMIT_AS), a CPU limit and a zero file-size limit (the parser
  writes no file, so it cannot alter an original or leave plaintext behind);
- a network namespace when the kernel grants one (as root, or through an unprivileged user
  namespace): a socket opened from C then has no interface to reach;
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
  every open whose flags it cannot read. It needs no privilege and works where
  namespaces are off, and Python's socket blocker would not see a socket FFmpeg or Perl opens
  from C. The parent (triage.media.probe.run_cell) is not dumpable while a child lives, so the
  child cannot read its memory through /proc.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import struct
from dataclasses import dataclass

from triage.media._numbers import (
    AUDIT_ARCH,
    CHANGES,
    EXECS,
    IPC,
    NUMBERS,
    OPENS,
    PIDS,
    PRIVILEGED,
    SIGNALS,
    SOCKETS,
)

__all__ = ["confine", "drop_capabilities", "no_network", "seccomp_deny"]

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWIPC = 0x08000000
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_MAP_SHARED = 0x01
# ioctl commands that change a file without writing to it, and need no write access:
# FS_IOC_SETFLAGS (and its 32-bit form: chattr's append-only, no-dump ...),
# FS_IOC_FSSETXATTR, FS_IOC_SETVERSION (and 32-bit: the inode's generation), FS_IOC_ENABLE_VERITY
# (makes the file read-only for good), fscrypt's FS_IOC_SET_ENCRYPTION_POLICY,
# FS_IOC_ADD_ENCRYPTION_KEY, FS_IOC_REMOVE_ENCRYPTION_KEY(_ALL_USERS); the same on x86_64
# and aarch64 (asm-generic/ioctl.h; values from linux/fs.h, fsverity.h, fscrypt.h).
_IOCTLS = (
    0x40086602, 0x40046602, 0x401C5820, 0x40087602, 0x40047602, 0x40806685, 0x800C6613,
    0xC0506617, 0xC0406618, 0xC0406619,
)  # fmt: skip
# The only ioctl commands the parsers make (traced through every test file, PyAV's, the
# hashes' and ExifTool's): TCGETS and TIOCGWINSZ (is this a terminal, and how wide),
# FIONREAD, FIONBIO, FIOCLEX and FIONCLEX; the same numbers on x86_64 and aarch64
# (asm-generic/ioctls.h). Any other answers ENOTTY ("not for this file"), which a library
# takes as an ordinary no; those named in _IOCTLS answer EACCES, as before.
_IOCTLS_ALLOWED = (0x5401, 0x5413, 0x541B, 0x5421, 0x5451, 0x5450)
# fcntl commands that make the kernel act for the child on something outside it: F_SETOWN,
# F_SETOWN_EX and F_SETSIG (with O_ASYNC, a signal of the child's choosing sent to any pid
# of the same user, past the filter's kill rule), F_SETLEASE and F_NOTIFY (signals too).
_FCNTLS = (8, 15, 10, 1024, 1026)
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_CLONE_THREAD = 0x00010000
_RET_ALLOW = 0x7FFF0000
_RET_KILL = 0x80000000
_RET_ERRNO = 0x00050000
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_ARG0 = 16  # offsetof(struct seccomp_data, args[0]): its low 32 bits on a little-endian CPU
# (args[i] is 8 bytes further each)
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_X32_BIT = 0x40000000
# O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE: the same bits on x86_64 and
# aarch64 (asm-generic/fcntl.h). An open with none of them only reads.
_WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000 | 0o20000000
# Where the flags are among the arguments of the opens ExifTool's cell may make.
_FLAGS_ARG = {"open": 1, "openat": 2}


@dataclass(frozen=True)
class _Calls:
    """One machine's system call numbers, by what the filter does with them."""

    arch: int  # AUDIT_ARCH_*
    seccomp: int
    sockets: tuple[int, ...]
    opens: tuple[int, ...]
    changes: tuple[int, ...]  # CHANGES and PRIVILEGED: EACCES
    signals: tuple[int, ...]  # EPERM
    execs: tuple[int, ...]
    own: dict[str, int]  # clone, clone3, mmap, ioctl, fcntl, kill, tgkill: arguments read
    pids: tuple[tuple[int, int, int | None], ...]  # (number, pid argument, "which" value)
    read_opens: tuple[tuple[int, int], ...]  # (number, index of the flags argument)

    @classmethod
    def of(cls, machine: str) -> _Calls:
        table = NUMBERS[machine]

        def group(names: tuple[str, ...]) -> tuple[int, ...]:
            return tuple(table[name] for name in names if name in table)

        own = ("clone", "clone3", "mmap", "ioctl", "fcntl", "kill", "tgkill")
        return cls(
            AUDIT_ARCH[machine], table["seccomp"], group(SOCKETS), group(OPENS),
            group(CHANGES + PRIVILEGED + IPC), group(SIGNALS), group(EXECS),
            {name: table[name] for name in own},
            tuple((table[name], arg, which) for name, (arg, which) in PIDS.items()),
            tuple((table[name], arg) for name, arg in _FLAGS_ARG.items() if name in table),
        )  # fmt: skip


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
    except (OSError, ValueError):
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


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def _argument_checks(own: dict[str, int], refuse: int) -> list[bytes]:
    """The calls allowed or refused by an argument. Each block loads the argument and
    returns in both branches, so what follows still sees the call's number."""
    signal_refused = _RET_ERRNO | errno.EPERM
    body: list[bytes] = []
    for name in ("kill", "tgkill"):  # at the child itself (raise, abort), or at nobody
        body += [_op(_JEQ, own[name], 0, 4), _op(_LD_ABS, _ARG0)]
        body += [_op(_JEQ, os.getpid(), 0, 1), _op(_RET, _RET_ALLOW), _op(_RET, signal_refused)]
    # mmap with MAP_SHARED (MAP_SHARED_VALIDATE has the bit too): a shared writable mapping
    # writes to the file behind it, past the zero file-size limit.
    body += [_op(_JEQ, own["mmap"], 0, 4), _op(_LD_ABS, _ARG0 + 8 * 3)]
    body += [_op(_JSET, _MAP_SHARED, 0, 1), _op(_RET, refuse), _op(_RET, _RET_ALLOW)]
    body += _ioctls(own["ioctl"], refuse)
    return body + _refused_values(own["fcntl"], _ARG0 + 8, _FCNTLS, refuse)


def _ioctls(number: int, refuse: int) -> list[bytes]:
    """ioctl allowed with the commands of _IOCTLS_ALLOWED only: EACCES for those of _IOCTLS,
    ENOTTY for the rest."""
    allowed, named = len(_IOCTLS_ALLOWED), len(_IOCTLS)
    body = [_op(_JEQ, number, 0, allowed + named + 4), _op(_LD_ABS, _ARG0 + 8)]
    for i, command in enumerate(_IOCTLS_ALLOWED):  # jumps over the rest and the ENOTTY
        body.append(_op(_JEQ, command, allowed - i - 1 + named + 1, 0))
    for i, command in enumerate(_IOCTLS):  # jumps over the rest, the ENOTTY and the allow
        body.append(_op(_JEQ, command, named - i - 1 + 2, 0))
    not_a_tty = _RET_ERRNO | errno.ENOTTY
    return [*body, _op(_RET, not_a_tty), _op(_RET, _RET_ALLOW), _op(_RET, refuse)]


def _refused_values(number: int, offset: int, values: tuple[int, ...], refuse: int) -> list[bytes]:
    """The call `number` refused when the argument at `offset` is one of `values`."""
    body = [_op(_JEQ, number, 0, len(values) + 3), _op(_LD_ABS, offset)]
    for i, value in enumerate(values):  # a match jumps over the rest and the allow
        body.append(_op(_JEQ, value, len(values) - i, 0))
    return [*body, _op(_RET, _RET_ALLOW), _op(_RET, refuse)]


def _own_process_only(pids: tuple[tuple[int, int, int | None], ...]) -> list[bytes]:
    """Each call that names a process allowed on the child itself only (0 or its pid), and,
    where it takes a "which" first, only when that names a single process."""
    body: list[bytes] = []
    for number, arg, which in pids:
        block = [_op(_LD_ABS, _ARG0 + 8 * arg), _op(_JEQ, 0, 2, 0), _op(_JEQ, os.getpid(), 1, 0)]
        if which is not None:  # a wrong "which" jumps straight to the refusal
            block = [_op(_LD_ABS, _ARG0), _op(_JEQ, which, 0, 3), *block]
        block += [_op(_RET, _RET_ERRNO | errno.EPERM), _op(_RET, _RET_ALLOW)]
        body += [_op(_JEQ, number, 0, len(block)), *block]
    return body


def _filter(
    calls: _Calls, denied: tuple[int, ...], read_only: tuple[tuple[int, int], ...], x32: bool
) -> bytes:
    refuse = _RET_ERRNO | errno.EACCES
    body = [_op(_LD_ABS, 4), _op(_JEQ, calls.arch, 1, 0), _op(_RET, _RET_KILL), _op(_LD_ABS, 0)]
    if x32:  # x32 system calls are the same calls under other numbers: refuse them all
        body += [_op(_JGE, _X32_BIT, 0, 1), _op(_RET, refuse)]
    for number in denied:
        body += [_op(_JEQ, number, 0, 1), _op(_RET, refuse)]
    for number in calls.signals:
        body += [_op(_JEQ, number, 0, 1), _op(_RET, _RET_ERRNO | errno.EPERM)]
    body += _argument_checks(calls.own, refuse) + _own_process_only(calls.pids)
    for number, arg in read_only:  # an open that may write is refused, one that reads allowed
        body += [_op(_JEQ, number, 0, 4), _op(_LD_ABS, _ARG0 + 8 * arg)]
        body += [_op(_JSET, _WRITE_FLAGS, 0, 1), _op(_RET, refuse), _op(_RET, _RET_ALLOW)]
    # clone3 hides its flags in memory a filter cannot read: "not here" makes the C library
    # fall back to clone, whose flags it can. A clone without CLONE_THREAD is a new process.
    body += [_op(_JEQ, calls.own["clone3"], 0, 1), _op(_RET, _RET_ERRNO | errno.ENOSYS)]
    body += [_op(_JEQ, calls.own["clone"], 0, 3), _op(_LD_ABS, _ARG0)]
    body += [_op(_JSET, _CLONE_THREAD, 1, 0), _op(_RET, refuse)]
    body.append(_op(_RET, _RET_ALLOW))
    return b"".join(body)


def seccomp_deny(*, opens: bool) -> None:
    """Drop every capability, then install the filter on every thread of this process, for
    the rest of its life and of what it execs. With `opens` (PyAV) no path may be opened and
    nothing exec'd; without (ExifTool, whose Perl opens its modules) paths may be opened to
    read only and the one exec of exiftool is left possible, but no new process. Raises
    OSError where no filter can be installed."""
    machine = platform.machine()
    if machine not in NUMBERS:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {machine}")
    calls = _Calls.of(machine)
    read_only: tuple[tuple[int, int], ...] = ()
    if opens:
        denied = calls.sockets + calls.changes + calls.opens + calls.execs
    else:  # the opens whose flags the filter cannot read (creat always writes) are refused
        flagged = {number for number, _ in calls.read_opens}
        denied = calls.sockets + calls.changes + tuple(n for n in calls.opens if n not in flagged)
        read_only = calls.read_opens
    program = _filter(calls, denied, read_only, machine == "x86_64")
    buffer = ctypes.create_string_buffer(program)
    prog = _Prog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    drop_capabilities()
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    done = libc.syscall(
        ctypes.c_long(calls.seccomp), ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
        ctypes.c_long(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog),
    )  # fmt: skip
    if done != 0:  # -1 with errno, or the id of a thread that could not be synchronised
        raise OSError(ctypes.get_errno(), f"seccomp filter refused ({done})")
