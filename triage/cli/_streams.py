"""Where commands read and write bytes: INPUT as a path or stdin, OUTPUT as a path or stdout."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar, cast

import click

from triage.errors import ExitCode, TriageError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "atomic_output",
    "is_terminal",
    "open_input",
    "output_option",
    "output_path",
    "peek",
    "stdout",
    "streams_into",
]

F = TypeVar("F", bound=Callable[..., object])


def output_option(function: F) -> F:
    """The shared `-o/--output OUTPUT` option (parameter `output`, a str or None)."""
    return click.option(
        "-o",
        "--output",
        metavar="OUTPUT",
        help="Write the result to OUTPUT instead of standard output. An existing file is "
        "replaced, as age does, but only once the result is complete; a new one gets mode 0600.",
    )(function)


@contextlib.contextmanager
def open_input(name: str | None) -> Iterator[BinaryIO]:
    """The file `name`, or standard input when `name` is None or "-"."""
    if name is None or name == "-":
        yield sys.stdin.buffer
        return
    with open(name, "rb") as stream:
        yield stream


def peek(source: BinaryIO, size: int) -> tuple[bytes, BinaryIO]:
    """Up to `size` first bytes of `source`, and a stream that still starts with them.

    A seekable file is rewound; a pipe is wrapped so that the bytes are read again first.
    """
    head = b""
    while len(head) < size and (more := source.read(size - len(head))):
        head += more
    if source.seekable():
        source.seek(-len(head), io.SEEK_CUR)
        return head, source
    return head, cast(BinaryIO, io.BufferedReader(_Replay(head, source)))


class _Replay(io.RawIOBase):
    """`head`, then the rest of `source`: a pipe that can be read from its first byte again."""

    def __init__(self, head: bytes, source: BinaryIO) -> None:
        self._head = memoryview(head)
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count], self._head = self._head[:count], self._head[count:]
            return count
        data = self._source.read(len(view))
        view[: len(data)] = data
        return len(data)


def stdout() -> BinaryIO:
    """Standard output as a binary stream."""
    return sys.stdout.buffer


def is_terminal(stream: BinaryIO) -> bool:
    """Whether `stream` is a terminal (tests replace this to simulate one)."""
    return stream.isatty()


def output_path(name: str | None) -> Path | None:
    """The real path to write for `-o name`, or None for standard output ("-" or no -o).

    Symlinks are resolved so that replacing the file writes through the link, as age does.
    Raises TriageError for a directory, or a file in a directory that does not exist.
    """
    if name is None or name == "-":
        return None
    path = Path(os.path.realpath(name))
    if path.is_dir():
        problem = "is a directory"
    elif not path.parent.is_dir():
        problem = f"no such directory: {path.parent}"
    else:
        return path
    raise TriageError(
        f"{name}: {problem}",
        hints=["give -o the path of a file to create or replace"],
        exit_code=ExitCode.USAGE,
    )


def streams_into(path: Path) -> bool:
    """Whether `path` must be written in place: a device or FIFO such as /dev/stdout.

    A temporary file renamed over such a path would replace the device node itself.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(mode)


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[BinaryIO]:
    """A new file beside `target` (mode 0600) that replaces `target` only if the block succeeds.

    On any failure the temporary file is removed and `target` is left as it was.
    """
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
