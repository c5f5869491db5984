"""A codename issued in Ukrainian or Russian logs in when typed on the other Cyrillic keyboard
(issue 18 review): issuing redraws the few that would not, and the confirmation step repairs
the words asked back in the issued codename's language."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import pytest
from flask.testing import FlaskClient

from intake.errors import ConfigError
from intake.web.services.codename import CodenameFactory
from intake.wordlists import load_all
from intake.wordlists.repair import KEYBOARDS, keyboard_slip
from tests.intake.web.conftest import codename_of, form_action

LISTS = load_all()
# The review's example: on a Russian keyboard "іпотека" and "зодіак" become Russian list
# words, so login guessed Russian and refused it, while the confirmation (which knows the
# language) had let the witness through.
FRAGILE = "іпотека цирконій синтез зодіак ломбард норматив постер курятина"
SOUND = "магнолія цирконій синтез ломбард норматив постер курятина ґудзик"


def test_the_example_does_not_survive_a_russian_keyboard() -> None:
    factory = CodenameFactory(lists=LISTS)
    assert factory.repair(keyboard_slip(FRAGILE, "ru")) != FRAGILE
    assert not factory.survives_keyboards(FRAGILE)


def test_a_codename_that_would_not_survive_is_redrawn() -> None:
    words: Iterator[str] = iter([*FRAGILE.split(), *SOUND.split()])
    factory = CodenameFactory(lists=LISTS, choose=lambda _list: next(words))
    assert set(SOUND.split()) <= set(LISTS["uk"])
    assert factory.survives_keyboards(SOUND)
    assert factory.new("uk") == SOUND


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_every_issued_codename_survives_both_keyboards(language: str) -> None:
    # Without the redraw, 0.05 % of Ukrainian and 0.01 % of Russian codenames fail (200,000
    # drawn; 1.7 % of Russian ones before ъ typed as ' or ї was repaired). This seed meets 4
    # and 2 of them in 5,000 draws, so the redraw is exercised, not only the common case.
    rng = random.Random(21)  # noqa: S311 - reproducible draws for a test, not codenames
    drawn = 0

    def choose(words: Sequence[str]) -> str:
        nonlocal drawn
        drawn += 1
        return rng.choice(words)

    factory = CodenameFactory(lists=LISTS, choose=choose)
    for _ in range(5000):
        codename = factory.new(language)
        for keyboard in KEYBOARDS:
            typed = keyboard_slip(codename, keyboard)
            assert factory.repair(typed) == codename, (keyboard, typed)
    assert drawn > 5000 * factory.word_count(language)


def test_a_word_asked_back_in_russian_spelling_confirms_a_ukrainian_codename(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "магнолия" is itself a Russian list word: only the view's wiring of the repair with the
    # issued codename (words_match(..., ctx.codenames.repair)) makes it the Ukrainian word.
    assert "магнолия" in LISTS["ru"]
    monkeypatch.setattr(CodenameFactory, "new", lambda _self, _language=None: SOUND)
    monkeypatch.setattr("intake.web.views.start.pick_positions", lambda _codename: [1, 3])
    start = client.get("/start?lang=uk").get_data(as_text=True)
    html = client.post(form_action(start, "start-form"), follow_redirects=True).get_data(
        as_text=True
    )
    assert codename_of(html) == SOUND
    typed = {"word1": "Магнолия", "word2": "синтез"}
    confirmed = client.post(form_action(html, "confirm-form"), data=typed)
    assert confirmed.status_code == 303
    assert client.get("/testimony").status_code == 200


def test_a_list_whose_draws_never_survive_stops_with_an_error() -> None:
    # Review of 1e203ab: the redraw loop had no end; a changed list must fail the page.
    words = FRAGILE.split()
    drawn = iter(range(10**6))
    factory = CodenameFactory(lists=LISTS, choose=lambda _list: words[next(drawn) % len(words)])
    with pytest.raises(ConfigError, match="survives both keyboards"):
        factory.new("uk")
