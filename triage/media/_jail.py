"""The parser's cell, set up inside the child before it reads a byte of a witness file.

Applied in this order, each a reason of its own (docs/media.md):
- an address-space limit (RLIMIT_AS), a CPU limit and a zero file-size limit (the parser
  writes no file, so it cannot alter an original or leave plaintext behind);
- a network namespace when the kernel grants one (as root, or through an unprivileged user
  namespace): a socket opened from C then has no interface to reach;
- always, a seccomp filter refusing socket(2) and socketpair(2) (and, for PyAV, every open of
  a path): it needs no privilege and works where namespaces are off, and Python's socket
  blocker would not see a socket FFmpeg or Perl opens from C.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import resource
import struct

__all__ = ["confine", "no_network", "seccomp_deny"]

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_KILL = 0x80000000
_RET_ERRNO = 0x00050000
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_X32_BIT = 0x40000000

# (audit arch, socket syscalls, open syscalls) per machine; anything else gets no filter and
# the scan refuses to run (see seccomp_deny).
_ARCH = {
    "x86_64": (0xC000003E, (41, 53), (2, 257, 437)),
    "aarch64": (0xC00000B7, (198, 199), (56, 437)),
}


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


def _filter(arch: int, denied: tuple[int, ...], x32_guard: bool) -> bytes:
    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    refuse = _RET_ERRNO | errno.EACCES
    body = [op(_LD_ABS, 4), op(_JEQ, arch, 1, 0), op(_RET, _RET_KILL), op(_LD_ABS, 0)]
    if x32_guard:  # x32 system calls are the same calls under other numbers: refuse them all
        body += [op(_JGE, _X32_BIT, 0, 1), op(_RET, refuse)]
    for number in denied:
        body += [op(_JEQ, number, 0, 1), op(_RET, refuse)]
    body.append(op(_RET, _RET_ALLOW))
    return b"".join(body)


def seccomp_deny(*, opens: bool) -> None:
    """Refuse socket creation (and, with `opens`, opening any path) from now on, for this
    process and what it execs. Raises OSError where no filter can be installed."""
    machine = platform.machine()
    if machine not in _ARCH:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {machine}")
    arch, sockets, open_calls = _ARCH[machine]
    program = _filter(arch, sockets + (open_calls if opens else ()), machine == "x86_64")
    buffer = ctypes.create_string_buffer(program)
    prog = _Prog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = _libc()
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter refused")
