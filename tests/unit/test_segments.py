"""E5 composer: GSM-7 / UCS-2 detection, segment counts and the hard limit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groupsms.domain.encoding import SMART_REPLACEMENTS, smart_encode
from groupsms.domain.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_SEGMENTS,
    SegmentInfo,
    check_message_text,
    check_relay_text,
    count_segments,
    is_gsm7,
    sms_segments,
)

PROPERTY = settings(max_examples=150, deadline=None, database=None)


def test_e5_empty_text_is_zero_segments() -> None:
    assert count_segments("") == SegmentInfo("GSM-7", 0, 0, 160, 0)


@pytest.mark.parametrize(
    ("length", "segments", "per_segment"),
    [(1, 1, 160), (160, 1, 160), (161, 2, 153), (306, 2, 153), (307, 3, 153), (1530, 10, 153)],
)
def test_e5_gsm7_boundaries(length: int, segments: int, per_segment: int) -> None:
    info = count_segments("a" * length)
    assert (info.encoding, info.segments, info.per_segment) == ("GSM-7", segments, per_segment)
    assert info.units == info.characters == length


@pytest.mark.parametrize("ch", sorted("€[]{}^~|\\"))
def test_e5_extension_characters_cost_two_septets(ch: str) -> None:
    info = count_segments(ch * 80)
    assert (info.encoding, info.characters, info.units, info.segments) == ("GSM-7", 80, 160, 1)
    assert count_segments(ch * 81).segments == 2


def test_e5_escape_pair_is_never_split_across_segments() -> None:
    # 152 septets then "€" (2): the pair cannot straddle the 153 boundary.
    info = count_segments("a" * 152 + "€" + "a" * 152)
    assert info.units == 306
    assert info.segments == 3  # not ceil(306 / 153) == 2


@pytest.mark.parametrize(
    "text", ["Hello @ £5, ¿qué? ÄÖÑÜ äöñüà ΔΦΓ\n", "é è ù ì ò Ç Ø ø Å å Æ æ ß É"]
)
def test_e5_gsm7_accents_and_greek_stay_gsm7(text: str) -> None:
    assert is_gsm7(text)
    assert count_segments(text).encoding == "GSM-7"


@pytest.mark.parametrize("text", ["ç", "á", "ê", "Ω✓", "“quotes”", "日本", "😀", "\x1b"])
def test_e5_other_characters_switch_to_ucs2(text: str) -> None:
    assert not is_gsm7(text)
    assert count_segments(text).encoding == "UCS-2"


@pytest.mark.parametrize(
    ("length", "segments", "per_segment"),
    [(70, 1, 70), (71, 2, 67), (134, 2, 67), (135, 3, 67)],
)
def test_e5_ucs2_boundaries(length: int, segments: int, per_segment: int) -> None:
    info = count_segments("á" * length)
    assert (info.encoding, info.segments, info.per_segment, info.units) == (
        "UCS-2", segments, per_segment, length
    )


def test_e5_emoji_counts_two_utf16_units() -> None:
    info = count_segments("😀" * 35)
    assert (info.characters, info.units, info.segments) == (35, 70, 1)
    assert count_segments("😀" * 36).segments == 2


def test_e5_surrogate_pair_is_never_split_across_segments() -> None:
    info = count_segments("á" * 66 + "😀" + "á" * 66)
    assert info.units == 134
    assert info.segments == 3


def test_e5_one_non_gsm_character_makes_the_whole_text_ucs2() -> None:
    info = count_segments("a" * 100 + "✓")
    assert (info.encoding, info.units, info.segments) == ("UCS-2", 101, 2)


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_e5_blank_message_is_refused(text: str) -> None:
    assert check_message_text(text) == "Message is empty"


def test_e5_message_within_limit_is_accepted() -> None:
    assert MAX_SEGMENTS == 10
    assert check_message_text("see you at 5") is None
    assert check_message_text("a" * 1530) is None  # exactly 10 segments


def test_e5_message_over_limit_is_refused_with_count() -> None:
    assert check_message_text("a" * 1531) == "Message is too long: 11 segments (max 10)"
    # 33 emoji (66 units) fit a 67-unit part: 400 emoji need 13 parts.
    assert check_message_text("😀" * 400) == "Message is too long: 13 segments (max 10)"


_gsm_text = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=800)
_any_text = st.text(max_size=500) | _gsm_text


@PROPERTY
@given(_any_text)
def test_e5_segments_never_below_units_over_capacity(text: str) -> None:
    info = count_segments(text)
    assert info.characters == len(text)
    if not text:
        assert info.segments == 0
        return
    assert info.segments >= math.ceil(info.units / info.per_segment)
    # Never more than one extra segment per unsplittable pair would allow.
    assert info.segments <= math.ceil(info.units / (info.per_segment - 1))
    single = 160 if info.encoding == "GSM-7" else 70
    assert (info.segments == 1) == (info.units <= single)


@PROPERTY
@given(_any_text)
def test_e5_units_match_the_encoding(text: str) -> None:
    info = count_segments(text)
    if info.encoding == "GSM-7":
        assert is_gsm7(text)
        assert info.units == len(text) + sum(ch in GSM7_EXTENSION for ch in text)
    else:
        assert not is_gsm7(text)
        assert info.units == len(text.encode("utf-16-le")) // 2


@PROPERTY
@given(_gsm_text, st.sampled_from(sorted(GSM7_BASIC)))
def test_e5_adding_a_character_never_lowers_segments(text: str, ch: str) -> None:
    assert count_segments(text + ch).segments >= count_segments(text).segments


# -- smart encoding: what goes out uses GSM-7 look-alikes for typographic characters ---------------


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("“See you” at 5", '"See you" at 5'),
        ("it’s ‘fine’", "it's 'fine'"),
        ("9–5 — or later", "9-5 - or later"),
        ("wait…", "wait..."),
        ("10\u00a0am\u202fsharp", "10 am sharp"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("«oui» ‹non›", '"oui" <non>'),
        ("ｆｕｌｌｗｉｄｔｈ！", "fullwidth!"),
        ("Cafe\u0301", "Café"),  # a letter typed as base + accent is the GSM-7 letter it looks like
    ],
)
def test_smart_encoding_sends_curly_quotes_dashes_ellipsis_and_odd_spaces_as_gsm7(typed: str, sent: str) -> None:
    assert smart_encode(typed) == sent
    assert is_gsm7(sent)


def test_smart_encoding_keeps_a_text_that_must_go_as_ucs2_exactly_as_typed() -> None:
    # An emoji makes it UCS-2 anyway, where every character shows: nothing is swapped.
    assert smart_encode("“Great” — thanks 🙏") == "“Great” — thanks 🙏"
    assert smart_encode("Привет “друг”") == "Привет “друг”"


def test_smart_quote_no_longer_makes_a_one_segment_text_three_segments() -> None:
    text = "We’ll meet at the office at 10 — bring the signed offer, the inspection report and your ID. " \
           "Parking is in the back…"
    assert count_segments(text).segments == 2 and count_segments(text).encoding == "UCS-2"
    info = sms_segments(text)
    assert (info.encoding, info.segments) == ("GSM-7", 1)


def test_the_hard_limit_counts_what_goes_out_not_what_was_typed() -> None:
    # 10 GSM-7 segments once the curly quote is plain; as typed it would be 23 UCS-2 segments.
    text = "’" + "a" * 1529
    assert count_segments(text).segments == 23
    assert check_message_text(text) is None
    assert check_message_text("’" + "a" * 1530) == "Message is too long: 11 segments (max 10)"


def test_relay_over_ten_segments_is_refused_with_a_notice() -> None:
    assert check_relay_text("Carla: " + "a" * 1523) is None  # exactly 1530 septets
    notice = check_relay_text("Carla: " + "a" * 1524)
    assert notice == "Not relayed to the group: with the sender's name it is 11 SMS segments (max 10)"
    assert len(notice) <= 300  # fits Message.notice


_mapped_and_gsm = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION | set(SMART_REPLACEMENTS)), max_size=400)


@PROPERTY
@given(_mapped_and_gsm)
def test_smart_encoding_of_mapped_characters_and_gsm7_is_always_gsm7(text: str) -> None:
    sent = smart_encode(text)
    assert is_gsm7(sent)
    assert sms_segments(text) == count_segments(sent)


@PROPERTY
@given(_any_text)
def test_smart_encoding_never_touches_gsm7_and_only_ever_yields_gsm7_or_the_original(text: str) -> None:
    sent = smart_encode(text)
    if is_gsm7(text):
        assert sent == text
    assert sent == text or is_gsm7(sent)
    assert smart_encode(sent) == sent  # idempotent
    assert sms_segments(text).segments <= count_segments(text).segments
