"""The request class whose file parts are sealed as their bytes arrive.

Werkzeug's default stream factory spools an upload above 500 KB into an anonymous temporary
file: plaintext on disk. Here `_get_file_stream` returns a `SealingWriter` instead, which seals
each chunk to the investigators' keys straight into a temporary blob in the blob store, hashing
the plaintext and the sealed bytes on the way; nothing readable ever reaches a disk.

A request only seals when a view has first attached an `UploadSession` (after the checks that
need no body: CSRF, an active key, budgets). Without one, every file part goes to a sink that
discards it, so a stray upload to another route cannot spill anything either. With one, the body
is parsed by intake.web.multipart, which tells the session of every answer as it arrives and of
every file part the moment it is whole, so both can be kept before the rest of the body comes.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, cast

from flask import Request
from werkzeug.formparser import FormDataParser

from crypto.age import Sealer
from intake.web.multipart import SealingFormDataParser
from intake.web.presealed import SEALED_FIELD, PresealedWriter, SealedMeta, meta_field_of

__all__ = [
    "DiscardSink",
    "Part",
    "SealingRequest",
    "SealingWriter",
    "TempBlob",
    "UploadSession",
    "attach_upload_session",
]

ENVIRON_KEY = "intake.upload_session"


class TempBlob:
    """A temporary file in the blob store, written once and then committed or discarded.

    A protocol-like base: the blob-store adapter (services/storage.py) subclasses it.
    """

    name: str
    file: BinaryIO

    def discard(self) -> None:  # pragma: no cover - overridden
        """Close and remove the temporary file; must be safe to call twice."""
        raise NotImplementedError


class _HashingFile:
    """Counts and hashes what the sealer writes (the sealed SHA-256 the database keeps)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._out.write(data)

    def flush(self) -> None:
        self._out.flush()

    def tell(self) -> int:
        return self.size


class SealingWriter(io.RawIOBase):
    """A write-only file part: seals to `recipients` into `temp`, hashing both sides.

    Werkzeug writes the part's bytes, then calls `seek(0)` once the part's closing boundary
    has arrived; that is the moment the file is complete, so the final chunk is sealed there.
    A part cut off before its boundary never gets `seek(0)` and stays incomplete.
    """

    def __init__(
        self,
        temp: TempBlob,
        recipients: Sequence[Any],
        *,
        filename: str,
        content_type: str | None,
        field_name: str = "",
    ) -> None:
        super().__init__()
        self.temp = temp
        self.field_name = field_name
        self.filename = filename
        self.content_type = content_type
        self.plain_sha256 = hashlib.sha256()
        self.plain_size = 0
        self.complete = False
        self._sealed = _HashingFile(temp.file)
        self._sealer = Sealer(cast(BinaryIO, self._sealed), recipients)

    @property
    def file_key(self) -> bytes:
        """The file key, needed to issue a new header if the keyring changes before commit."""
        return bytes(self._sealer.file_key)

    @property
    def sealed_size(self) -> int:
        return self._sealed.size

    @property
    def sealed_sha256(self) -> str:
        return self._sealed.sha256.hexdigest()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.complete:
            raise io.UnsupportedOperation("the file part is already complete")
        chunk = bytes(data)
        self.plain_sha256.update(chunk)
        self.plain_size += len(chunk)
        self._sealer.write(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Werkzeug's end-of-part signal: seal the final chunk and flush to the temp file."""
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("a sealing writer only accepts seek(0) at the end")
        if not self.complete:
            self._sealer.finish()
            self._sealed.flush()
            self.complete = True
        return 0

    def tell(self) -> int:
        return self.plain_size


class DiscardSink(io.RawIOBase):
    """Takes a file part and keeps nothing: empty file inputs and parts over the file limit."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return 0


Part = SealingWriter | PresealedWriter
"""A file part being received: sealed here, or already sealed by the witness's browser."""


@dataclass
class UploadSession:
    """What one request may seal: where, to whom, how many files; and what it sealed.

    `new_temp` makes a temporary blob; `recipients` is the keyring snapshot taken before the
    body was read. Every writer is remembered so that whatever is not committed or kept in a
    draft is removed by `discard_unclaimed`, whatever happened to the request.

    `on_answers` is called once with the text fields, when the first file part starts (the form
    puts every answer before its file inputs) or by the caller when the body ends otherwise;
    `on_part` with each file part the moment it is whole. Both run while the body is parsed, so
    what they keep survives a cut, a timeout or a killed worker later in the same request.
    """

    new_temp: Callable[[], TempBlob]
    recipients: Sequence[Any]
    max_files: int
    writers: list[Part] = field(default_factory=list)
    refused_files: int = 0
    claimed: set[int] = field(default_factory=set)
    fields: list[tuple[str, str]] = field(default_factory=list)
    on_answers: Callable[[list[tuple[str, str]]], None] | None = None
    on_part: Callable[[Part], None] | None = None
    answers_reported: bool = False

    def field_arrived(self, name: str, value: str) -> None:
        """A text field was received whole (called by the parser)."""
        self.fields.append((name, value))

    def report_answers(self) -> None:
        """Hand the answers received so far to `on_answers`, once per request."""
        if self.answers_reported:
            return
        self.answers_reported = True
        if self.on_answers is not None and self.fields:
            self.on_answers(list(self.fields))

    def open_part(
        self, field_name: str, filename: str | None, content_type: str | None
    ) -> IO[bytes]:
        """The container for one file part (called by the parser when the part starts)."""
        self.report_answers()
        if not filename:
            # An <input type=file> left empty still sends a part with filename="".
            return cast(IO[bytes], DiscardSink())
        if len(self.writers) >= self.max_files:
            self.refused_files += 1
            return cast(IO[bytes], DiscardSink())
        temp = self.new_temp()
        try:
            writer = self._writer(temp, field_name, filename, content_type)
        except BaseException:
            temp.discard()
            raise
        self.writers.append(writer)
        return cast(IO[bytes], writer)

    def _writer(
        self, temp: TempBlob, field_name: str, filename: str, content_type: str | None
    ) -> Part:
        """A sealing writer, or for a part the browser sealed (issue 16) a checking one.

        Raises ValueError when a sealed part's declaration (the field before it) is malformed.
        """
        if SEALED_FIELD.match(field_name):
            # The n-th sealed part of an input goes with the n-th declaration of that input
            # (the script puts each just before its part; a grouped encoding works as well).
            wanted = meta_field_of(field_name)
            declared = [value for name, value in self.fields if name == wanted]
            index = sum(1 for w in self.writers if w.field_name == field_name)
            meta = SealedMeta.parse(declared[index] if index < len(declared) else None)
            return PresealedWriter(
                temp,
                len(self.recipients),
                meta,
                filename=filename,
                content_type=content_type,
                field_name=field_name,
            )
        return SealingWriter(
            temp,
            self.recipients,
            filename=filename,
            content_type=content_type,
            field_name=field_name,
        )

    def part_done(self, container: IO[bytes]) -> None:
        """A file part's closing boundary arrived: let `on_part` keep it now."""
        if isinstance(container, SealingWriter | PresealedWriter) and self.on_part is not None:
            self.on_part(container)

    def completed(self) -> list[Part]:
        """The writers whose part arrived whole (received up to its closing boundary)."""
        return [writer for writer in self.writers if writer.complete]

    def claim(self, writer: Part) -> None:
        """Mark a writer's temp blob as taken over (committed or kept in a draft)."""
        self.claimed.add(id(writer))

    def discard_unclaimed(self) -> None:
        """Remove every temporary blob nobody claimed: cut-off parts, failures, honeypot hits."""
        for writer in self.writers:
            if id(writer) not in self.claimed:
                writer.temp.discard()


def attach_upload_session(request: Request, upload: UploadSession) -> None:
    """Let this request seal its file parts; call before touching `request.form`/`files`."""
    request.environ[ENVIRON_KEY] = upload


class SealingRequest(Request):
    """Flask's request with file parts sealed on arrival (or discarded without a session)."""

    def make_form_data_parser(self) -> FormDataParser:
        """Werkzeug's parser, but loud: a body cut off before its closing boundary (or not
        multipart at all) raises ValueError instead of silently yielding an empty form, so a
        half-received upload is never mistaken for a form the witness left empty. With an
        upload session, multipart bodies report each answer and whole file as they arrive."""
        upload = self.environ.get(ENVIRON_KEY)
        if not isinstance(upload, UploadSession):
            parser = super().make_form_data_parser()
            parser.silent = False
            return parser
        return SealingFormDataParser(
            upload,
            stream_factory=self._get_file_stream,
            max_form_memory_size=self.max_form_memory_size,
            max_content_length=self.max_content_length,
            max_form_parts=self.max_form_parts,
            cls=self.parameter_storage_class,
            silent=False,
        )

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        # Only Werkzeug's own parser calls this, for requests without an upload session.
        return cast(IO[bytes], DiscardSink())
