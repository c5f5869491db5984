"""The witness site's side of the transfer tests, through witness-web's own services.

Submissions are committed with `intake.web.services.submit.commit_submission`, exactly as the
site does after a form post (files sealed to the active keyring, then submission.json), and
returning witnesses log in through the site's pages (or its `login` service).
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from crypto.age import Sealer
from crypto.witness import FAST_TEST_COST, WitnessKeys, derive
from intake.app import create_app
from intake.blobstore import new_blob_name
from intake.context import Services
from intake.models import Witness
from intake.web.services.codename import CodenameFactory, KeyDeriver
from intake.web.services.context import KDF_COST_KEY, WebContext
from intake.web.services.guards import new_form_token
from intake.web.services.incoming import IncomingFile
from intake.web.services.receive import snapshot_keyring
from intake.web.services.submit import NewSubmission, NewWitness, commit_submission
from intake.web.services.witness import Account, login
from protocol.entries import Answers
from protocol.fields import FOLLOW_UP_FIELDS


@dataclass(frozen=True)
class Sent:
    """A submission as the witness made it: its id, codename keys and files' plaintexts."""

    submission_id: str
    codename: str
    keys: WitnessKeys
    files: dict[str, bytes]  # blob name -> plaintext


def web_context(services: Services) -> WebContext:
    """The site's service context with the fast test KDF (no Flask app needed)."""
    return WebContext(
        services=services,
        deriver=KeyDeriver(slots=services.kdf_slots, cost_of=lambda: FAST_TEST_COST),
        codenames=CodenameFactory.load(),
    )


def _seal_file(services: Services, data: bytes, digest: str) -> IncomingFile:
    """What the site's upload hook leaves behind for one file: a committed sealed blob."""
    snapshot = snapshot_keyring(services.keyring)
    buffer = io.BytesIO()
    with Sealer(buffer, snapshot.recipients) as sealer:
        sealer.write(data)
    sealed = buffer.getvalue()
    temp, handle = services.store.create_temp()
    with handle:
        handle.write(sealed)
    name = new_blob_name()
    services.store.commit(temp, name)
    return IncomingFile(
        blob_name=name,
        group=1,
        original_name="photo.jpg",
        declared_type="image/jpeg",
        plaintext_sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        file_key=sealer.file_key,
        sealed_size=len(sealed),
        sealed_sha256=hashlib.sha256(sealed).hexdigest(),
        keyring_digest=digest,
    )


def _witness_id(services: Services, keys: WitnessKeys) -> str | None:
    with services.sessions() as session:
        return session.scalar(select(Witness.id).where(Witness.lookup == keys.lookup))


def submit(
    services: Services,
    codename: str,
    files: Sequence[bytes] = (b"first file",),
    *,
    account: str = "the shelling started at dawn",
    parent_id: str | None = None,
) -> Sent:
    """Commit a testimony (or, with `parent_id`, a follow-up) from the witness `codename`."""
    keys = derive(codename, cost=FAST_TEST_COST)
    witness_id = _witness_id(services, keys)
    digest = snapshot_keyring(services.keyring).digest
    incoming = [_seal_file(services, data, digest) for data in files]
    answers = (
        Answers.parse({"B1": account}, FOLLOW_UP_FIELDS)
        if parent_id
        else Answers.parse({"A3": True, "A4": ["investigators"], "B1": account})
    )
    reply_recipient = str(keys.identity.recipient())
    new = NewSubmission(
        kind="follow_up" if parent_id else "testimony",
        answers=answers,
        ui_language="uk",
        reply_recipient=reply_recipient,
        form_token=new_form_token(),
        files=incoming,
        witness_id=witness_id,
        new_witness=None if witness_id else NewWitness(keys.lookup, reply_recipient),
        parent_id=parent_id,
    )
    sid = commit_submission(web_context(services), new, fresh=[f.blob_name for f in incoming])
    return Sent(sid, codename, keys, {f.blob_name: d for f, d in zip(incoming, files, strict=True)})


def witness_login(services: Services, codename: str) -> Account | None:
    """A returning witness logging in, at the service level (replies opened with the codename)."""
    return login(web_context(services), codename)


def browser_login(services: Services, codename: str) -> str:
    """A returning witness logging in through the site's pages; returns the account page HTML."""
    app = create_app(services.config, services=services)
    app.config.update(TESTING=True, **{KDF_COST_KEY: FAST_TEST_COST})
    client = app.test_client()
    form = client.get("/return").get_data(as_text=True)
    match = re.search(r'<form id="login-form" method="post" action="([^"]+)"', form)
    assert match is not None, form
    response = client.post(html.unescape(match.group(1)), data={"codename": codename})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)
