"""`make wordlists` is reproducible: the generator's filters, and a fresh build byte for byte.

The rebuild needs the `[wordlists]` extra and Debian's hunspell-uk/-ru; `make test` (and so
`.ci/run`) installs both, so CI always runs it. Elsewhere it is skipped, and says why.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from intake.wordlists import LANGUAGES
from intake.wordlists import build as builder
from intake.wordlists.rules import TARGET_SIZE

COMMITTED = Path(builder.__file__).parent
TOOLS = ("wordfreq", "pymorphy3", "xkcdpass")


def _missing_tools() -> list[str]:
    missing = [name for name in TOOLS if importlib.util.find_spec(name) is None]
    missing += [
        str(builder.HUNSPELL_DIR / name)
        for name in builder.HUNSPELL_FILES.values()
        if not (builder.HUNSPELL_DIR / name).is_file()
    ]
    return missing


def test_pick_keeps_frequent_plain_words_and_drops_their_near_neighbours() -> None:
    candidates = ["кіт", "кит", "хліб", "хліб", "смерть", "м'ясо", "Київ", "ок", "вікно", "вікна"]
    picked = builder.pick(candidates, "uk", lambda word: word != "вікна")
    # "кит" is one letter from the more frequent "кіт"; "смерть" is denied; "м'ясо" has an
    # apostrophe, "Київ" a capital, "ок" two letters; "вікна" is not a real (nominative) word.
    assert picked == ["вікно", "кіт", "хліб"]


def test_hunspell_words_keeps_lower_case_stems(tmp_path: Path) -> None:
    (tmp_path / "uk_UA.dic").write_text("4\nкіт/ab\nКиїв/c\nхліб\tpo:noun\nвікно\n", "utf-8")
    assert builder.hunspell_words("uk", tmp_path) == {"кіт", "хліб", "вікно"}


@pytest.mark.slow
def test_a_fresh_build_reproduces_the_committed_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = _missing_tools()
    if missing:
        pytest.skip(f"`make wordlists` tools not installed: {', '.join(missing)}")
    assert builder.main(["--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for language in LANGUAGES:
        fresh = (tmp_path / f"{language}.txt").read_bytes()
        assert fresh == (COMMITTED / f"{language}.txt").read_bytes(), language
        assert f"{language}: {TARGET_SIZE[language]} words" in printed
