"""Witness sessions on both databases, without Flask: hashes only, two lifetimes, logout, sweep."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from intake.context import Services
from intake.maintenance import sweep
from intake.models import Witness, WitnessSession
from intake.witness_sessions import (
    FormPost,
    SessionPolicy,
    close_session,
    confirm_parent,
    form_settled,
    hold_for_form,
    open_session,
    resume,
    token_hash,
)

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
POLICY = SessionPolicy(form=timedelta(hours=25))
MIN = timedelta(minutes=1)
FORM = FormPost("web.follow_up_post", "rendered-token")


def _witness(services: Services, lookup: bytes = b"\x07" * 32) -> str:
    with services.sessions() as session:
        row = Witness(lookup=lookup, reply_recipient="age1x", created_on=date(2025, 3, 1))
        session.add(row)
        session.commit()
        return row.id


def _rows(services: Services) -> list[WitnessSession]:
    with services.sessions() as session:
        return list(session.scalars(select(WitnessSession)))


def _login(services: Services) -> tuple[str, str]:
    witness_id = _witness(services)
    return witness_id, open_session(services.sessions, witness_id, POLICY, T0)


def test_the_database_keeps_only_the_tokens_hash(services: Services) -> None:
    witness_id, token = _login(services)
    assert len(token) >= 43  # 32 random bytes
    (row,) = _rows(services)
    assert row.token_hash == token_hash(token) != token.encode()
    assert token.encode() not in row.token_hash
    active = resume(services.sessions, token, POLICY, T0)
    assert active is not None
    assert active.witness_id == witness_id
    # What a disk copy holds is not a session: neither the hash nor the witness id opens one.
    assert resume(services.sessions, row.token_hash.hex(), POLICY, T0) is None
    assert resume(services.sessions, witness_id, POLICY, T0) is None
    assert resume(services.sessions, "", POLICY, T0) is None


def test_thirty_idle_minutes_end_an_account_session(services: Services) -> None:
    _witness_id, token = _login(services)
    assert resume(services.sessions, token, POLICY, T0 + 29 * MIN) is not None
    # That request pushed the idle deadline back.
    assert resume(services.sessions, token, POLICY, T0 + 58 * MIN) is not None
    assert resume(services.sessions, token, POLICY, T0 + 89 * MIN) is None


def test_twelve_hours_end_an_account_session_however_busy(services: Services) -> None:
    _witness_id, token = _login(services)
    at = T0
    while at < T0 + timedelta(hours=12) - 20 * MIN:
        at += 20 * MIN
        assert resume(services.sessions, token, POLICY, at) is not None
    assert resume(services.sessions, token, POLICY, T0 + timedelta(hours=12)) is None


def test_a_rendered_form_admits_its_post_for_the_csrf_lifetime_only(services: Services) -> None:
    _witness_id, token = _login(services)
    hold_for_form(services.sessions, token, POLICY, FORM, started=T0, rendered=T0 + MIN)
    late = T0 + timedelta(hours=24)
    assert resume(services.sessions, token, POLICY, late) is None  # an account page
    assert resume(services.sessions, token, POLICY, late, form_post=FORM) is not None
    # The POST admitted by the form does not revive the account.
    assert resume(services.sessions, token, POLICY, late + MIN) is None
    too_late = T0 + timedelta(hours=25, minutes=1)
    assert resume(services.sessions, token, POLICY, too_late, form_post=FORM) is None


def test_a_held_session_admits_only_the_held_forms_post_and_renews_nothing(
    services: Services,
) -> None:
    _witness_id, token = _login(services)
    hold_for_form(services.sessions, token, POLICY, FORM, started=T0, rendered=T0)
    late = T0 + timedelta(hours=2)
    for other in (
        FormPost("web.follow_up_post", "made-up"),
        FormPost("web.consent_post", FORM.once),  # the right token to another form
    ):
        assert resume(services.sessions, token, POLICY, late, form_post=other) is None
    active = resume(services.sessions, token, POLICY, late, form_post=FORM)
    assert active is not None
    assert active.held
    (row,) = _rows(services)
    assert row.form_hash == FORM.digest()
    assert FORM.once.encode() not in row.form_hash  # only a hash, naming no form
    # A live session is not held: any page, and any form's POST, as before.
    live = resume(services.sessions, token, POLICY, T0 + MIN, form_post=FORM)
    assert live is not None
    assert not live.held


def test_a_settled_form_ends_its_hold_and_the_confirmation(services: Services) -> None:
    _witness_id, token = _login(services)
    hold_for_form(services.sessions, token, POLICY, FORM, started=T0, rendered=T0)
    confirm_parent(services.sessions, token, "S-ONE", POLICY, T0)
    other = FormPost("web.consent_post", "another-token")
    form_settled(services.sessions, token, other)  # another form: this one stays held
    (row,) = _rows(services)
    assert (row.form_hash, row.confirmed_parent, row.confirmed_until) == (FORM.digest(), None, None)
    form_settled(services.sessions, token, FORM)
    (row,) = _rows(services)
    assert (row.form_until, row.form_hash) == (None, None)
    late = T0 + timedelta(hours=2)
    assert resume(services.sessions, token, POLICY, late, form_post=FORM) is None


def test_forms_rendered_after_the_absolute_lifetime_extend_nothing(services: Services) -> None:
    _witness_id, token = _login(services)
    hold_for_form(services.sessions, token, POLICY, FORM, started=T0, rendered=T0)
    after = T0 + timedelta(hours=13)
    hold_for_form(services.sessions, token, POLICY, FORM, started=after, rendered=after)
    later = T0 + timedelta(hours=26)
    assert resume(services.sessions, token, POLICY, later, form_post=FORM) is None


def test_a_form_re_rendered_after_a_long_upload_gets_its_full_lifetime(services: Services) -> None:
    _witness_id, token = _login(services)
    done = T0 + timedelta(hours=11)
    hold_for_form(services.sessions, token, POLICY, FORM, started=T0, rendered=done)
    post = done + timedelta(hours=24)
    assert resume(services.sessions, token, POLICY, post, form_post=FORM) is not None


def test_logout_deletes_the_row(services: Services) -> None:
    _witness_id, token = _login(services)
    close_session(services.sessions, token)
    assert _rows(services) == []
    assert resume(services.sessions, token, POLICY, T0) is None


def test_a_login_replaces_the_browsers_previous_session(services: Services) -> None:
    witness_id, old = _login(services)
    new = open_session(services.sessions, witness_id, POLICY, T0, replacing=old)
    assert [row.token_hash for row in _rows(services)] == [token_hash(new)]


def test_a_confirmation_is_remembered_for_ten_minutes_and_one_testimony(
    services: Services,
) -> None:
    _witness_id, token = _login(services)
    confirm_parent(services.sessions, token, "S-ONE", POLICY, T0)
    active = resume(services.sessions, token, POLICY, T0 + MIN)
    assert active is not None
    assert active.confirmed_for("S-ONE", T0 + 9 * MIN)
    assert not active.confirmed_for("S-TWO", T0 + MIN)
    assert not active.confirmed_for("S-ONE", T0 + 10 * MIN)


def test_the_sweep_purges_only_sessions_nothing_can_use(services: Services) -> None:
    _witness_id, idle = _login(services)
    witness_id = _witness(services, b"\x08" * 32)
    held = open_session(services.sessions, witness_id, POLICY, T0)
    hold_for_form(services.sessions, held, POLICY, FORM, started=T0, rendered=T0)
    live = open_session(services.sessions, witness_id, POLICY, T0 + timedelta(hours=2))
    report = sweep(services.sessions, services.store, now=T0 + timedelta(hours=2))
    assert report.sessions_expired == 1
    remaining = {row.token_hash for row in _rows(services)}
    assert remaining == {token_hash(held), token_hash(live)}
    assert token_hash(idle) not in remaining
    report = sweep(services.sessions, services.store, now=T0 + timedelta(hours=26))
    assert report.sessions_expired == 2
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WitnessSession)) == 0


def test_the_service_imports_no_web_framework() -> None:
    code = (
        "import sys, intake.witness_sessions\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'werkzeug', 'wtforms', 'flask_wtf', 'flask_babel'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
