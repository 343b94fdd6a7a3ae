"""E5 composer: GSM-7 / UCS-2 detection, segment counts and the hard limit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groupsms.domain.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_SEGMENTS,
    SegmentInfo,
    check_message_text,
    count_segments,
    is_gsm7,
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
