"""Twenty witnesses send at once, slow and fast clients mixed: every submission lands intact and
each witness gets their own codename, which opens their own account and no one else's."""

from __future__ import annotations

import os
import random
import threading

from tests.reliability.client import MINIMAL_TESTIMONY, FilePart, Multipart, Response, Witness
from tests.reliability.harness import Installation
from tests.reliability.live import LiveServer

WITNESSES = 20
SLOW_RATE = 400_000  # bytes/s: every other witness trickles, Tor-like but shorter


def _files(rng: random.Random, i: int) -> list[FilePart]:
    return [
        FilePart.of(f"group{g}-files", f"w{i}-g{g}.bin", os.urandom(rng.randrange(1, 1_200_000)))
        for g in range(1, rng.randrange(2, 4))
    ]


def test_twenty_witnesses_at_once_each_land_intact_with_their_own_codename(
    installation: Installation, server: LiveServer
) -> None:
    rng = random.Random(7)  # noqa: S311 - sizes, not secrets
    sent = [_files(rng, i) for i in range(WITNESSES)]
    witnesses = [Witness(server.port) for _ in range(WITNESSES)]
    actions = [w.testimony_action() for w in witnesses]
    start = threading.Barrier(WITNESSES)
    answers: dict[int, Response | BaseException] = {}

    def send(i: int) -> None:
        start.wait()
        try:
            form = Multipart(list(MINIMAL_TESTIMONY), sent[i])
            answers[i] = witnesses[i].post(actions[i], form, rate=SLOW_RATE if i % 2 else None)
        except OSError as exc:
            answers[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(WITNESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(isinstance(a, Response) and a.status == 200 for a in answers.values()), answers
    receipts = [answers[i] for i in range(WITNESSES)]
    codenames = [r.codename() for r in receipts]  # type: ignore[union-attr]
    references = [r.reference() for r in receipts]  # type: ignore[union-attr]
    assert len(set(codenames)) == len(set(references)) == WITNESSES
    assert installation.submission_count() == WITNESSES

    for files, ref in zip(sent, references, strict=True):
        _doc, opened = installation.opened_submission(ref)
        assert opened == {f.filename: b"".join(f.chunks()) for f in files}
    for codename, ref in zip(codenames, references, strict=True):
        account = Witness(server.port).login(codename)
        assert account.status == 200
        shown = {r for r in references if f'id="submission-{r}"' in account.body}
        assert shown == {ref}
