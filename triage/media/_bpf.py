"""The seccomp filter's program (classic BPF), built for one machine and one tool.

triage.media._jail installs it; triage.media._numbers names each call it refuses and why.
The program checks the architecture, refuses x32's numbers, then each refused call; calls
whose arguments decide (kill, tgkill, mmap, ioctl, fcntl, clone, the opens ExifTool may make,
the calls that name a process) are each one block that returns in both branches.
"""

from __future__ import annotations

import errno
import os
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

__all__ = ["program"]

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


def program(machine: str, *, opens: bool) -> tuple[int, bytes]:
    """The seccomp system call's number on `machine` and the filter for the tool: with
    `opens` (PyAV) no path may be opened and nothing exec'd; without (ExifTool) paths may be
    opened to read only and the one exec of exiftool is left possible."""
    calls = _Calls.of(machine)
    read_only: tuple[tuple[int, int], ...] = ()
    if opens:
        denied = calls.sockets + calls.changes + calls.opens + calls.execs
    else:  # the opens whose flags the filter cannot read (creat always writes) are refused
        flagged = {number for number, _ in calls.read_opens}
        denied = calls.sockets + calls.changes + tuple(n for n in calls.opens if n not in flagged)
        read_only = calls.read_opens
    return calls.seccomp, _filter(calls, denied, read_only, machine == "x86_64")
