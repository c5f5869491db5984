"""Receiving a testimony or a follow-up once its body is parsed: validation, drafts and the
commit. Views call these and only render what comes back. There is no honeypot here: the bot
trap is at the codename step (intake.web.views.start), before anything is typed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import Form

from intake.web.choices import plain
from intake.web.forms import FollowUpForm, TestimonyForm
from intake.web.rule_messages import rule_message
from intake.web.services.answers import (
    follow_up_answers,
    group_answers,
    schema_slips,
    testimony_answers,
)
from intake.web.services.context import WebContext
from intake.web.services.drafts import (
    Draft,
    KeptSummary,
    drop_draft_files,
    summary_of,
)
from intake.web.services.incoming import IncomingFile
from intake.web.services.receive import (
    DraftKeeper,
    KeyringSnapshot,
    forget_blobs,
    same_file,
    sealed_to_revoked,
)
from intake.web.services.submit import (
    AlreadyReceivedError,
    NewSubmission,
    Receipt,
    ReceiptFile,
    commit_submission,
)
from intake.web.upload import UploadSession

__all__ = ["FollowUpTarget", "FormRejected", "Received", "receive_follow_up", "receive_testimony"]


@dataclass(frozen=True)
class Received:
    """What a request brought: its parsed text, its files, and the draft it continues."""

    upload: UploadSession
    keeper: DraftKeeper
    snapshot: KeyringSnapshot
    formdata: MultiDict[str, str]
    files: MultiDict[str, FileStorage]
    draft: Draft | None
    form_token: str
    language: str


@dataclass(frozen=True)
class FormRejected:
    """The form goes back with errors; the files that arrived whole wait in the draft."""

    form: Form
    kept: KeptSummary | None
    problems: tuple[LazyString, ...]


@dataclass(frozen=True)
class FollowUpTarget:
    """The witness a testimony or follow-up belongs to (`parents` only for a follow-up)."""

    witness_id: str
    reply_recipient: str
    parents: tuple[str, ...]
    # The replies sent to this witness, which it may answer, each with the testimony an answer
    # adds to (None for a reply sent before replies named their submission).
    replies: Mapping[str, str | None] = field(default_factory=dict)


def _receipt_files(files: Sequence[IncomingFile]) -> tuple[ReceiptFile, ...]:
    return tuple(ReceiptFile(f.original_name, f.size, f.plaintext_sha256) for f in files)


def _text_bytes(formdata: MultiDict[str, str]) -> int:
    return sum(len(value.encode("utf-8")) for value in formdata.values())


def _file_count(received: Received) -> int:
    """The submission's different files: those the draft held when last read, and the new
    ones it kept (a resent copy of a held file is neither new nor kept; a browser's copy that
    landed after the plain one is the same file twice, sent twice, counted once)."""
    return received.keeper.distinct


def _problems(ctx: WebContext, received: Received, files: int) -> list[LazyString]:
    problems: list[LazyString] = []
    limits = ctx.limits
    if received.upload.refused_files or files > limits.max_files:
        problems.append(
            _l(
                "You chose more files than one submission can take (%(max)d). We kept the "
                "first ones, listed below. Send this form, then add the others with your "
                "codename.",
                max=limits.max_files,
            )
        )
    if _text_bytes(received.formdata) > limits.max_text_bytes:
        problems.append(_l("Your answers are longer than we can accept. Please shorten them."))
    return problems


def _schema_valid(form: Form, files: Sequence[IncomingFile], *, follow_up: bool) -> bool:
    """Attach a translated error to every field protocol.rules refuses (`files`: the
    submission's files so far, which say which file groups have one)."""
    per_group = Counter(f.group for f in files)
    slips = schema_slips(form, per_group, follow_up=follow_up)
    for slip in slips:
        if "-" in slip.field:  # a file group's question: "group1-shows"
            group, name = slip.field.split("-", 1)
            field = form[group].form[name]
        else:
            field = form[slip.field]
        # One mistake, one message: a field WTForms (or an earlier rule) already refused
        # says what to fix; a second sentence about the same answer only confuses.
        if not field.errors:
            field.errors = [rule_message(slip.field, slip.rule_id)]
    return not slips


def _settle(
    ctx: WebContext, received: Received, form: Form, problems: list[LazyString]
) -> FormRejected | tuple[IncomingFile, ...]:
    """Every file of the submission, or the form sent back with what the draft holds.

    The files that arrived whole are in the witness's draft already (kept as they arrived).
    A form the browser's checks and WTForms accept can still hold an answer the schema
    refuses (coordinates off the globe, a NUL pasted into a text): that is a field error like
    any other, and the answers join the files in the draft.
    """
    files = received.keeper.files
    files, restarted = _without_revoked(ctx, received, files)
    problems = [*problems, *(_restart_message(f) for f in restarted)]
    valid = form.validate()
    valid = _schema_valid(form, files, follow_up=isinstance(form, FollowUpForm)) and valid
    if valid and not problems:
        return files
    received.keeper.keep_answers(list(received.formdata.items(multi=True)))
    return FormRejected(form=form, kept=summary_of(files), problems=tuple(problems))


def _without_revoked(
    ctx: WebContext, received: Received, files: tuple[IncomingFile, ...]
) -> tuple[tuple[IncomingFile, ...], list[IncomingFile]]:
    """The files to keep, and those sealed in the browser to a key revoked since: nobody may
    open those with that key any more, and the server cannot re-issue their headers, so they
    leave the draft and the store and the witness chooses them again (issue 16, item 4)."""
    gone = [f for f in files if sealed_to_revoked(f, received.snapshot.ring)]
    if not gone:
        return files, []
    forget_blobs(ctx.store, drop_draft_files(ctx.sessions, [f.blob_name for f in gone]))
    kept = tuple(f for f in files if f not in gone)
    # A file the witness already sent again, sealed to the current keys, is not asked for.
    again = {same_file(f) for f in kept}
    return kept, [f for f in gone if same_file(f) not in again]


def _restart_message(file: IncomingFile) -> LazyString:
    return _l(
        "The file %(name)s was sealed to a key the investigators have withdrawn since. Please "
        "choose it again: it will be sealed to their current keys.",
        name=file.original_name,
    )


def _commit(ctx: WebContext, received: Received, new: NewSubmission) -> str:
    """Commit; every file is in the draft, so a failed commit leaves them there for the next
    attempt. Except when this very form was already received (a double click, a refresh): the
    files this request brought are copies of the winner's and leave the draft and the store."""
    try:
        return commit_submission(ctx, new, fresh=())
    except AlreadyReceivedError:
        names = [f.blob_name for f in received.keeper.kept]
        forget_blobs(ctx.store, drop_draft_files(ctx.sessions, names))
        raise


def receive_testimony(
    ctx: WebContext, received: Received, target: FollowUpTarget
) -> Receipt | FormRejected:
    """Validate, then commit the testimony of a witness whose codename was issued before the
    form (intake.web.services.start): no key derivation happens here, so a busy KDF can no
    longer turn a finished upload into an error.

    Raises AlreadyReceivedError, NoActiveKeyError or a storage/database error.
    """
    form = TestimonyForm(received.formdata)
    count = _file_count(received)
    settled = _settle(ctx, received, form, _problems(ctx, received, count))
    if isinstance(settled, FormRejected):
        return settled
    new = NewSubmission(
        kind="testimony",
        answers=testimony_answers(form),
        ui_language=received.language,
        reply_recipient=target.reply_recipient,
        form_token=received.form_token,
        files=settled,
        group_answers={i: group_answers(form[f"group{i}"].form) for i in (1, 2, 3)},
        witness_id=target.witness_id,
        releases_draft=True,
    )
    sid = _commit(ctx, received, new)
    return Receipt(
        reference=sid,
        files=_receipt_files(settled),
        support_info=bool(form.support_info.data),
    )


def receive_follow_up(
    ctx: WebContext, received: Received, target: FollowUpTarget
) -> Receipt | FormRejected:
    """More words and files from a logged-in witness, linked to one of their submissions.

    No honeypot here, nor on the testimony form: a decoy receipt would throw away what a person
    sent while telling them it arrived.
    """
    form = FollowUpForm(received.formdata)
    form.parent.choices = plain(target.parents)
    count = _file_count(received)
    problems = _problems(ctx, received, count)
    if not (form.account.data or "").strip() and not count:
        problems.append(_l("Please write something or choose at least one file."))
    answering = form.in_reply_to.data or None
    if answering is not None and answering not in target.replies:
        form.in_reply_to.data = ""  # sent again, the form adds to the testimony and nothing more
        problems.append(
            _l(
                "This form was answering a reply that was not sent to you. Send it again to add "
                "it to your testimony without answering that reply."
            )
        )
    elif answering is not None and target.replies[answering] is not None:
        # An answer adds to the testimony its reply is about, whatever the post says: the
        # thread in triage and the witness's account then agree on where it belongs.
        form.parent.data = target.replies[answering]
    settled = _settle(ctx, received, form, problems)
    if isinstance(settled, FormRejected):
        return settled
    new = NewSubmission(
        kind="follow_up",
        answers=follow_up_answers(form),
        ui_language=received.language,
        reply_recipient=target.reply_recipient,
        form_token=received.form_token,
        files=settled,
        group_answers={1: group_answers(form["group1"].form)},
        witness_id=target.witness_id,
        parent_id=form.parent.data,
        in_reply_to=answering,
        releases_draft=True,
    )
    sid = _commit(ctx, received, new)
    return Receipt(reference=sid, files=_receipt_files(settled))
