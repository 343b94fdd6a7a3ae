"""E1 carrier keywords: a message that is only the keyword, after normalising case, width, look-alike
letters, invisible characters, accents, spacing and surrounding punctuation."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from groupsms.domain.keywords import KEYWORDS, classify, compact_form, keyword_word

PROPERTY = settings(max_examples=150, deadline=None, database=None)

STOP_WORDS = [
    "STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT", "OPT-OUT", "OPTOUT",
]


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
        "stop texting me", "please stop", "s top", "stop stop", "opt", "out", "all", "stopp", "stop1", "nonstop",
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
    mixed = "".join(ch.lower() if flip else ch for ch, flip in zip(word, case, strict=False))
    assert classify(before + mixed + after) == KEYWORDS[word]


@PROPERTY
@given(word=st.sampled_from(sorted(KEYWORDS)), other=st.from_regex(r"\A[a-z]{1,8}\Z"))
def test_e1_a_keyword_with_another_word_is_not_a_keyword(word: str, other: str) -> None:
    assume(f"{word} {other}".upper() not in KEYWORDS)  # "STOP" + "all" is the keyword STOP ALL
    assert classify(f"{word} {other}") is None
    assert classify(f"{other} {word}") is None


# -- opt-out words that were missed: forms, look-alike letters, invisible characters, spacing ------

@pytest.mark.parametrize(
    "body",
    ["STOP ALL", "Stop all", "Opt out", "OPT-OUT", "opt-out!", "Stop.", "OptOut", "stop   all"],
)
def test_missed_opt_out_words_stop_all_opt_out_and_trailing_dot_count(body: str) -> None:
    assert classify(body) == "stop"


@pytest.mark.parametrize(
    "body",
    [
        "\u0405\u0422\u041e\u0420",  # Cyrillic capitals: ЅТОР
        "\u0455\u0442\u043e\u0440",  # Cyrillic small letters: ѕтор
        "ST\u039fP",  # Greek capital omicron
        "\u039f\u03a1\u03a4 \u039fU\u03a4",  # Greek ΟΡΤ ΟUΤ
        "\u0421\u0410\u039d\u0421\u0415L",  # CANCEL in Cyrillic and Greek letters
    ],
)
def test_missed_opt_out_words_with_cyrillic_and_greek_look_alikes_count(body: str) -> None:
    assert classify(body) == "stop"


@pytest.mark.parametrize(
    "body",
    ["S\u200bTOP", "\ufeffSTOP", "ST\u200dOP", "S\u2060T\u00adO\u200cP", "\u3164STOP", "STO\u0301P"],
)
def test_missed_opt_out_words_with_zero_width_characters_and_accents_count(body: str) -> None:
    assert classify(body) == "stop"


@pytest.mark.parametrize("body", ["S T O P", "s.t.o.p", "S-T-O-P", "Q U I T", "E N D", "O P T O U T"])
def test_missed_opt_out_words_with_spaced_letters_count(body: str) -> None:
    assert classify(body) == "stop"


@pytest.mark.parametrize("body", ["\U0001d412\U0001d413\U0001d40e\U0001d40f", "\u24c8\u24c9\u24c4\u24c5", "ST0P"])
def test_styled_circled_and_zero_for_o_letters_count(body: str) -> None:
    assert classify(body) == "stop"


def test_yes_with_an_emoji_is_the_opt_in_word_and_the_caller_decides() -> None:
    # Whether it opts in depends on the number being opted out (messaging/optout.py).
    assert classify("Yes \U0001f44d") == "start"
    assert classify("Yes, see you then") is None


def test_keyword_word_is_the_normalised_word_for_the_record() -> None:
    assert keyword_word(" Opt-Out! ") == "OPTOUT"
    assert keyword_word("\u0405\u0422\u041e\u0420") == "STOP"
    assert compact_form("STOP ALL") == "STOPALL"


# Each Latin letter of the keywords, and what may stand for it in a message.
_LOOKS = {
    "A": "Aa\u0410\u0430\u0391\u03b1", "B": "Bb\u0412\u0432\u0392", "C": "Cc\u0421\u0441\u03f9\u03f2",
    "E": "Ee\u0415\u0435\u0395", "F": "Ff", "H": "Hh\u041d\u04bb\u0397", "I": "Ii\u0406\u0456\u0399\u03b9",
    "K": "Kk\u041a\u043a\u039a\u03ba", "L": "Ll", "N": "Nn\u039d", "O": "Oo0\u041e\u043e\u039f\u03bf",
    "P": "Pp\u0420\u0440\u03a1\u03c1", "Q": "Qq\u051a\u051b", "R": "Rr", "S": "Ss\u0405\u0455",
    "T": "Tt\u0422\u0442\u03a4\u03c4", "U": "Uu", "V": "Vv\u03bd", "Y": "Yy\u0423\u0443\u03a5", "D": "Dd",
}
_ZERO_WIDTH = st.sampled_from(["", "", "", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])


@st.composite
def disguised(draw, word: str) -> str:
    """`word` with each letter swapped for any look-alike, invisible characters between letters,
    and (sometimes) every letter spaced out."""
    spaced = draw(st.booleans()) and " " not in word and "-" not in word
    out = []
    for ch in word:
        if ch in " -":
            out.append(draw(st.sampled_from([" ", "-", "  ", " - "])))
            continue
        out.append(draw(st.sampled_from(_LOOKS[ch])) + draw(_ZERO_WIDTH))
        if spaced:
            out.append(draw(st.sampled_from([" ", ".", " . "])))
    return "".join(out)


@PROPERTY
@given(data=st.data(), word=st.sampled_from(sorted(KEYWORDS)), before=_noise, after=_noise)
def test_e1_any_mix_of_look_alikes_zero_width_case_and_spacing_is_that_keyword(data, word, before, after) -> None:
    body = before + data.draw(disguised(word)) + after
    assert classify(body) == KEYWORDS[word], repr(body)


@PROPERTY
@given(
    data=st.data(), word=st.sampled_from(sorted(KEYWORDS)),
    other=st.from_regex(r"\A[a-z]{2,8}\Z"), first=st.booleans(),
)
def test_e1_a_disguised_keyword_next_to_another_word_is_not_a_keyword(data, word, other, first) -> None:
    assume(f"{word} {other}".upper() not in KEYWORDS)
    body = data.draw(disguised(word))
    text = f"{other} {body}" if first else f"{body} {other}"
    assert classify(text) is None, repr(text)


def test_e1_every_single_look_alike_in_every_position_of_every_keyword() -> None:
    """Exhaustive where the property test samples: each listed look-alike, alone, at each place."""
    checked = 0
    for word, kind in KEYWORDS.items():
        for i, ch in enumerate(word):
            for look in _LOOKS.get(ch, ""):
                body = word[:i] + look + word[i + 1:]
                assert classify(body) == kind, repr(body)
                checked += 1
    assert checked > 300
