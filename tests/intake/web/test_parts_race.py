"""A plain POST and the browser's `done` for the same file, the `done` landing mid-body.

A witness taps "Send the usual way" while the server still finishes the browser's copy (its
`done` hashes the whole file under the lock): the plain POST has begun, and the browser's copy
reaches the draft before the POST's own copy of that file is whole. The draft keeps the file
once, and the file limit counts what the draft holds then, not what it held when the POST began.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from intake.clock import hour_bucket
from intake.models import Blob, DraftBlob, PendingDraft
from intake.models import Submission as SubmissionRow
from intake.web.services import partsend
from protocol.schema import Submission
from tests.intake.web.conftest import (
    Site,
    form_action,
    make_site,
    minimal_testimony,
    post_multipart,
    reference_of,
)
from tests.intake.web.parts_steps import (
    CONTENT,
    Begun,
    begin,
    done_upload,
    keys_of,
    put_part,
    start_upload,
)

OTHER = b"another file, chosen with the first " * 3000  # about 100 KiB
THIRD = b"a third file, one too many " * 3000


class _LandingBody(io.BytesIO):
    """A request body that calls `land` once, when the reader first passes `offset` bytes:
    the server has begun the part there and not yet seen its end."""

    def __init__(self, body: bytes, offset: int, land: Callable[[], None]) -> None:
        super().__init__(body)
        self._offset = offset
        self._land: Callable[[], None] | None = land

    def _after(self) -> None:
        if self._land is not None and self.tell() > self._offset:
            land, self._land = self._land, None
            land()

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self._after()
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = super().readline(size)
        self._after()
        return data

    def readinto(self, buffer: object) -> int:
        count = super().readinto(buffer)  # type: ignore[arg-type]
        self._after()
        return count


def _post_landing(
    client: FlaskClient,
    action: str,
    files: list[tuple[str, bytes]],
    during: bytes,
    land: Callable[[], None],
) -> str:
    """POST the minimal testimony with `files` (group 1), running `land` mid-way through the
    part whose content is `during`; the page answered (following a 303)."""
    fields = MultiDict(minimal_testimony())
    for name, data in files:
        fields.add("group1-files", FileStorage(io.BytesIO(data), name, content_type="x/y"))
    stream, length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    body = stream.read()
    response = client.post(
        action,
        input_stream=_LandingBody(body, body.index(during) + 100, land),
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    if response.status_code == 303:
        response = client.get(response.headers["Location"])
    return f"{response.status_code} {response.get_data(as_text=True)}"


@pytest.fixture
def two_files(tmp_path: Path, db_url: str) -> Iterator[Site]:
    """A site that takes at most two files per submission."""
    site = make_site(tmp_path, db_url, max_files=2)
    yield site
    site.services.engine.dispose()


def _send_again(client: FlaskClient, begun: Begun, site: Site) -> None:
    """The same file sent whole once more through the parts path, its `done` answered 200."""
    again = start_upload(client, begun.url, begun.sealed, keys_of(site))
    for index in range(3):
        assert put_part(client, begun.url, again, begun.sealed, index) == 200
    assert done_upload(client, begun.url, again) == 200


def _count(site: Site, model: object) -> int:
    with site.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


def _manifest(site: Site, answer: str) -> Submission:
    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference_of(answer))
        assert row is not None
        return Submission.from_json(site.open_blob(row.manifest_blob))


def test_the_browsers_copy_landing_mid_post_is_kept_once(site: Site, client: FlaskClient) -> None:
    begun = begin(site, client, parts=3)
    action = form_action(begun.page, "testimony-form")

    def land() -> None:
        assert done_upload(client, begun.url, begun.upload) == 200

    answer = _post_landing(client, action, [("yard.mp4", CONTENT)], CONTENT, land)
    assert answer.startswith("200 "), answer
    (entry,) = _manifest(site, answer).files
    assert (entry.original_name, entry.size) == ("yard.mp4", len(CONTENT))
    assert entry.plaintext_sha256_by == "browser"  # the copy the draft held first
    assert _count(site, Blob) == 2  # the file and submission.json
    assert len(list(site.services.store.blob_dir.iterdir())) == 2  # type: ignore[attr-defined]
    assert _count(site, DraftBlob) == 0


def test_the_file_limit_counts_the_copy_that_landed_mid_post(two_files: Site) -> None:
    site = two_files
    client = site.client()
    begun = begin(site, client, parts=3)
    action = form_action(begun.page, "testimony-form")

    def land() -> None:
        assert done_upload(client, begun.url, begun.upload) == 200

    files = [("other.bin", OTHER), ("yard.mp4", CONTENT), ("third.bin", THIRD)]
    answer = _post_landing(client, action, files, OTHER, land)
    assert answer.startswith("422 "), answer
    assert "more files than one submission can take (2)" in answer
    assert _count(site, DraftBlob) == 2  # the browser's yard.mp4 and other.bin, no more
    again = post_multipart(client, form_action(answer, "testimony-form"), minimal_testimony())
    receipt = again.get_data(as_text=True)
    assert again.status_code == 200, receipt
    names = sorted(f.original_name for f in _manifest(site, receipt).files)
    assert names == ["other.bin", "yard.mp4"]


def test_a_copy_landing_after_the_plain_one_never_pushes_out_another_file(
    two_files: Site,
) -> None:
    # Review of 83b10a4: the plain yard.mp4 was kept, then the browser's `done` for it landed
    # (two copies in the draft), and other.bin, whole, was refused as one file too many: a
    # file the witness sent, lost, and "you chose more files" said to a witness who chose two.
    site = two_files
    client = site.client()
    begun = begin(site, client, parts=3)
    action = form_action(begun.page, "testimony-form")

    def land() -> None:
        assert done_upload(client, begun.url, begun.upload) == 200

    # Random, so a point a megabyte in is found once: the browser's copy lands there, long
    # after the plain yard.mp4 was kept, well before other.bin ends.
    other = random.Random(7).randbytes(2 << 20)  # noqa: S311 - test data, not a secret
    files = [("yard.mp4", CONTENT), ("other.bin", other)]
    answer = _post_landing(client, action, files, other[1 << 20 : (1 << 20) + 64], land)
    assert answer.startswith("200 "), answer
    names = sorted(f.original_name for f in _manifest(site, answer).files)
    assert names == ["other.bin", "yard.mp4"]  # the late browser copy was dropped


def test_the_browser_path_keeps_no_second_copy_so_the_limit_cannot_be_doubled(
    two_files: Site,
) -> None:
    # Review of ec0dff1: the limit counts different files, and the browser path kept every
    # copy, so two uploads declaring one file (the server cannot check a browser's hash)
    # counted once: max_files=2 took three files. A copy of a file the draft holds is now
    # dropped as its `done` lands.
    site = two_files
    client = site.client()
    begun = begin(site, client, parts=3)
    assert done_upload(client, begun.url, begun.upload) == 200
    _send_again(client, begun, site)  # answered "received": the file is there
    assert _count(site, DraftBlob) == 1
    action = form_action(begun.page, "testimony-form")
    answer = _post_landing(client, action, [("other.bin", OTHER)], OTHER, lambda: None)
    assert answer.startswith("200 "), answer
    names = sorted(f.original_name for f in _manifest(site, answer).files)
    assert names == ["other.bin", "yard.mp4"]
    assert len(list(site.services.store.blob_dir.iterdir())) == 3  # type: ignore[attr-defined]


def test_a_copy_dropped_as_received_keeps_the_draft_as_long_as_a_new_file(
    site: Site, client: FlaskClient
) -> None:
    # Review of 64b9c08: the page says "received", so the held copy must not expire an hour
    # later: the dropped copy extends the draft as keeping it would have.
    begun = begin(site, client, parts=3)
    assert done_upload(client, begun.url, begun.upload) == 200
    with site.services.sessions() as session:
        draft = session.scalars(select(PendingDraft)).one()
        draft.expires_hour = hour_bucket() + 1
        session.commit()
    _send_again(client, begun, site)
    with site.services.sessions() as session:
        draft = session.scalars(select(PendingDraft)).one()
        assert draft.expires_hour > hour_bucket() + 1
    assert _count(site, DraftBlob) == 1


def test_a_done_retried_after_a_cut_while_dropping_its_copy_is_answered(
    site: Site, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Review of 8a57982: the copy's blob went before the upload was marked finished, so a
    # `done` retried after a cut in between found nothing and answered 409, and the page
    # sealed and sent the whole file again.
    begun = begin(site, client, parts=3)
    assert done_upload(client, begun.url, begun.upload) == 200
    again = start_upload(client, begun.url, begun.sealed, keys_of(site))
    for index in range(3):
        assert put_part(client, begun.url, again, begun.sealed, index) == 200
    real = getattr(partsend, "extend_draft")  # noqa: B009 - not exported: patched in place

    def cut(*args: object, **kwargs: object) -> None:
        monkeypatch.setattr(partsend, "extend_draft", real)
        raise SystemExit("the worker was killed")  # gunicorn's timeout, as a cut

    monkeypatch.setattr(partsend, "extend_draft", cut)
    with pytest.raises(SystemExit):
        done_upload(client, begun.url, again)
    assert done_upload(client, begun.url, again) == 200
    assert _count(site, DraftBlob) == 1
