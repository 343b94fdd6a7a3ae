"""E1 carrier keywords: a message that is only the keyword, any case,
surrounding spaces and punctuation ignored."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groupsms.domain.keywords import KEYWORDS, classify

PROPERTY = settings(max_examples=150, deadline=None, database=None)

STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]


@pytest.mark.parametrize("word", STOP_WORDS)
def test_e1_opt_out_keywords(word: str) -> None:
    assert classify(word) == "stop"
    assert classify(word.lower()) == "stop"
    assert classify(word.capitalize()) == "stop"


@pytest.mark.parametrize("word", ["START", "UNSTOP", "YES", "start", "Yes"])
def test_e1_opt_in_keywords(word: str) -> None:
    assert classify(word) == "start"


@pytest.mark.parametrize("word", ["HELP", "INFO", "help", "Info"])
def test_e1_help_keywords(word: str) -> None:
    assert classify(word) == "help"


@pytest.mark.parametrize(
    "body",
    ["  Stop. ", "stop!", "STOP!!!", "\nstop\n", "'stop'", "(STOP)", "¡stop!", "stop 🛑", "ＳＴＯＰ"],
)
def test_e1_surrounding_spaces_punctuation_and_symbols_are_ignored(body: str) -> None:
    assert classify(body) == "stop"


@pytest.mark.parametrize(
    "body",
    [
        "stop texting me", "please stop", "STOP ALL", "s top", "stopp", "stop1", "nonstop",
        "yes please", "help me", "", "   ", "!!!", "OK", "stop.stop",
    ],
)
def test_e1_anything_but_a_single_keyword_is_conversation(body: str) -> None:
    assert classify(body) is None


def test_e1_keyword_table_is_exactly_the_design() -> None:
    assert {w for w, k in KEYWORDS.items() if k == "stop"} == set(STOP_WORDS)
    assert {w for w, k in KEYWORDS.items() if k == "start"} == {"START", "UNSTOP", "YES"}
    assert {w for w, k in KEYWORDS.items() if k == "help"} == {"HELP", "INFO"}


_noise = st.text(alphabet=" \t\n.,!?;:'\"()-…", max_size=4)


@PROPERTY
@given(
    word=st.sampled_from(sorted(KEYWORDS)),
    before=_noise,
    after=_noise,
    case=st.lists(st.booleans(), min_size=11, max_size=11),
)
def test_e1_any_case_and_noise_around_a_keyword(
    word: str, before: str, after: str, case: list[bool]
) -> None:
    mixed = "".join(ch.lower() if flip else ch for ch, flip in zip(word, case))
    assert classify(before + mixed + after) == KEYWORDS[word]


@PROPERTY
@given(word=st.sampled_from(sorted(KEYWORDS)), other=st.from_regex(r"\A[a-z]{1,8}\Z"))
def test_e1_a_keyword_with_another_word_is_not_a_keyword(word: str, other: str) -> None:
    assert classify(f"{word} {other}") is None
    assert classify(f"{other} {word}") is None
