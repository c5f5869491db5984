"""Codenames in the witness's language (issue 18, item 1): a uk page issues Ukrainian words, the
confirmation takes Cyrillic words, login still opens codenames issued before from the EFF list,
and a changed word list stops the app from starting."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from crypto.witness import FAST_TEST_COST, derive
from intake.app import build_services, create_app
from intake.clock import utc_today
from intake.config import load_config
from intake.datadir import init_data_dir
from intake.models import Witness
from intake.web.services.codename import CodenameFactory
from intake.wordlists import DIGESTS, WordlistError, load
from tests.conftest import keyring_env
from tests.intake.web.conftest import Site, codename_of, confirm_words, form_action

# A codename as issue 18 found them: seven words of the EFF long list, issued before the lists.
OLD_CODENAME = "unlit dizzy backing ruby cresting mustiness gravity"
# Its lookup value at FAST_TEST_COST, computed by the code that issued such codenames.
OLD_LOOKUP = "d36b79069962ea9f10d405df0869bedc966a21bac718bf11014d9e0fa98f149c"


def _issue(client: FlaskClient, lang: str) -> str:
    start = client.get(f"/start?lang={lang}").get_data(as_text=True)
    issued = client.post(form_action(start, "start-form"), follow_redirects=True)
    assert issued.status_code == 200
    return issued.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "uk", "ru"])
def test_the_codename_is_drawn_in_the_pages_language(client: FlaskClient, lang: str) -> None:
    html = _issue(client, lang)
    words = codename_of(html).split(" ")
    count = 9 if lang == "en" else 8
    assert len(words) == count
    assert set(words) <= set(load(lang))
    start = client.get(f"/start?lang={lang}").get_data(as_text=True)
    assert ("8 слів" if lang == "uk" else "8 слов" if lang == "ru" else "9 words") in start


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_cyrillic_words_typed_back_in_capitals_confirm(client: FlaskClient, lang: str) -> None:
    html = _issue(client, lang)
    typed = {name: f"  {word.upper()} " for name, word in confirm_words(html).items()}
    confirmed = client.post(form_action(html, "confirm-form"), data=typed)
    assert confirmed.status_code == 303
    assert client.get("/testimony").status_code == 200


def test_a_codename_issued_before_still_logs_in(site: Site, client: FlaskClient) -> None:
    keys = derive(OLD_CODENAME, cost=FAST_TEST_COST)
    with site.services.sessions() as session:
        session.add(
            Witness(
                lookup=keys.lookup,
                reply_recipient=str(keys.identity.recipient()),
                created_on=utc_today(),
            )
        )
        session.commit()
    page = client.get("/return").get_data(as_text=True)
    typed = "  Unlit-Dizzy  BACKING ruby cresting mustiness gravity "
    response = client.post(form_action(page, "login-form"), data={"codename": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your testimonies" in html
    assert "We do not know this codename" not in html
    with site.services.sessions() as session:
        assert session.scalars(select(Witness)).one().lookup == keys.lookup


def test_the_old_derivation_is_unchanged() -> None:
    # Pinned from the code that issued seven-word codenames: a change to the normalisation or
    # the labels would lock every earlier witness out, and must be a new derivation (v2).
    lookup = derive(OLD_CODENAME, cost=FAST_TEST_COST).lookup
    retyped = " UNLIT dizzy-backing ruby cresting   mustiness gravity"
    assert derive(retyped, cost=FAST_TEST_COST).lookup == lookup
    assert lookup.hex() == OLD_LOOKUP


def test_a_changed_word_list_stops_the_app(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(
        {"INTAKE_DATA_DIR": str(tmp_path / "data"), **keyring_env(tmp_path)}
    ).replace(database_url=db_url)
    services = build_services(config)
    init_data_dir(config, services.engine)
    monkeypatch.setitem(DIGESTS, "ru", "f" * 64)
    try:
        with pytest.raises(WordlistError, match="ru codename word list"):
            create_app(config, services=services)
    finally:
        services.engine.dispose()


def test_a_language_without_a_list_gets_english_words() -> None:
    factory = CodenameFactory.load()
    assert factory.language("de") == factory.language(None) == "en"
    assert set(factory.new("de").split()) <= set(load("en"))
    assert factory.word_count("uk") == 8


def test_a_ukrainian_codename_with_slips_logs_in(client: FlaskClient) -> None:
    start = client.get("/start?lang=uk").get_data(as_text=True)
    issued = client.post(form_action(start, "start-form"), follow_redirects=True)
    html = issued.get_data(as_text=True)
    codename = codename_of(html)
    # The two words asked back, typed on a Russian keyboard (и for і, е for є), still confirm.
    slips = str.maketrans({"і": "и", "є": "е", "ї": "и", "ґ": "г"})
    typed = {name: word.translate(slips) for name, word in confirm_words(html).items()}
    assert client.post(form_action(html, "confirm-form"), data=typed).status_code == 303
    client.post("/logout")
    fresh = client.application.test_client()
    page = fresh.get("/return?lang=uk").get_data(as_text=True)
    slipped = codename.replace("і", "i").replace("о", "o")  # Latin look-alikes
    response = fresh.post(form_action(page, "login-form"), data={"codename": slipped})
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    assert "login-form" not in response.get_data(as_text=True)
