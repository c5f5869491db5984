"""`intake doctor`: check an installation and say, for each problem, how to fix it."""

from __future__ import annotations

import os
import runpy
import stat
from collections.abc import Iterator
from pathlib import Path

from intake.config import Config, is_loopback_bind
from intake.db import check_connection, make_engine, make_session_factory
from intake.errors import IntakeError
from intake.findings import Finding, Severity, ok
from intake.keyring.doctor import check_keyring, check_keyring_file
from intake.schema import schema_status
from intake.stats import free_disk_bytes
from intake.torrc import OnionService, authorised_clients, onion_services

__all__ = ["Finding", "Severity", "diagnose"]

GIB = 1024**3
# Below this much free space a maximum-size upload could fail mid-way: a problem. Below four
# uploads' worth: a warning.
SPARE_UPLOADS_WARNING = 4


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
    return ok(check, f"{path} is private (mode {mode:04o})")


def _check_files(config: Config) -> Iterator[Finding]:
    init = f"intake init --data-dir {config.data_dir}"
    yield _check_private("data directory", config.data_dir, want=0o700, create_fix=init)
    yield _check_private("secret key", config.secret_key_file, want=0o600, create_fix=init)
    yield _check_private("blob store", config.blob_dir, want=0o700, create_fix=init)


def _check_database(config: Config) -> Iterator[Finding]:
    engine = make_engine(config.database_url)
    try:
        check_connection(engine)
        yield ok("database", f"reachable ({engine.dialect.name})")
        status = schema_status(engine)
        if not status.at_head:
            yield Finding(
                "schema",
                Severity.PROBLEM,
                f"the schema is at {status.current or 'nothing'}, the code needs {status.head}",
                "intake migrate",
            )
            return
        yield ok("schema", f"migrated to {status.head}")
        yield from check_keyring(config, make_session_factory(engine))
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
    return ok("free disk", message)


def _bind_finding(check: str, bind: str, fix: str) -> Finding:
    if is_loopback_bind(bind):
        return ok(check, f"{bind} is loopback only")
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
        yield ok("swap", "no unencrypted swap")


def _check_admin_onion(torrc: Path) -> Iterator[Finding]:
    # The admin SSH onion must carry client authorisation: without a loaded .auth file tor
    # publishes it to anyone who learns the address, and sshd is all that stands in the way.
    try:
        services = onion_services(torrc.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        yield Finding(
            "tor config",
            Severity.WARNING,
            f"{torrc} cannot be read ({exc.strerror}): the onion services were not checked",
            "give the torrc tor runs with: intake doctor --torrc /etc/tor/torrc",
        )
        return
    for service in (s for s in services if s.publishes_ssh):
        yield _admin_onion_finding(service)


def _admin_onion_finding(service: OnionService) -> Finding:
    directory = service.directory
    clients = directory / "authorized_clients"
    try:
        count = authorised_clients(service)
    except OSError as exc:
        return Finding(
            "admin onion",
            Severity.WARNING,
            f"{directory} cannot be read by this user ({exc.strerror}): client authorisation "
            "of the SSH onion is unchecked",
            f"as root, check that it holds at least one client: ls {clients}/*.auth",
        )
    if count == 0:
        return Finding(
            "admin onion",
            Severity.WARNING,
            f"the SSH onion in {directory} is published without client authorisation: anyone "
            "who learns its address reaches sshd",
            f"add one {clients}/NAME.auth per admin (deploy/README.md, 'Admin access'), "
            "then systemctl reload tor@default",
        )
    return Finding("admin onion", Severity.OK, f"SSH onion has {count} authorised client(s)")


def diagnose(
    config: Config,
    *,
    gunicorn_conf: Path | None = None,
    swaps: Path = Path("/proc/swaps"),
    torrc: Path | None = None,
) -> list[Finding]:
    """Run every check; never raises for a problem it can describe as a Finding.

    The onion services are checked only when `torrc` is given (the server's /etc/tor/torrc).
    """
    findings = list(_check_files(config))
    findings.extend(check_keyring_file(config))
    findings.extend(_check_database(config))
    findings.append(_check_disk(config))
    findings.extend(_check_bind(config, gunicorn_conf))
    findings.extend(_check_swap(swaps))
    if torrc is not None:
        findings.extend(_check_admin_onion(torrc))
    return findings
