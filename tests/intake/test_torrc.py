"""Reading a torrc for `intake doctor`: which onion service forwards to sshd."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.torrc import onion_services


@pytest.mark.parametrize(
    ("port_line", "ssh"),
    [
        ("22", True),  # no target: tor forwards to the same port on 127.0.0.1
        ("22 127.0.0.1:22", True),
        ("2222 127.0.0.1:22", True),  # a public port that hides sshd behind another number
        ("443 [::1]:22", True),
        ("2222 22", True),  # a bare target port
        ("80 127.0.0.1:8080", False),
        ("8022 127.0.0.1:2222", False),
        ("2222 unix:/run/sshd.sock", False),
    ],
)
def test_a_service_forwarding_to_port_22_publishes_ssh(port_line: str, ssh: bool) -> None:
    text = f"HiddenServiceDir /var/lib/tor/x/\nHiddenServicePort {port_line}  # comment\n"
    (service,) = onion_services(text)
    assert service.directory == Path("/var/lib/tor/x/")
    assert service.publishes_ssh is ssh
