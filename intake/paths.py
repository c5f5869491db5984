"""Where shipped files live: in the source tree, or under the installed wheel's data directory."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

from intake.errors import ConfigError

__all__ = ["find_gunicorn_conf", "find_templates"]

_REPO_ROOT = Path(__file__).resolve().parent.parent
_SHARE = Path("share") / "testimony-intake"


def _candidates(*relative: str) -> list[Path]:
    """The source tree first (editable installs, `make run`), then the wheel's data files."""
    prefixes = [Path(sysconfig.get_path("data")), Path(sys.prefix)]
    return [_REPO_ROOT.joinpath(*relative)] + [
        prefix / _SHARE / Path(*relative) for prefix in prefixes
    ]


def _find(what: str, *relative: str) -> Path:
    for path in _candidates(*relative):
        if path.exists():
            return path
    raise ConfigError(
        f"cannot find the {what} ({'/'.join(relative)})",
        hint="reinstall testimony-intake; the wheel ships it under share/testimony-intake/",
    )


def find_templates() -> Path:
    """The top-level templates/ folder. Raises ConfigError when it is not installed."""
    return _find("templates folder", "templates")


def find_gunicorn_conf() -> Path:
    """deploy/gunicorn.conf.py. Raises ConfigError when it is not installed."""
    return _find("gunicorn configuration", "deploy", "gunicorn.conf.py")
