"""The composer's cost line (E5): segments × the people a send reaches ≈ the SMS it makes."""

from groupsms.components.composer import cost_text


def test_cost_is_segments_times_people():
    assert cost_text("hello", 9) == "1 segment × 9 people ≈ 9 SMS"
    assert cost_text("x" * 600, 9) == "4 segments × 9 people ≈ 36 SMS"  # 153 GSM-7 characters a segment
    assert cost_text("hi", 1) == "1 segment × 1 person ≈ 1 SMS"


def test_unicode_text_counts_ucs2_segments():
    assert cost_text("😀" * 40, 3) == "2 segments × 3 people ≈ 6 SMS"  # 67 UCS-2 units a segment


def test_nothing_to_say_for_an_empty_box_or_nobody_to_reach():
    assert cost_text("", 9) == cost_text("   ", 9) == ""
    assert cost_text("hello", 0) == ""
    assert cost_text("x" * 5000, 9) == ""  # too long: the counter says why instead
