"""Gunicorn settings for Intake: loopback only, sized for slow Tor uploads, no request logs."""

# Loaded by `intake serve` and by deploy/systemd/intake.service (installed as
# /etc/intake/gunicorn.conf.py). Gunicorn executes this file and keeps every module-level name
# that is one of its settings; names starting with "_" are ours. Every value carries its reason;
# tests/deploy/test_gunicorn_conf.py loads it into gunicorn's own Config and runs a real server.

import contextlib
import functools
import inspect
import ipaddress
import logging
import os
import threading
import traceback
from types import TracebackType
from typing import Any

from gunicorn import util as _gunicorn_util
from gunicorn.util import parse_address

wsgi_app = "intake.wsgi:app"

# --- Where it listens -----------------------------------------------------------------------
# Only the local HAProxy talks to Intake (deploy/haproxy.cfg: server gunicorn 127.0.0.1:8080;
# tor hands witness connections to HAProxy, deploy/torrc).
# INTAKE_BIND changes the address (a second instance, a test); `intake serve --bind` and
# gunicorn's --bind override it too. Whatever wins is checked in on_starting() below.
bind = [os.environ.get("INTAKE_BIND", "127.0.0.1:8080")]

# --- Workers --------------------------------------------------------------------------------
# gthread: a slow Tor upload (4.5 GiB at 0.2 MB/s is about 6.5 hours) holds one thread, never a
# whole worker process, and idle keep-alive connections wait in the worker's poller without a
# thread. Two processes for two cores; 256 threads each lets hundreds of uploads trickle while
# the landing page still finds a free thread. Sealing and the codename KDF run in C with the GIL
# released (PyNaCl), so threads do not serialise the expensive parts.
worker_class = "gthread"
workers = 2
threads = 256
# A worker that holds as many connections as it has threads stops accepting, so a new visitor is
# taken by the other worker instead of queueing behind busy threads; the margin is for idle
# keep-alive connections, which hold no thread.
worker_connections = threads + 64
# Restarting a worker cuts every upload it carries, so never restart on a request count.
max_requests = 0
# Each worker imports the app itself after fork: no database connection or file is shared
# across processes by accident.
preload_app = False

# --- Closing connections off the event loop ------------------------------------------------
# gunicorn >= 25 closes a connection "gracefully" (RFC 9112 9.6: half-close, then read what the
# peer still sends for up to 2 s) and, in gthread, does it on the worker's event loop. A client
# that starts a large body, gets an early answer (a refused form) and then stays silent held
# that loop for 2 s each: 32 of them stopped the landing page for about 30 s (issue 15,
# tests/deploy/test_front_under_attack.py). The linger itself is kept (it stops the kernel
# from resetting the connection before the answer is read), but runs in a short-lived thread
# of its own: at most 2 s and 64 KiB drained per closing connection, as before.
# unwrap: loading this file twice in one process (tests do) must not wrap the wrapper.
_close_graceful = inspect.unwrap(_gunicorn_util.close_graceful)


# At most this many lingers at once per worker; beyond it a connection is closed at once (what
# gunicorn < 25 did). One linger per socket: gthread's error path asks twice for the same one,
# and two threads closing one descriptor could close a new connection handed that number.
_LINGER_SLOTS = threading.BoundedSemaphore(64)
_lingering: set[int] = set()
_lingering_lock = threading.Lock()


def _linger(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        _close_graceful(sock, *args, **kwargs)
    finally:
        with _lingering_lock:
            _lingering.discard(id(sock))
        _LINGER_SLOTS.release()


def _close_now(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.close()


@functools.wraps(_close_graceful)
def _close_graceful_in_a_thread(sock: Any, *args: Any, **kwargs: Any) -> None:
    # Never raises: gunicorn's caller would count the connection closed twice (found by review).
    with _lingering_lock:
        if id(sock) in _lingering:
            return  # already closing in a thread of its own
        if not _LINGER_SLOTS.acquire(blocking=False):
            _close_now(sock)
            return
        _lingering.add(id(sock))
    try:
        threading.Thread(target=_linger, args=(sock, args, kwargs), daemon=True).start()
    except RuntimeError:  # no thread could be started: close without lingering
        with _lingering_lock:
            _lingering.discard(id(sock))
        _LINGER_SLOTS.release()
        _close_now(sock)


_gunicorn_util.close_graceful = _close_graceful_in_a_thread

# --- Timeouts -------------------------------------------------------------------------------
# With gthread, `timeout` is not a request deadline: the worker's main loop sends a heartbeat
# about every second whatever its threads are doing, and the master kills a worker only when that
# loop is stuck this long. Killing a worker loses every upload in it, so be generous.
timeout = 120
# On stop or reload (SIGTERM/SIGHUP) a worker finishes what it can in this time, then its
# remaining connections are cut. Uploads of hours cannot be waited for; completed files of a
# form that fails later are kept sealed in the pending draft. systemd's TimeoutStopSec is larger.
graceful_timeout = 90
# A Tor round trip is slow: keeping the connection lets the stylesheet and the next page reuse
# the stream. Kept-alive connections cost no thread.
keepalive = 15

# --- Request limits (gunicorn checks these before the app sees anything) ---------------------
# The longest URL Intake makes is a form action carrying its CSRF token: a few hundred bytes.
limit_request_line = 2048
# Tor Browser sends about 15 header fields; Chromium in the tests about 20.
limit_request_fields = 40
# The largest field is the session cookie, which browsers cap at 4 KiB.
limit_request_field_size = 8190
# Tor Browser speaks HTTP/1.1 to onion services; HTTP/2 would only add parser surface.
http_protocols = "h1"

# --- Nothing from the client is trusted as proxy information --------------------------------
# Every connection comes from 127.0.0.1 (tor), which gunicorn trusts by default: without these,
# any witness could set X-Forwarded-* headers or a PROXY line and have them believed.
forwarded_allow_ips = ""
proxy_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# --- Files and processes --------------------------------------------------------------------
# The worker heartbeat file is fchmod()ed every second: on tmpfs that never blocks on a disk.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - tmpfs on purpose; the file holds no data
# Whatever gunicorn creates (heartbeat file, a unix socket) is private to the service user.
umask = 0o077
# Gunicorn >= 25.1 opens a control socket under $HOME by default: for the service user that is
# the data directory, and a runtime management interface is surface the site does not need.
control_socket_disable = True
proc_name = "intake"

# --- Logs: none about requests ---------------------------------------------------------------
# No access log at all: it would record when each witness came and what they fetched.
accesslog = None
disable_redirect_access_to_syslog = True
syslog = False
# Errors go to stderr, which systemd passes to the journal; the filter below removes request
# data (URLs, header values, exception messages) from every record first.
errorlog = "-"
loglevel = "info"

# Gunicorn messages that embed request data, and what they become.
_REQUEST_MESSAGES = (
    ("Invalid request from ip=", "refused an invalid request (details withheld)"),
    ("Error handling request", "error while handling a request (request withheld)"),
    ("Exception on ", "unhandled exception in a view (request withheld)"),  # Flask's log_exception
)


_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _exception_summary(exc_info: _ExcInfo) -> str:
    """Type and stack of an exception, without its message (which may quote request data)."""
    kind, _, tb = exc_info
    frames = traceback.extract_tb(tb)
    lines = [f"  File {f.filename!r}, line {f.lineno}, in {f.name}" for f in frames]
    return "\n".join([f"{kind.__module__}.{kind.__qualname__} (message withheld)", *lines])


class _NoRequestData(logging.Filter):
    """Rewrite each record so that nothing a client sent can reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        for prefix, replacement in _REQUEST_MESSAGES:
            if message.startswith(prefix):
                record.msg, record.args = replacement, ()
        if isinstance(record.args, tuple):
            # An exception passed as an argument ("Closing connection. %s") prints its message.
            record.args = tuple(
                type(a).__name__ if isinstance(a, BaseException) else a for a in record.args
            )
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = _exception_summary(record.exc_info)
            record.exc_info = None
        return True


logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_request_data": {"()": _NoRequestData}},
    "formatters": {
        # No timestamp: the journal adds its own, once.
        "plain": {"format": "[%(process)d] [%(levelname)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
            "filters": ["no_request_data"],
        },
    },
    # The application's own loggers propagate to the root and pass through the same filter.
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        # Even if an access log file were passed on the command line, nothing would reach it.
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        # Each worker checks the schema revision at start; its INFO lines are noise.
        "alembic": {"level": "WARNING"},
    },
}


# --- Refuse to listen anywhere but the loopback ----------------------------------------------
def _is_local(address: str) -> bool:
    """True for a unix socket or a loopback host, in any form gunicorn's --bind accepts."""
    parsed = parse_address(address)
    if isinstance(parsed, str):  # unix:PATH
        return True
    if isinstance(parsed, int):  # fd://N, a socket passed in: where it listens is unknown here
        return False
    host = parsed[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def on_starting(server: Any) -> None:
    """Stop before binding when the final bind (file, environment or --bind) leaves the host."""
    public = [a for a in server.cfg.bind if not _is_local(a)]
    if public and os.environ.get("INTAKE_ALLOW_PUBLIC_BIND") != "1":
        # RuntimeError is what gunicorn turns into "Error: ..." and exit status 1.
        raise RuntimeError(
            f"refusing to listen on {', '.join(public)}: Intake must be reached only through the"
            " local tor daemon; bind 127.0.0.1 (or set INTAKE_ALLOW_PUBLIC_BIND=1 if a firewall"
            " you control stands in front)"
        )
