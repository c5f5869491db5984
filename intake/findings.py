"""A doctor check's outcome (`intake doctor`): ok, warning or problem, and how to fix it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Finding", "Severity", "ok"]


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


def ok(check: str, message: str) -> Finding:
    return Finding(check, Severity.OK, message)
