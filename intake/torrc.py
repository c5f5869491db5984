"""The parts of a torrc that `intake doctor` checks: onion services, their ports, their clients."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SSH_PORT", "OnionService", "authorised_clients", "onion_services"]

SSH_PORT = "22"
# tor reads one client per file in <HiddenServiceDir>/authorized_clients/ whose name ends in
# ".auth" and whose line is "descriptor:x25519:<key>"; anything else it skips.
_CLIENT_SUFFIX = ".auth"
_CLIENT_PREFIX = "descriptor:x25519:"


def _target_port(port_line: list[str]) -> str:
    """The local port a `HiddenServicePort VIRTPORT [TARGET]` line forwards to.

    TARGET is "PORT", "ADDR:PORT", "[IPv6]:PORT" or "unix:PATH"; without it tor forwards to
    VIRTPORT on 127.0.0.1. A unix socket has no port.
    """
    target = port_line[1] if len(port_line) > 1 else port_line[0]
    if target.startswith("unix:"):
        return ""
    return target.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class OnionService:
    """One HiddenServiceDir block: its directory, the virtual ports it publishes and the local
    ports they forward to."""

    directory: Path
    ports: tuple[str, ...]
    targets: tuple[str, ...] = ()

    @property
    def publishes_ssh(self) -> bool:
        # Either end counts: "2222 127.0.0.1:22" hides sshd behind another public number.
        return SSH_PORT in self.ports or SSH_PORT in self.targets


def onion_services(text: str) -> list[OnionService]:
    """The onion services a torrc's text configures, in order (%include is not followed)."""
    blocks: list[tuple[Path, list[list[str]]]] = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        keyword = words[0].lower()  # tor's keywords are case-insensitive
        if keyword == "hiddenservicedir":
            blocks.append((Path(words[1]), []))
        elif keyword == "hiddenserviceport" and blocks:
            blocks[-1][1].append(words[1:])
    return [
        OnionService(
            directory,
            tuple(line[0] for line in lines),
            tuple(_target_port(line) for line in lines),
        )
        for directory, lines in blocks
    ]


def authorised_clients(service: OnionService) -> int:
    """How many client authorisation files tor would load for `service`.

    Raises OSError when the directory cannot be read (tor keeps it 0700, owner debian-tor).
    A missing authorized_clients directory means none: tor then publishes without any.
    """
    # Listing the service directory first: an unreadable or missing one raises, never "none".
    names = {entry.name for entry in service.directory.iterdir()}
    folder = service.directory / "authorized_clients"
    if "authorized_clients" not in names or not folder.is_dir():
        return 0
    count = 0
    for entry in folder.iterdir():
        if entry.name.endswith(_CLIENT_SUFFIX) and entry.is_file():
            text = entry.read_text(encoding="ascii", errors="replace").strip()
            count += text.startswith(_CLIENT_PREFIX)
    return count
