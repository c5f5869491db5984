"""`triage show`: one submission laid out readably, in the language it was written in."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from protocol.schema import Submission as Sealed
from triage.browse.thread import ThreadEntry, render_thread
from triage.media.checks import contradictions
from triage.media.facts import MediaFacts
from triage.media.layout import describe
from triage.text.answers import Line, answer_sections, group_lines
from triage.text.rule_notes import rule_notes
from triage.text.safe import safe_markup
from triage.workspace.lists import split
from triage.workspace.models import Attachment, IncidentMember, Note, Submission

__all__ = ["human_size", "media_lines", "render_submission"]

_STATE_STYLE = {"verified": "green", "mismatch": "bold red", "damaged": "bold red"}


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def _print_lines(console: Console, lines: Sequence[Line], indent: str) -> None:
    for line in lines:
        text = safe_markup(line.value)
        if line.free and "\n" in line.value:
            console.print(f"{indent}[bold]{line.label}[/]:")
            for part in text.split("\n"):
                console.print(f"{indent}  {part}")
        else:
            console.print(f"{indent}[bold]{line.label}[/]: {text}")


def _header(console: Console, row: Submission) -> None:
    reply_key = fingerprint(X25519Recipient.parse(row.witness_recipient))
    console.print(f"[bold]{row.id}[/]  {row.kind}  received {row.received_at:%Y-%m-%d %H:%M} UTC")
    console.print(f"language: {row.ui_language}   status: [bold]{row.status}[/]", end="")
    console.print(f" {row.status_target}" if row.status_target else "")
    tags = ", ".join(tag.name for tag in row.tags) or "none"
    console.print(f"tags: {safe_markup(tags)}")
    console.print(f"consent now: {', '.join(split(row.consent)) or 'none'}")
    console.print(f"witness reply key: {reply_key}")
    if row.parent_id:
        console.print(f"follow-up to: {row.parent_id}")


_FLAG_STYLE = {"CONTRADICTION": "bold red", "CHECK": "yellow"}


def media_lines(row: Submission, attachment: Attachment) -> list[str]:
    """What the file says about itself, with its contradictions of the testimony ([] when
    it was not scanned)."""
    if attachment.media is None:
        return []
    facts = MediaFacts.from_json(attachment.media.facts)
    flags = contradictions(
        facts, event_from=row.event_from, event_to=row.event_to, oblast=row.oblast
    )
    return describe(facts, flags)


def _file(console: Console, position: int, attachment: Attachment, row: Submission) -> None:
    style = _STATE_STYLE.get(attachment.state, "yellow")
    console.print(
        f"  {position}. {attachment.blob_name}  {safe_markup(attachment.declared_type)}  "
        f"{human_size(attachment.size)}  [{style}]{attachment.state}[/]"
    )
    console.print(f"     sha256 {attachment.plaintext_sha256}")
    if attachment.state_detail:
        console.print(f"     {safe_markup(attachment.state_detail)}")
    name = safe_markup(repr(attachment.original_name))
    console.print(f"     sent as {name} (may identify the witness; never used as a path)")
    _print_lines(console, group_lines(attachment.group_answers), "     ")
    for line in media_lines(row, attachment):
        style = _FLAG_STYLE.get(line.split(" ", 1)[0], "cyan")
        console.print(f"     [{style}]{safe_markup(line)}[/]")


def _rule_notes(console: Console, sealed: Sealed) -> None:
    # Above the answers, so that they are read with these in mind (triage.text.rule_notes).
    notes = rule_notes(sealed)
    if notes:
        console.print("\n[bold yellow]Read with care: the witness site's rules refuse[/]")
        for note in notes:
            console.print(f"  {safe_markup(note)}")


def render_submission(
    console: Console,
    row: Submission,
    notes: Sequence[Note],
    incidents: Sequence[IncidentMember],
    *,
    thread: Sequence[ThreadEntry] = (),
) -> None:
    """Print the submission; every witness-typed string is neutralised before it is shown.
    `thread` is its testimony's replies and later submissions (triage.browse.thread)."""
    sealed = Sealed.from_json(row.document.encode("utf-8"))
    _header(console, row)
    _rule_notes(console, sealed)
    if sealed.consent_change is not None:
        change = sealed.consent_change
        console.print(f"consent change: {change.action} {', '.join(change.recipients)}")
    for title, lines in answer_sections(sealed):
        console.print(f"\n[bold underline]{title}[/]")
        _print_lines(console, lines, "  ")
    if row.files:
        console.print("\n[bold underline]Files[/]")
        for position, attachment in enumerate(row.files, start=1):
            _file(console, position, attachment, row)
    if thread:
        render_thread(console, thread)
    if incidents:
        console.print("\n[bold underline]Incidents[/]")
        for member in incidents:
            console.print(f"  {member.incident_id} ({member.role})")
    if notes:
        console.print("\n[bold underline]Notes[/]")
        for note in notes:
            console.print(f"  {note.at:%Y-%m-%d %H:%M} {note.author}: {safe_markup(note.text)}")
