"""The system calls the cell's filter (triage.media._jail) refuses, by name and by machine.

Each group says why it is refused (docs/media.md, "The cell"). A name a machine does not have
(aarch64 has no open, creat, rename, fork, utimes ...: only their *at forms) is simply absent
from its table. The numbers are the kernel's (arch/*/entry/syscalls; aarch64 uses the generic
table), checked name by name against libseccomp's scmp_sys_resolver by
tests/triage/media/test_seccomp_numbers.py.
"""

from __future__ import annotations

__all__ = [
    "AUDIT_ARCH",
    "CHANGES",
    "EXECS",
    "IPC",
    "NEWER",
    "NUMBERS",
    "OPENS",
    "OWN",
    "PIDS",
    "PRIVILEGED",
    "SIGNALS",
    "SOCKETS",
]

SOCKETS = ("socket", "socketpair")
OPENS = ("open", "openat", "openat2", "creat", "open_by_handle_at")
# Changes to a file, its name, its mode, its times, its extended attributes or its flags
# (file_setattr, Linux 6.17: chattr's immutable, append-only, nodump ... flags and project id,
# by path, which a file's owner may set; the FS_IOC_FSSETXATTR ioctl that does the same is
# refused too); io_uring (which would do all of that without a system call of its own);
# fallocate (a hole punched through a descriptor is a write the zero file-size limit does not
# see); another process's memory or descriptors (pidfd_getfd would lend the parent's
# read-write workspace descriptor); a process; perf_event_open (with sigtrap it signals another
# process of the same user, past the kill rule, where the cell has no user namespace; no
# parser uses it).
CHANGES = (
    "truncate", "ftruncate", "fallocate", "rename", "renameat", "renameat2", "mkdir",
    "mkdirat", "rmdir", "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat",
    "mknod", "mknodat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown",
    "lchown", "fchownat", "setxattr", "lsetxattr", "fsetxattr", "removexattr",
    "lremovexattr", "fremovexattr", "setxattrat", "removexattrat", "file_setattr", "utime",
    "utimes", "utimensat", "futimesat", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open",
    "pidfd_getfd", "kcmp", "fork", "vfork", "flock", "userfaultfd", "perf_event_open",
)  # fmt: skip
# What outlives the child, or is shared past it, and could hold plaintext after it ends:
# System V shared memory, messages and semaphores, POSIX message queues, keyrings. (The cell's
# own IPC namespace, where it gets one, already ends with it; these are refused everywhere.)
IPC = (
    "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl", "semget",
    "semop", "semtimedop", "semctl", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr", "add_key", "request_key", "keyctl",
)  # fmt: skip
# Calls that act on a process by its id, allowed on the child itself only (0 or its own pid):
# another process of the same user could otherwise have its limits lowered (RLIMIT_CPU 0
# kills it) or its scheduling, I/O priority or memory placement changed. The value is
# (the argument holding the pid, and for setpriority and ioprio_set, which take a "which"
# first, the one value of it that names a single process: PRIO_PROCESS, IOPRIO_WHO_PROCESS).
PIDS: dict[str, tuple[int, int | None]] = {
    "prlimit64": (0, None), "sched_setaffinity": (0, None), "sched_setscheduler": (0, None),
    "sched_setparam": (0, None), "sched_setattr": (0, None), "migrate_pages": (0, None),
    "move_pages": (0, None), "setpriority": (1, 0), "ioprio_set": (1, 1),
}  # fmt: skip
# What only a privileged process may do (the child drops every capability first; refused
# here too, should a kernel or a user namespace still grant one).
PRIVILEGED = (
    "mount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    "open_tree_attr",
    "mount_setattr", "pivot_root", "chroot", "unshare", "setns", "acct", "reboot",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "swapon", "swapoff",
    "sethostname", "setdomainname", "quotactl", "quotactl_fd", "iopl", "ioperm", "bpf",
)  # fmt: skip
# Signals to other processes (kill(-1, SIGKILL) would end all of the investigator's): EPERM.
# kill and tgkill aimed at the child itself stay allowed (OWN): abort() still ends it.
SIGNALS = ("tkill", "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
EXECS = ("execve", "execveat")
# The filter's own machinery: installing it, and the calls whose arguments it reads.
OWN = ("seccomp", "clone", "clone3", "mmap", "ioctl", "fcntl", "kill", "tgkill")
# Linux 6.13's *xattrat calls, 6.15's open_tree_attr (open_tree with mount attributes: an
# O_PATH handle on any path, which PyAV's cell must not get) and 6.17's file_setattr, the same
# number on every machine (the generic table's, which x86_64's syscall_64.tbl follows), which
# Debian 12's libseccomp 2.5.4 does not know yet: the number test pins them by hand.
NEWER = {"setxattrat": 463, "removexattrat": 466, "open_tree_attr": 467, "file_setattr": 469}

NUMBERS: dict[str, dict[str, int]] = {
    "x86_64": {
        "socket": 41, "socketpair": 53, "open": 2, "openat": 257, "openat2": 437, "creat": 85,
        "open_by_handle_at": 304, "truncate": 76, "ftruncate": 77, "fallocate": 285,
        "rename": 82, "renameat": 264, "renameat2": 316, "mkdir": 83, "mkdirat": 258,
        "rmdir": 84, "link": 86, "linkat": 265, "unlink": 87, "unlinkat": 263, "symlink": 88,
        "symlinkat": 266, "mknod": 133, "mknodat": 259, "chmod": 90, "fchmod": 91,
        "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93, "lchown": 94,
        "fchownat": 260, "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190,
        "removexattr": 197, "lremovexattr": 198, "fremovexattr": 199, **NEWER, "utime": 132,
        "utimes": 235, "utimensat": 280, "futimesat": 261, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "ptrace": 101,
        "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_open": 434,
        "pidfd_getfd": 438, "kcmp": 312, "fork": 57, "vfork": 58, "mount": 165, "umount2": 166,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429,
        "open_tree": 428, "mount_setattr": 442, "pivot_root": 155, "chroot": 161,
        "unshare": 272, "setns": 308, "acct": 163, "reboot": 169, "init_module": 175,
        "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
        "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305,
        "swapon": 167, "swapoff": 168, "sethostname": 170, "setdomainname": 171,
        "quotactl": 179, "quotactl_fd": 443, "iopl": 172, "ioperm": 173, "bpf": 321,
        "tkill": 200, "pidfd_send_signal": 424, "rt_sigqueueinfo": 129,
        "rt_tgsigqueueinfo": 297, "execve": 59, "execveat": 322, "seccomp": 317, "clone": 56,
        "clone3": 435, "mmap": 9, "ioctl": 16, "kill": 62, "tgkill": 234, "fcntl": 72,
        "flock": 73, "userfaultfd": 323, "perf_event_open": 298,
        "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67,
        "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "semget": 64, "semop": 65,
        "semtimedop": 220, "semctl": 66, "mq_open": 240, "mq_unlink": 241,
        "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245,
        "add_key": 248, "request_key": 249, "keyctl": 250, "prlimit64": 302,
        "sched_setaffinity": 203, "sched_setscheduler": 144, "sched_setparam": 142,
        "sched_setattr": 314, "migrate_pages": 256, "move_pages": 279, "setpriority": 141,
        "ioprio_set": 251,
    },
    "aarch64": {
        "socket": 198, "socketpair": 199, "openat": 56, "openat2": 437,
        "open_by_handle_at": 265, "truncate": 45, "ftruncate": 46, "fallocate": 47,
        "renameat": 38, "renameat2": 276, "mkdirat": 34, "linkat": 37, "unlinkat": 35,
        "symlinkat": 36, "mknodat": 33, "fchmod": 52, "fchmodat": 53, "fchmodat2": 452,
        "fchown": 55, "fchownat": 54, "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7,
        "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16, **NEWER, "utimensat": 88,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271, "pidfd_open": 434,
        "pidfd_getfd": 438, "kcmp": 272, "mount": 40, "umount2": 39, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428,
        "mount_setattr": 442, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
        "acct": 89, "reboot": 142, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294, "settimeofday": 170,
        "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266, "swapon": 224,
        "swapoff": 225, "sethostname": 161, "setdomainname": 162, "quotactl": 60,
        "quotactl_fd": 443, "bpf": 280, "tkill": 130, "pidfd_send_signal": 424,
        "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "execve": 221, "execveat": 281,
        "seccomp": 277, "clone": 220, "clone3": 435, "mmap": 222, "ioctl": 29, "kill": 129,
        "tgkill": 131, "fcntl": 25, "flock": 32, "userfaultfd": 282, "perf_event_open": 241,
        "shmget": 194,
        "shmat": 196, "shmctl": 195, "shmdt": 197, "msgget": 186, "msgsnd": 189, "msgrcv": 188,
        "msgctl": 187, "semget": 190, "semop": 193, "semtimedop": 192, "semctl": 191,
        "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183,
        "mq_notify": 184, "mq_getsetattr": 185, "add_key": 217, "request_key": 218,
        "keyctl": 219, "prlimit64": 261, "sched_setaffinity": 122, "sched_setscheduler": 119,
        "sched_setparam": 118, "sched_setattr": 274, "migrate_pages": 238, "move_pages": 239,
        "setpriority": 140, "ioprio_set": 30,
    },
}  # fmt: skip
# AUDIT_ARCH_* of <linux/audit.h>: the ELF machine | 64-bit | little-endian, which the filter
# checks first (a call made under another ABI's numbers is killed).
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
