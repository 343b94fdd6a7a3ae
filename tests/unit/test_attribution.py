"""R5 reply relay attribution: short unique labels, never a phone number."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groupsms.domain.attribution import relay_labels, relay_text, short_labels
from groupsms.domain.encoding import gsm_name
from groupsms.domain.segments import count_segments, is_gsm7

PROPERTY = settings(max_examples=150, deadline=None, database=None)


def test_r5_unique_first_names_are_used() -> None:
    assert short_labels({1: "Carla Client", 2: "Dan Doe"}) == {1: "Carla", 2: "Dan"}


def test_r5_shared_first_name_adds_last_initial() -> None:
    labels = short_labels({1: "Carla Mendes", 2: "Carla Client", 3: "Dan Doe"})
    assert labels == {1: "Carla M.", 2: "Carla C.", 3: "Dan"}


def test_r5_shared_first_name_and_initial_uses_full_name() -> None:
    labels = short_labels({1: "Carla Mendes", 2: "Carla Moore", 3: "Carla"})
    assert labels == {1: "Carla Mendes", 2: "Carla Moore", 3: "Carla"}


def test_r5_same_full_name_is_numbered_in_id_order() -> None:
    labels = short_labels({5: "Dan Doe", 2: "Dan Doe", 9: "Dan Doe", 1: "Eve Stone"})
    assert labels == {2: "Dan Doe", 5: "Dan Doe (2)", 9: "Dan Doe (3)", 1: "Eve"}


def test_r5_names_differing_only_in_case_are_not_both_shown_the_same() -> None:
    labels = short_labels({1: "carla client", 2: "Carla Mendes"})
    assert labels[1].casefold() != labels[2].casefold()
    assert labels == {1: "carla c.", 2: "Carla M."}


def test_r5_extra_whitespace_is_ignored() -> None:
    assert short_labels({1: "  Carla   Client ", 2: "Dan"}) == {1: "Carla", 2: "Dan"}


def test_r5_blank_names_become_participant_n_in_id_order() -> None:
    labels = short_labels({30: "", 10: "Carla Client", 20: "   "})
    assert labels == {10: "Carla", 20: "Participant 2", 30: "Participant 3"}


def test_r5_a_name_that_is_a_phone_number_never_leaks() -> None:
    labels = short_labels({1: "+1 512 555 0111", 2: "(512) 555-0112", 3: "Dan Doe"})
    assert labels == {1: "Participant 1", 2: "Participant 2", 3: "Dan"}


def test_r5_a_name_with_a_digit_is_still_a_name() -> None:
    assert short_labels({1: "Agent 7"}) == {1: "Agent"}


def test_r5_placeholder_colliding_with_a_real_name_is_made_unique() -> None:
    labels = short_labels({1: "", 2: "Participant 1"})
    assert len({label.casefold() for label in labels.values()}) == 2


def test_r5_no_participants_no_labels() -> None:
    assert short_labels({}) == {}


def test_r5_relay_text_prefixes_the_label() -> None:
    assert relay_text("Carla", "see you at 5") == "Carla: see you at 5"


_first = st.sampled_from(["Carla", "carla", "Dan", "Eve", "José", ""])
_last = st.sampled_from(["", "Client", "Mendes", "Moore", "Doe"])
_phone = st.builds(
    lambda d, sep: sep.join([d[:3], d[3:6], d[6:]]),
    st.from_regex(r"\A[0-9]{10}\Z"),
    st.sampled_from([" ", "-", "."]),
)
_name = st.builds(lambda f, l: f"{f} {l}", _first, _last) | _phone | st.text(max_size=12)


@PROPERTY
@given(st.dictionaries(st.integers(1, 1000), _name, max_size=9))
def test_r5_labels_are_unique_nonblank_and_never_numbers(names: dict[int, str]) -> None:
    labels = short_labels(names)
    assert set(labels) == set(names)
    assert len({label.casefold() for label in labels.values()}) == len(labels)
    for pid, label in labels.items():
        assert label.strip()
        if set(names[pid]) <= set("0123456789 -.") and len(names[pid].strip(" -.")) >= 10:
            assert label.startswith("Participant ")


# -- relay labels are spelled in GSM-7 letters: a name does not make every relay UCS-2 -------------


@pytest.mark.parametrize(
    ("name", "spelled"),
    [("Zoë Kraus", "Zoe Kraus"), ("Łukasz Nowak", "Lukasz Nowak"), ("Иван Петров", "Ivan Petrov"),
     ("José Muñoz", "José Muñoz"), ("Nguyễn Văn", "Nguyen Van"), ("Ana 🌸 Lima", "Ana Lima"), ("🌸", "")],
)
def test_gsm_name_transliterates_letters_gsm7_lacks_and_keeps_those_it_has(name: str, spelled: str) -> None:
    assert gsm_name(name) == spelled


def test_participant_name_with_a_non_gsm_letter_does_not_turn_relays_into_ucs2() -> None:
    labels = relay_labels({1: "Zoë Kraus", 2: "Dan Doe"})
    assert labels == {1: "Zoe", 2: "Dan"}
    sms = relay_text(labels[1], "see you at 5 " + "x" * 140)
    assert sms.startswith("Zoe: see you at 5")
    info = count_segments(sms)
    assert (info.encoding, info.segments) == ("GSM-7", 1)  # with "Zoë" it was UCS-2, 3 segments
    assert count_segments("Zoë: see you at 5 " + "x" * 140).segments == 3


def test_relay_labels_stay_unique_once_spelled_in_gsm7() -> None:
    labels = relay_labels({1: "Zoë Kraus", 2: "Zoe Lang", 3: "🌸"})
    assert labels == {1: "Zoe K.", 2: "Zoe L.", 3: "Participant 3"}


def test_relay_text_is_smart_encoded() -> None:
    assert relay_text("Carla", "I’ll be there — 5…") == "Carla: I'll be there - 5..."
    assert relay_text("Carla", "I’ll be there 🙏") == "Carla: I’ll be there 🙏"


@PROPERTY
@given(st.text(max_size=40), st.text(alphabet="abc XYZ.,!?", max_size=200))
def test_relay_prefix_never_makes_a_gsm7_reply_ucs2(name: str, body: str) -> None:
    label = relay_labels({1: name, 2: "Dan"})[1]
    assert is_gsm7(label)
    assert is_gsm7(relay_text(label, body))
