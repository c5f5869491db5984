"""Fixtures for the transfer tests: an installation with one investigator and some submissions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from intake.context import Services
from tests.intake.conftest import CliFixture, Investigator
from tests.intake.transfer.laptop import Export, read_export
from tests.intake.transfer.site import Sent, submit

CODENAME_A = "amber basin cobalt dune ember fjord grove"
CODENAME_B = "harbor iris juniper kelp lumen moss nectar"


@dataclass(frozen=True)
class Stock:
    """An installation holding three submissions: two from witness A, one from witness B."""

    services: Services
    investigator: Investigator
    cli: CliFixture
    first: Sent
    follow_up: Sent
    other: Sent

    @property
    def all(self) -> tuple[Sent, ...]:
        return (self.first, self.follow_up, self.other)

    def export(self, out: Path, *args: str) -> tuple[Result, Export]:
        result = self.cli("export", "--out", str(out), *args)
        assert result.exit_code == 0, result.output
        return result, read_export(out)


@pytest.fixture
def stock(keyed_services: Services, investigator: Investigator, cli: CliFixture) -> Stock:
    first = submit(keyed_services, CODENAME_A, [b"photo one", b"video two" * 1000])
    follow_up = submit(
        keyed_services, CODENAME_A, [b"more"], account="later", parent_id=first.submission_id
    )
    other = submit(keyed_services, CODENAME_B, [])
    return Stock(keyed_services, investigator, cli, first, follow_up, other)
