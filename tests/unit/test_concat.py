"""Which parts of long inbound SMS belong together (E6), for any arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from groupsms.domain import concat

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def parts_of(message: int, total: int, start: datetime, first_id: int) -> list[concat.Part]:
    return [concat.Part(first_id + n, n, total, start, f"m{message}p{n} ") for n in range(1, total + 1)]


@st.composite
def handset_messages(draw):
    """Messages one handset sent with the same reference, one after the other; each message's parts
    arrive in any order (and may overlap in time with nothing else)."""
    arrivals, next_id, at = [], 1, T0
    expected = []
    for message in range(draw(st.integers(1, 5))):
        total = draw(st.integers(2, 4))
        parts = parts_of(message, total, at, next_id)
        order = draw(st.permutations(parts))
        for offset, part in enumerate(order):
            arrivals.append(concat.Part(part.event_id, part.number, part.total, at + timedelta(seconds=offset),
                                        part.text))
        expected.append("".join(p.text for p in parts))
        next_id += total
        at += timedelta(minutes=draw(st.integers(1, 60 * 72)))
    return arrivals, expected


@given(handset_messages())
def test_reused_reference_messages_are_never_spliced(case):
    arrivals, expected = case
    sets = concat.partition(arrivals)
    assert [ps.text() for ps in sets] == expected
    assert all(ps.complete() for ps in sets)


def test_duplicate_part_number_starts_a_new_message():
    a = parts_of(1, 2, T0, 1)
    b = parts_of(2, 2, T0 + timedelta(seconds=5), 10)
    sets = concat.partition([a[0], b[0], b[1]])
    assert [[p.event_id for p in ps.parts] for ps in sets] == [[2], [11, 12]]
    assert sets[0].notice() == "Part 2 of 2 never arrived" and sets[0].text() == "m1p1 [...]"


def test_parts_a_day_apart_or_of_another_count_are_apart():
    first = concat.Part(1, 1, 2, T0, "a")
    late = concat.Part(2, 2, 2, T0 + timedelta(hours=25), "b")
    other_count = concat.Part(3, 2, 3, T0, "c")
    assert len(concat.partition([first, late])) == 2
    assert len(concat.partition([first, other_count])) == 2


def test_notice_names_every_missing_part():
    ps = concat.PartSet([concat.Part(1, 2, 4, T0, "middle")])
    assert ps.notice() == "Parts 1, 3, 4 of 4 never arrived"
    assert ps.text() == "[...] middle [...]"
