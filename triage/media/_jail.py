"""The parser's cell, set up inside the child before it reads a byte of a witness file.

Applied in this order, each a reason of its own (docs/media.md):
- an address-space limit (RLIMIT_AS), a CPU limit and a zero file-size limit (the parser
  writes no file, so it cannot alter an original or leave plaintext behind);
- a network namespace when the kernel grants one (as root, or through an unprivileged user
  namespace): a socket opened from C then has no interface to reach;
- always, a seccomp filter, on every thread of the process at once (TSYNC: a thread a library
  started earlier is not left outside it). It refuses sockets, changes to the file system
  (create, truncate, rename, link, unlink, mkdir, chmod, chown), io_uring (which would do all
  of that without a system call of its own), ptrace and access to other processes' memory,
  new processes (fork, vfork, a clone that is not a thread) and, for PyAV, every open of a
  path and every exec; for ExifTool, every open that could write (create, truncate, append,
  write) and every open whose flags it cannot read. It needs no privilege and works where
  namespaces are off, and Python's socket blocker would not see a socket FFmpeg or Perl opens
  from C.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import resource
import struct
from dataclasses import dataclass

__all__ = [
    "AUDIT_ARCH",
    "CHANGES",
    "EXECS",
    "NUMBERS",
    "OPENS",
    "OWN",
    "SOCKETS",
    "confine",
    "no_network",
    "seccomp_deny",
]

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_PR_SET_NO_NEW_PRIVS = 38
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


# What the filter refuses, by system call name; a name a machine does not have (aarch64 has
# no open, creat, rename, fork ...: only their *at forms) is simply absent from its table.
SOCKETS = ("socket", "socketpair")
OPENS = ("open", "openat", "openat2", "creat", "open_by_handle_at")
CHANGES = (
    "truncate", "ftruncate", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir",
    "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat", "mknod", "mknodat",
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "ptrace", "process_vm_readv", "process_vm_writev", "fork", "vfork",
)  # fmt: skip
EXECS = ("execve", "execveat")
# The filter's own machinery: installing it, and the calls whose flags it reads.
OWN = ("seccomp", "clone", "clone3")

# Each machine's numbers (the kernel's arch/*/entry/syscalls tables; aarch64 uses the
# generic table), checked name by name against libseccomp's scmp_sys_resolver by
# tests/triage/media/test_seccomp_numbers.py. Anything else gets no filter and the scan
# refuses to run (see seccomp_deny).
NUMBERS: dict[str, dict[str, int]] = {
    "x86_64": {
        "socket": 41, "socketpair": 53, "open": 2, "openat": 257, "openat2": 437, "creat": 85,
        "open_by_handle_at": 304, "truncate": 76, "ftruncate": 77, "rename": 82,
        "renameat": 264, "renameat2": 316, "mkdir": 83, "mkdirat": 258, "rmdir": 84,
        "link": 86, "linkat": 265, "unlink": 87, "unlinkat": 263, "symlink": 88,
        "symlinkat": 266, "mknod": 133, "mknodat": 259, "chmod": 90, "fchmod": 91,
        "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93, "lchown": 94,
        "fchownat": 260, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "ptrace": 101, "process_vm_readv": 310,
        "process_vm_writev": 311, "fork": 57, "vfork": 58, "execve": 59, "execveat": 322,
        "seccomp": 317, "clone": 56, "clone3": 435,
    },
    "aarch64": {
        "socket": 198, "socketpair": 199, "openat": 56, "openat2": 437,
        "open_by_handle_at": 265, "truncate": 45, "ftruncate": 46, "renameat": 38,
        "renameat2": 276, "mkdirat": 34, "linkat": 37, "unlinkat": 35, "symlinkat": 36,
        "mknodat": 33, "fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchown": 55,
        "fchownat": 54, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "ptrace": 117, "process_vm_readv": 270,
        "process_vm_writev": 271, "execve": 221, "execveat": 281, "seccomp": 277,
        "clone": 220, "clone3": 435,
    },
}  # fmt: skip
# AUDIT_ARCH_* of <linux/audit.h>: the ELF machine | 64-bit | little-endian, which the filter
# checks first (a call made under another ABI's numbers is killed).
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}


@dataclass(frozen=True)
class _Calls:
    """One machine's system call numbers, by what the filter does with them."""

    arch: int  # AUDIT_ARCH_*
    seccomp: int
    sockets: tuple[int, ...]
    opens: tuple[int, ...]
    changes: tuple[int, ...]
    execs: tuple[int, ...]
    clone: int
    clone3: int
    read_opens: tuple[tuple[int, int], ...]  # (number, index of the flags argument)

    @classmethod
    def of(cls, machine: str) -> _Calls:
        table = NUMBERS[machine]

        def group(names: tuple[str, ...]) -> tuple[int, ...]:
            return tuple(table[name] for name in names if name in table)

        return cls(
            AUDIT_ARCH[machine], table["seccomp"], group(SOCKETS), group(OPENS),
            group(CHANGES), group(EXECS), table["clone"], table["clone3"],
            tuple((table[name], arg) for name, arg in _FLAGS_ARG.items() if name in table),
        )  # fmt: skip


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def confine(address_space: int, cpu_seconds: int) -> None:
    """Resource limits for the rest of this process's life (and of what it execs)."""
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def no_network() -> str:
    """Move into a new network namespace if the kernel allows; returns "netns" or "" (then
    the seccomp filter alone keeps the parser off the network)."""
    libc = _libc()
    for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return "netns"
    return ""


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def _filter(
    calls: _Calls, denied: tuple[int, ...], read_only: tuple[tuple[int, int], ...], x32: bool
) -> bytes:
    refuse = _RET_ERRNO | errno.EACCES
    body = [_op(_LD_ABS, 4), _op(_JEQ, calls.arch, 1, 0), _op(_RET, _RET_KILL), _op(_LD_ABS, 0)]
    if x32:  # x32 system calls are the same calls under other numbers: refuse them all
        body += [_op(_JGE, _X32_BIT, 0, 1), _op(_RET, refuse)]
    for number in denied:
        body += [_op(_JEQ, number, 0, 1), _op(_RET, refuse)]
    for number, arg in read_only:  # an open that may write is refused, one that reads allowed
        body += [_op(_JEQ, number, 0, 4), _op(_LD_ABS, _ARG0 + 8 * arg)]
        body += [_op(_JSET, _WRITE_FLAGS, 0, 1), _op(_RET, refuse), _op(_RET, _RET_ALLOW)]
    # clone3 hides its flags in memory a filter cannot read: "not here" makes the C library
    # fall back to clone, whose flags it can. A clone without CLONE_THREAD is a new process.
    body += [_op(_JEQ, calls.clone3, 0, 1), _op(_RET, _RET_ERRNO | errno.ENOSYS)]
    body += [_op(_JEQ, calls.clone, 0, 3), _op(_LD_ABS, _ARG0)]
    body += [_op(_JSET, _CLONE_THREAD, 1, 0), _op(_RET, refuse)]
    body.append(_op(_RET, _RET_ALLOW))
    return b"".join(body)


def seccomp_deny(*, opens: bool) -> None:
    """Install the filter on every thread of this process, for the rest of its life and of
    what it execs. With `opens` (PyAV) no path may be opened and nothing exec'd; without
    (ExifTool, whose Perl opens its modules) paths may be opened to read only and the one exec
    of exiftool is left possible, but no new process. Raises OSError where no filter can be
    installed."""
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
