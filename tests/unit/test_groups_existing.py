"""Group rules that look at groups after creation or at other groups:
R8 snapshot tags, R10 DND lock, E11 duplicate guard, E2 overlap warning.
(R1–R3 creation checks are in test_groups.py.)"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from groupsms.domain.groups import (
    find_duplicate,
    lock_reason,
    overlap_warnings,
    participant_key,
    participant_tag,
)

CARLA = "+15125550111"
DAN = "+15125550112"
EVE = "+15125550113"
TORONTO = "+14165550100"
PROPERTY = settings(max_examples=100, deadline=None, database=None)

# R8 ---------------------------------------------------------------------------


def test_r8_unchanged_contact_has_no_tag() -> None:
    assert participant_tag(CARLA, CARLA, contact_deleted=False) is None


def test_r8_changed_number_is_updated() -> None:
    assert participant_tag(CARLA, DAN, contact_deleted=False) == "Updated"


def test_r8_removed_number_counts_as_updated() -> None:
    assert participant_tag(CARLA, None, contact_deleted=False) == "Updated"


def test_r8_deleted_contact_is_deleted_even_when_number_changed() -> None:
    assert participant_tag(CARLA, CARLA, contact_deleted=True) == "Deleted"
    assert participant_tag(CARLA, DAN, contact_deleted=True) == "Deleted"
    assert participant_tag(CARLA, None, contact_deleted=True) == "Deleted"


# R10 --------------------------------------------------------------------------


def test_r10_no_dnd_means_no_lock() -> None:
    assert lock_reason([]) is None


def test_r10_one_dnd_contact() -> None:
    assert lock_reason(["Carla Client"]) == "Carla Client enabled DND"


def test_r10_two_dnd_contacts() -> None:
    assert lock_reason(["Carla Client", "Dan Doe"]) == "Carla Client and Dan Doe enabled DND"


def test_r10_three_or_more_dnd_contacts() -> None:
    assert lock_reason(["A", "B", "C"]) == "A, B and C enabled DND"
    assert lock_reason(["A", "B", "C", "D"]) == "A, B, C and D enabled DND"


def test_r10_a_contact_in_the_group_twice_is_named_once() -> None:
    assert lock_reason(["Carla Client", "Carla Client"]) == "Carla Client enabled DND"


def test_r10_blank_name_still_locks() -> None:
    assert lock_reason(["  "]) == "A participant enabled DND"
    assert lock_reason(["Carla Client", ""]) == "Carla Client and a participant enabled DND"


# E11 --------------------------------------------------------------------------


def test_e11_participant_key_ignores_order_and_repeats() -> None:
    assert participant_key([CARLA, DAN]) == participant_key([DAN, CARLA, DAN])
    assert participant_key([CARLA, DAN]) != participant_key([CARLA, EVE])


def test_e11_same_numbers_in_another_order_is_a_duplicate() -> None:
    assert find_duplicate([DAN, CARLA], {7: [CARLA, DAN]}) == 7


def test_e11_subset_or_superset_is_not_a_duplicate() -> None:
    existing = {1: [CARLA, DAN, EVE], 2: [CARLA]}
    assert find_duplicate([CARLA, DAN], existing) is None


def test_e11_smallest_id_when_several_match() -> None:
    existing = {9: [CARLA, DAN], 3: [DAN, CARLA], 5: [CARLA, EVE]}
    assert find_duplicate([CARLA, DAN], existing) == 3


def test_e11_no_existing_groups_no_duplicate() -> None:
    assert find_duplicate([CARLA, DAN], {}) is None


def test_e11_empty_new_set_is_never_a_duplicate() -> None:
    assert find_duplicate([], {1: []}) is None


def test_e11_existing_may_be_any_iterable() -> None:
    existing = {4: iter([CARLA, DAN]), 2: (EVE, TORONTO)}
    assert find_duplicate({DAN, CARLA}, existing) == 4


_numbers = st.lists(
    st.sampled_from([CARLA, DAN, EVE, TORONTO, "+16045550111"]), min_size=1, max_size=5
)


@PROPERTY
@given(new=_numbers, existing=st.dictionaries(st.integers(1, 50), _numbers, max_size=6))
def test_e11_duplicate_is_exactly_an_equal_set(
    new: list[str], existing: dict[int, list[str]]
) -> None:
    found = find_duplicate(new, existing)
    equal = sorted(gid for gid, nums in existing.items() if set(nums) == set(new))
    assert found == (equal[0] if equal else None)
    assert find_duplicate(list(reversed(new)), existing) == found


# E2 ---------------------------------------------------------------------------


def test_e2_overlap_warning_lists_groups_per_number_sorted() -> None:
    existing = {8: [CARLA, EVE], 2: [CARLA, DAN], 5: [TORONTO, DAN]}
    assert overlap_warnings([CARLA, DAN, "+16045550111"], existing) == {
        CARLA: [2, 8],
        DAN: [2, 5],
    }


def test_e2_no_overlap_no_warning() -> None:
    assert overlap_warnings([CARLA, DAN], {1: [EVE, TORONTO]}) == {}
    assert overlap_warnings([CARLA, DAN], {}) == {}


def test_e2_a_repeated_new_number_is_warned_once() -> None:
    assert overlap_warnings([CARLA, CARLA], {1: [CARLA]}) == {CARLA: [1]}


@PROPERTY
@given(new=_numbers, existing=st.dictionaries(st.integers(1, 50), _numbers, max_size=6))
def test_e2_overlap_warnings_match_membership(
    new: list[str], existing: dict[int, list[str]]
) -> None:
    warnings = overlap_warnings(new, existing)
    for number in set(new):
        groups = sorted(gid for gid, nums in existing.items() if number in nums)
        assert warnings.get(number, []) == groups
    assert set(warnings) <= set(new)
    assert all(warnings.values())
