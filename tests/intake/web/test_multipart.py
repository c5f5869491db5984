"""The reporting multipart parser: answers and whole file parts reach the upload session while
the body is still being read, so a cut later in the body cannot take them back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import EnvironBuilder, stream_encode_multipart

from crypto.age import open_bytes
from crypto.x25519 import X25519Identity
from intake.blobstore import LocalBlobStore
from intake.web.presealed import PresealedWriter
from intake.web.services.storage import StoreTemp
from intake.web.upload import SealingRequest, SealingWriter, UploadSession, attach_upload_session

FIRST = b"first file " * 10_000
SECOND = b"second file " * 10_000


def _request(
    store: LocalBlobStore, identity: X25519Identity, body: bytes, length: int, boundary: str
) -> tuple[SealingRequest, UploadSession]:
    builder = EnvironBuilder(
        method="POST",
        input_stream=io.BytesIO(body),
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    request = SealingRequest(builder.get_environ())
    upload = UploadSession(
        new_temp=lambda: StoreTemp(store), recipients=[identity.recipient()], max_files=5
    )
    attach_upload_session(request, upload)
    return request, upload


def _body() -> tuple[bytes, int, str]:
    fields: MultiDict[str, str | FileStorage]
    fields = MultiDict([("account", "what I saw"), ("settlement", "Izium")])
    fields.add("group1-files", FileStorage(io.BytesIO(FIRST), "a.mp4", content_type="video/mp4"))
    fields.add("group2-files", FileStorage(io.BytesIO(SECOND), "b.mp4", content_type="video/mp4"))
    stream, length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return stream.read(), length, boundary


def test_answers_then_each_whole_part_are_reported_in_order(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    store.ensure_dirs()
    identity = X25519Identity.generate()
    body, length, boundary = _body()
    request, upload = _request(store, identity, body, length, boundary)
    events: list[object] = []
    upload.on_answers = lambda fields: events.append(("answers", fields))
    upload.on_part = lambda writer: events.append(("part", writer.field_name, writer.complete))
    assert request.form["settlement"] == "Izium"
    assert [f.filename for f in request.files.getlist("group2-files")] == ["b.mp4"]
    assert events == [
        ("answers", [("account", "what I saw"), ("settlement", "Izium")]),
        ("part", "group1-files", True),
        ("part", "group2-files", True),
    ]
    upload.discard_unclaimed()


def test_a_cut_inside_the_second_part_reports_the_first_before_failing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    store.ensure_dirs()
    identity = X25519Identity.generate()
    body, length, boundary = _body()
    cut = body.index(b'filename="b.mp4"') + 5000
    request, upload = _request(store, identity, body[:cut], length, boundary)
    kept: list[bytes] = []

    def keep(writer: SealingWriter | PresealedWriter) -> None:
        assert isinstance(writer, SealingWriter)  # this body holds no browser-sealed part
        assert isinstance(writer.temp, StoreTemp)
        writer.temp.commit("a" * 32)  # what the draft keeper does, in the same place
        upload.claim(writer)
        kept.append((store.blob_dir / ("a" * 32)).read_bytes())

    upload.on_part = keep
    with pytest.raises(ValueError, match="cannot parse"):
        _ = request.form
    assert [open_bytes(sealed, [identity]) for sealed in kept] == [FIRST]
    assert upload.fields == [("account", "what I saw"), ("settlement", "Izium")]
    upload.discard_unclaimed()  # the cut part's temp goes
    assert list(store.temp_dir.iterdir()) == []
