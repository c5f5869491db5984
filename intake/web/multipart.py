"""The multipart parser of a sealing request: Werkzeug's decoder, reporting as it goes.

Werkzeug's MultiPartParser hands its stream factory neither the input a file came from nor
the moment a part ends, and the text fields it parsed vanish with the request when the body
is cut. A witness's answers and every file received whole must outlive a cut, a timeout or a
killed worker, so this loop tells the UploadSession of each field as it arrives and of each
file part the moment its closing boundary has arrived; the session keeps them at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

if TYPE_CHECKING:
    from intake.web.upload import UploadSession

__all__ = ["SealingFormDataParser"]


def _chunks(stream: IO[bytes], size: int) -> Iterator[bytes | None]:
    """The body in pieces, then None: the decoder's signal that nothing more will come."""
    while data := stream.read(size):
        yield data
    yield None


class _Parts:
    """The parts parsed so far and the one in progress."""

    def __init__(self, parser: _SealingMultiPartParser) -> None:
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, FileStorage]] = []
        self._parser = parser
        self._part: Field | File | None = None
        self._buffer: list[bytes] = []
        self._size = 0
        self._container: IO[bytes] | None = None

    def take(self, event: Any) -> None:
        if isinstance(event, Field):
            self._part, self._buffer, self._size = event, [], 0
        elif isinstance(event, File):
            self._part = event
            self._container = self._parser.upload.open_part(
                event.name, event.filename, event.headers.get("content-type")
            )
        elif isinstance(event, Data):
            self._data(event)

    def _data(self, event: Data) -> None:
        part = self._part
        if isinstance(part, Field):
            self._field_data(part, event)
        elif isinstance(part, File) and self._container is not None:
            self._container.write(event.data)
            if not event.more_data:
                # seek(0) seals the last chunk (SealingWriter); then the session keeps it.
                self._container.seek(0)
                self._parser.upload.part_done(self._container)
                storage = FileStorage(
                    self._container, part.filename, part.name, headers=part.headers
                )
                self.files.append((part.name, storage))

    def _field_data(self, part: Field, event: Data) -> None:
        limit = self._parser.max_form_memory_size
        self._size += len(event.data)
        if limit is not None and self._size > limit:
            raise RequestEntityTooLarge()
        self._buffer.append(event.data)
        if not event.more_data:
            charset = self._parser.get_part_charset(part.headers)
            value = b"".join(self._buffer).decode(charset, "replace")
            self.fields.append((part.name, value))
            self._parser.upload.field_arrived(part.name, value)


class _SealingMultiPartParser(MultiPartParser):
    """Werkzeug's parser with the loop above; limits and charsets as Werkzeug has them."""

    def __init__(self, upload: UploadSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.upload = upload

    def parse(
        self, stream: IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        decoder = MultipartDecoder(
            boundary, max_form_memory_size=self.max_form_memory_size, max_parts=self.max_form_parts
        )
        parts = _Parts(self)
        for data in _chunks(stream, self.buffer_size):
            decoder.receive_data(data)
            event = decoder.next_event()
            while not isinstance(event, Epilogue | NeedData):
                parts.take(event)
                event = decoder.next_event()
        return self.cls(parts.fields), self.cls(parts.files)


class SealingFormDataParser(FormDataParser):
    """Werkzeug's form parser, multipart bodies going through the reporting parser.

    Overrides Werkzeug's `_parse_multipart` (the one place it builds its MultiPartParser);
    tests/intake/web/test_multipart.py pins the behaviour, so an upgrade that moves it fails
    there rather than silently losing what arrived.
    """

    def __init__(self, upload: UploadSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._upload = upload

    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        parser = _SealingMultiPartParser(
            self._upload,
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files
