"""`intake doctor`: check an installation and say, for each problem, how to fix it."""

from __future__ import annotations

import enum
import os
import runpy
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from intake.config import Config, is_loopback_bind
from intake.db import check_connection, make_engine, make_session_factory
from intake.errors import IntakeError
from intake.keyring import Keyring
from intake.schema import schema_status
from intake.stats import free_disk_bytes

__all__ = ["Finding", "Severity", "diagnose"]

GIB = 1024**3
# Below this much free space a maximum-size upload could fail mid-way: a problem. Below four
# uploads' worth: a warning.
SPARE_UPLOADS_WARNING = 4


class Severity(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Finding:
    """One check's outcome; a warning or problem always carries its fix."""

    check: str
    severity: Severity
    message: str
    fix: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "check": self.check,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix,
        }


def _ok(check: str, message: str) -> Finding:
    return Finding(check, Severity.OK, message)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _check_private(check: str, path: Path, *, want: int, create_fix: str) -> Finding:
    if not path.exists():
        return Finding(check, Severity.PROBLEM, f"{path} does not exist", create_fix)
    mode = _mode(path)
    if mode & 0o077:
        return Finding(
            check,
            Severity.PROBLEM,
            f"{path} is accessible to other users (mode {mode:04o})",
            f"chmod {want:o} {path}",
        )
    if path.stat().st_uid != os.geteuid():
        return Finding(
            check,
            Severity.WARNING,
            f"{path} belongs to uid {path.stat().st_uid}, not to this user ({os.geteuid()})",
            f"run intake as the service user, or chown it to that user: chown USER {path}",
        )
    return _ok(check, f"{path} is private (mode {mode:04o})")


def _check_files(config: Config) -> Iterator[Finding]:
    init = f"intake init --data-dir {config.data_dir}"
    yield _check_private("data directory", config.data_dir, want=0o700, create_fix=init)
    yield _check_private("secret key", config.secret_key_file, want=0o600, create_fix=init)
    yield _check_private("blob store", config.blob_dir, want=0o700, create_fix=init)


def _check_database(config: Config) -> Iterator[Finding]:
    engine = make_engine(config.database_url)
    try:
        check_connection(engine)
        yield _ok("database", f"reachable ({engine.dialect.name})")
        status = schema_status(engine)
        if not status.at_head:
            yield Finding(
                "schema",
                Severity.PROBLEM,
                f"the schema is at {status.current or 'nothing'}, the code needs {status.head}",
                "intake migrate",
            )
            return
        yield _ok("schema", f"migrated to {status.head}")
        keys = Keyring(make_session_factory(engine)).active_fingerprints()
        if not keys:
            yield Finding(
                "keyring",
                Severity.PROBLEM,
                "no active investigator key: the site refuses every submission",
                "intake keys add RECIPIENT --name NAME --signing-key MINISIGN_PUB_FILE",
            )
        else:
            yield _ok("keyring", f"{len(keys)} active investigator key(s)")
    except IntakeError as exc:
        yield Finding("database", Severity.PROBLEM, exc.message, exc.hint)
    finally:
        engine.dispose()


def _check_disk(config: Config) -> Finding:
    free = free_disk_bytes(config.blob_dir)
    largest = config.limits.max_request_bytes
    message = f"{free / GIB:.1f} GiB free for blobs"
    fix = f"free space on the filesystem of {config.blob_dir}, or lower INTAKE_MAX_REQUEST_BYTES"
    if free < largest:
        return Finding(
            "free disk", Severity.PROBLEM, message + ": less than one largest upload", fix
        )
    if free < SPARE_UPLOADS_WARNING * largest:
        return Finding("free disk", Severity.WARNING, message + ": only a few largest uploads", fix)
    return _ok("free disk", message)


def _bind_finding(check: str, bind: str, fix: str) -> Finding:
    if is_loopback_bind(bind):
        return _ok(check, f"{bind} is loopback only")
    return Finding(
        check,
        Severity.PROBLEM,
        f"{bind} is reachable from the network: the site must only be reached through tor",
        fix,
    )


def _check_bind(config: Config, gunicorn_conf: Path | None) -> Iterator[Finding]:
    yield _bind_finding(
        "bind", config.bind, "set INTAKE_BIND=127.0.0.1:8080 (deploy/haproxy.cfg forwards there)"
    )
    if gunicorn_conf is None or not gunicorn_conf.exists():
        return
    try:
        binds = runpy.run_path(str(gunicorn_conf)).get("bind", [])
    except Exception as exc:  # any failure to load the file is itself the finding
        yield Finding(
            "gunicorn config",
            Severity.PROBLEM,
            f"{gunicorn_conf} does not load: {type(exc).__name__}",
            "restore it from deploy/gunicorn.conf.py",
        )
        return
    for bind in [binds] if isinstance(binds, str) else list(binds):
        yield _bind_finding("gunicorn bind", str(bind), f"bind 127.0.0.1:8080 in {gunicorn_conf}")


def _check_swap(swaps: Path) -> Iterator[Finding]:
    if not swaps.exists():
        return
    devices = [line.split()[0] for line in swaps.read_text().splitlines()[1:] if line.strip()]
    # zram lives in RAM and dm-* is (normally) dm-crypt: neither writes plaintext memory to disk.
    exposed = [d for d in devices if not d.startswith(("/dev/zram", "/dev/dm-", "/dev/mapper/"))]
    if exposed:
        yield Finding(
            "swap",
            Severity.WARNING,
            f"unencrypted swap is on ({', '.join(exposed)}): testimony in memory may reach disk",
            "swapoff -a and remove swap from /etc/fstab, or encrypt it (deploy/README.md)",
        )
    else:
        yield _ok("swap", "no unencrypted swap")


def diagnose(
    config: Config, *, gunicorn_conf: Path | None = None, swaps: Path = Path("/proc/swaps")
) -> list[Finding]:
    """Run every check; never raises for a problem it can describe as a Finding."""
    findings = list(_check_files(config))
    findings.extend(_check_database(config))
    findings.append(_check_disk(config))
    findings.extend(_check_bind(config, gunicorn_conf))
    findings.extend(_check_swap(swaps))
    return findings
