"""The cell's Landlock ruleset: which paths a parser may still open, set before it reads a byte.

The seccomp filter (triage.media._jail) sees system calls, not paths. PyAV's cell may open
nothing at all, but ExifTool's Perl must open its modules, so without this its cell could read
whatever the investigator's account can: their files, and, where the cell gets no user
namespace, other dumpable processes of the same user (/proc/<pid>/mem, environ) and a
terminal's keystrokes (/dev/pts/N). Landlock (Linux 5.13, no privilege needed) limits the
cell to reading beneath the few paths named here: no /proc, no /dev but /dev/urandom, no home
and no /tmp; nothing may be written, made, removed, renamed, truncated or run but the one
program and its interpreter. Descriptors already open (the witness file on standard input, the
pipe back) are untouched, as Landlock checks only opens. From ABI 6 it also scopes signals
and abstract unix sockets to the cell (the filter refuses both already: depth).

Where the kernel has no Landlock (ENOSYS, or EOPNOTSUPP where it is built in but off), or a
sandbox around triage refuses the call (EPERM), the cell goes on without it (said once per
scan) and its isolation report says so by leaving "landlock" out, as for the network
namespace. Where it has Landlock, any failure to apply it is an error: the cell fails.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import shutil
import stat
from collections.abc import Mapping

__all__ = ["EXECUTE", "READ", "exiftool_paths", "landlock_abi", "restrict"]

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same on every machine
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
READ = _READ_FILE | _READ_DIR
_FILE_ONLY = EXECUTE | _WRITE_FILE | _READ_FILE | (1 << 14) | (1 << 15)  # +TRUNCATE, IOCTL_DEV
# Every filesystem right each ABI knows, all of them handled, so every one not granted below
# (write, make, remove, refer, truncate, device ioctls) is denied: ABI 1 has 13, 2 adds REFER,
# 3 TRUNCATE, 5 IOCTL_DEV; 4 adds TCP bind/connect, 6 the scopes, 7 only logging.
_FS_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_TCP = 0b11  # LANDLOCK_ACCESS_NET_BIND_TCP | CONNECT_TCP
_SCOPES = 0b11  # LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL
# The program loader each machine's ELF binaries name (fixed by its ABI), which the kernel
# opens to run Perl: it needs EXECUTE like the program itself.
_LOADER = {"x86_64": "/lib64/ld-linux-x86-64.so.2", "aarch64": "/lib/ld-linux-aarch64.so.1"}
_TRIPLET = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("handled_fs", "handled_net", "scoped")]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in <linux/landlock.h>
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _syscall(*args: object) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return int(libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args]))


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where it has none (ENOSYS), it is off
    (EOPNOTSUPP) or a sandbox around triage refuses calls it does not list (EPERM: systemd's
    SystemCallFilter, snap, container profiles), which would otherwise make every file
    unreadable there. Any other answer is an error."""
    version = _syscall(_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    if version < 0:
        if ctypes.get_errno() in (errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
            return 0
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset(VERSION) failed")
    return version


def exiftool_paths(program: str) -> dict[str, int]:
    """What ExifTool's Perl needs, found by tracing it on each kind of test file: to run the
    program, its interpreter (the #! line) and the loader; to read Perl's libraries (Debian's
    @INC, /usr/local's too), the shared libraries its XS modules load (zlib, bzip2 ...: package
    files only, in the machine's library directory), the C.UTF-8 locale, the loader's cache,
    and /dev/urandom (Perl's hash seed). A path that does not exist here is left out."""
    machine = platform.machine()
    triplet = _TRIPLET.get(machine, f"{machine}-linux-gnu")
    with open(program, "rb") as script:
        first = script.readline(256)
    runs = [program, _LOADER.get(machine, "")]
    if first.startswith(b"#!"):
        words = first[2:].decode().split()
        runs.append(words[0])
        if words[0].endswith("/env") and len(words) > 1:  # "#!/usr/bin/env perl"
            runs.append(shutil.which(words[1]) or "")
    reads = [
        "/usr/share/perl5", "/usr/share/perl", f"/usr/lib/{triplet}", "/etc/perl",
        "/usr/local/share/perl", f"/usr/local/lib/{triplet}/perl", "/usr/local/lib/site_perl",
        "/usr/lib/locale", "/usr/share/locale/locale.alias", "/etc/ld.so.cache",
        "/dev/urandom", os.path.join(os.path.dirname(os.path.realpath(program)), "lib"),
    ]  # fmt: skip
    paths = {path: READ for path in reads}
    paths.update({path: _READ_FILE | EXECUTE for path in runs if path})
    return paths


def restrict(paths: Mapping[str, int]) -> str:
    """Confine this process, and what it execs, to `paths` (each with READ or READ_FILE |
    EXECUTE beneath it); "landlock", or "" where the kernel has none. Only the calling thread
    is confined (Landlock's restrict_self acts on the caller), so a process with more threads is
    refused rather than half confined; exec leaves the calling thread alone anyway."""
    abi = landlock_abi()
    if abi == 0:
        return ""
    if len(os.listdir("/proc/self/task")) != 1:
        raise OSError(errno.EBUSY, "Landlock confines one thread: the cell has more")
    fs = _FS_RIGHTS[max(v for v in _FS_RIGHTS if v <= abi)]
    attr = _RulesetAttr(fs, _NET_TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
    ruleset = _syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for path, rights in paths.items():
            _allow(ruleset, path, rights & fs)
        if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if _syscall(_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return "landlock"


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # not installed here: nothing to grant
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_ONLY  # a file takes file rights only (READ_DIR: EINVAL)
        beneath = _PathBeneath(rights, fd)
        if _syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(beneath), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule({path}) failed")
    finally:
        os.close(fd)
