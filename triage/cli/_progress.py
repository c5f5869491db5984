"""A rich progress bar on the terminal's stderr, for long work; silent when not a terminal."""

from __future__ import annotations

from types import TracebackType
from typing import Any


class BarProgress:
    """Bytes-based progress for import, export and re-wrap (triage.importing.importer.Progress)."""

    def __init__(self, description: str) -> None:
        self._description = description
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> BarProgress:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        console = Console(stderr=True)
        self._bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._bar.start()
        self._task = self._bar.add_task(self._description, total=None)
        return self

    def start(self, total: int) -> None:
        self._bar.update(self._task, total=total)

    def advance(self, amount: int) -> None:
        self._bar.advance(self._task, amount)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()
