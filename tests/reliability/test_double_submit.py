"""A double click or a refresh on the form's POST creates one submission, never two: the second
request gets the "already received" page, and the blobs it sealed on the way are removed."""

from __future__ import annotations

import os
import threading

from tests.reliability.client import MINIMAL_TESTIMONY, FilePart, Multipart, Response, Witness
from tests.reliability.harness import Installation
from tests.reliability.live import LiveServer

ALREADY = "This form was already received"


def _form() -> Multipart:
    files = [FilePart.of("group1-files", "clip.mp4", os.urandom(600_000))]
    return Multipart(list(MINIMAL_TESTIMONY), files)


def test_double_click_while_uploading_then_refresh_makes_one_submission(
    installation: Installation, server: LiveServer
) -> None:
    witness = Witness(server.port)
    action = witness.testimony_action()
    form = _form()  # the same bytes, as a browser resends them
    answers: list[Response] = []

    def slow_first_click() -> None:
        answers.append(witness.post(action, form, rate=1_000_000))

    first = threading.Thread(target=slow_first_click)
    first.start()
    second = Witness(server.port, cookie=witness.cookie).post(action, form)  # overtakes it
    first.join(60)
    (slow,) = answers
    # Both passed the token check before their bodies; the slow one lost at the commit.
    assert (second.status, slow.status) == (200, 409)
    assert ALREADY in slow.body

    refresh = Witness(server.port, cookie=witness.cookie).post(action, form)
    assert refresh.status == 409
    assert ALREADY in refresh.body

    assert installation.submission_count() == 1
    rows = installation.blob_rows()
    assert sorted(rows) == installation.blob_files()  # no blob without its row
    assert len(rows) == 2  # submission.json and the one file
    assert installation.temp_files() == []
