"""The disk fills up in the middle of an upload: a calm, translated "what arrived whole is kept,
please try again" page, the server keeps serving, and nothing partial is kept.

A real 8 MiB tmpfs as the blob store under a real gunicorn, when the test may mount one (it
skips otherwise); test_storage_faults.py injects the same failure in-process wherever it runs,
and at the steps a real filesystem cannot aim at (naming the second file, the submission.json).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.client import FilePart, Witness
from tests.reliability.harness import Installation, install
from tests.reliability.live import LiveServer

MIB = 1024 * 1024
NOT_SAVED = {
    "en": "We could not save all of what you sent. Your answers and every file",
    "uk": "Ми не змогли зберегти все надіслане. Ваші відповіді й кожен файл",
}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs, unmounted afterwards; skips where mounting is not allowed."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({result.stderr.strip()}); the in-process test runs"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def full_installation(tmp_path: Path, small_disk: Path) -> Installation:
    return install(tmp_path / "site", blob_dir=small_disk / "store")


@pytest.fixture
def full_server(full_installation: Installation) -> Iterator[LiveServer]:
    live = LiveServer(full_installation)
    try:
        yield live.start()
    finally:
        live.stop()


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_disk_full_mid_upload_keeps_nothing_and_the_site_keeps_serving(
    full_installation: Installation, full_server: LiveServer, lang: str
) -> None:
    witness = Witness(full_server.port)
    assert witness.get(f"/?lang={lang}").status == 200
    too_big = FilePart.of("group1-files", "video.mp4", os.urandom(16 * MIB))
    answer = witness.submit([too_big])
    assert answer.status == 503, answer.body[:2000]
    assert NOT_SAVED[lang] in answer.body
    assert full_installation.temp_files() == []
    assert full_installation.blob_files() == []
    assert full_installation.submission_count() == 0

    # The same server, without a restart, takes the next (smaller) testimony.
    photo = os.urandom(200_000)
    receipt = Witness(full_server.port).submit([FilePart.of("group1-files", "photo.jpg", photo)])
    assert receipt.status == 200
    _doc, files = full_installation.opened_submission(receipt.reference())
    assert files == {"photo.jpg": photo}
