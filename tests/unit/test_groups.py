"""Group rules: R1 business number, R2 size and repeats, R3 eligibility,
R8 snapshot tags, R10 DND lock, E11 duplicate guard, E2 overlap warning."""

from __future__ import annotations

import dataclasses

import pytest

from groupsms.domain.groups import (
    MAX_PARTICIPANTS,
    MIN_PARTICIPANTS,
    BusinessNumberFacts,
    ParticipantChoice,
    Problem,
    check_business_number,
    check_group,
    check_participants,
    ineligibility_reason,
)

BUSINESS = "+15125550100"
CARLA = "+15125550111"
DAN = "+15125550112"
CA_TORONTO = "+14165550100"
CA_VANCOUVER = "+16045550111"
GB_MOBILE = "+447400123456"
MX = "+525512345678"
JM = "+18765550100"


def pick(
    contact_id: int,
    e164: str | None,
    *,
    name: str | None = None,
    which: str = "primary",
    dnd: bool = False,
    deleted: bool = False,
) -> ParticipantChoice:
    return ParticipantChoice(
        contact_id=contact_id,
        which=which,
        name=name if name is not None else f"Contact {contact_id}",
        e164=e164,
        dnd=dnd,
        deleted=deleted,
    )


def us_picks(count: int) -> list[ParticipantChoice]:
    """count distinct eligible participants, +1 512 555 0120 upwards (all valid)."""
    return [pick(100 + i, f"+151255501{20 + i:02d}") for i in range(count)]


def messages(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems]


# R1 ---------------------------------------------------------------------------


def test_r1_us_and_canada_business_numbers_in_the_location_are_accepted() -> None:
    for e164 in (BUSINESS, CA_TORONTO, CA_VANCOUVER):
        assert check_business_number(BusinessNumberFacts(e164, in_location=True)) == []


@pytest.mark.parametrize("e164", [GB_MOBILE, MX, JM, "+15555550100", "", "5125550100"])
def test_r1_business_number_must_be_us_or_canada(e164: str) -> None:
    problems = check_business_number(BusinessNumberFacts(e164, in_location=True))
    assert problems == [
        Problem("R1", "business_number", "The business number must be a US or Canada number")
    ]


def test_r1_business_number_must_belong_to_the_location() -> None:
    problems = check_business_number(BusinessNumberFacts(BUSINESS, in_location=False))
    assert [(p.rule, p.field) for p in problems] == [("R1", "business_number")]
    assert "does not belong to this location" in problems[0].message


def test_r1_business_number_must_be_sms_capable() -> None:
    problems = check_business_number(BusinessNumberFacts(BUSINESS, True, sms_capable=False))
    assert messages(problems) == ["The business number cannot send SMS"]


def test_r1_every_business_number_problem_is_reported() -> None:
    problems = check_business_number(BusinessNumberFacts(GB_MOBILE, False, sms_capable=False))
    assert len(problems) == 3
    assert {p.rule for p in problems} == {"R1"}


def test_r1_facts_are_frozen_values() -> None:
    facts = BusinessNumberFacts(BUSINESS, in_location=True)
    assert facts.sms_capable is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.e164 = GB_MOBILE  # type: ignore[misc]


# R2 ---------------------------------------------------------------------------


def test_r2_limits_are_two_and_nine() -> None:
    assert (MIN_PARTICIPANTS, MAX_PARTICIPANTS) == (2, 9)


def test_r2_zero_participants_is_refused() -> None:
    assert messages(check_participants([])) == ["A group needs at least 2 participants (0 chosen)"]


def test_r2_one_participant_is_refused() -> None:
    problems = check_participants(us_picks(1))
    assert problems == [
        Problem("R2", "participants", "A group needs at least 2 participants (1 chosen)")
    ]


@pytest.mark.parametrize("count", [2, 3, 8, 9])
def test_r2_two_to_nine_participants_are_accepted(count: int) -> None:
    assert check_participants(us_picks(count)) == []


def test_r2_ten_participants_are_refused() -> None:
    problems = check_participants(us_picks(10))
    assert problems == [
        Problem("R2", "participants", "A group can have at most 9 participants (10 chosen)")
    ]


def test_r2_a_contact_may_join_with_both_numbers_and_each_counts() -> None:
    both = [pick(1, CARLA, which="primary"), pick(1, DAN, which="secondary")]
    assert check_participants(both) == []
    # 8 others plus both numbers of one contact is 10 participants.
    problems = check_participants(both + us_picks(8))
    assert messages(problems) == ["A group can have at most 9 participants (10 chosen)"]


def test_r2_same_number_twice_on_one_contact_is_refused() -> None:
    carla = [
        pick(1, CARLA, name="Carla Client", which="primary"),
        pick(1, CARLA, name="Carla Client", which="secondary"),
    ]
    problems = check_participants(carla)
    assert problems == [
        Problem("R2", "participants[1]", "Carla Client's number (512) 555-0111 is chosen twice")
    ]


def test_r2_same_number_on_two_contacts_is_refused_and_names_both() -> None:
    problems = check_participants(
        [pick(1, CARLA, name="Carla Client"), pick(2, CARLA, name="Dan Doe"), pick(3, DAN)]
    )
    assert [(p.rule, p.field) for p in problems] == [("R2", "participants[1]")]
    assert problems[0].message == (
        "Dan Doe's number (512) 555-0111 is chosen twice (also Carla Client's)"
    )


def test_r2_same_contact_and_slot_twice_is_refused_and_counted_once() -> None:
    carla = pick(1, CARLA, name="Carla Client")
    problems = check_participants([carla, carla])
    # Two picks of one pair is one participant: too few, and a repeat.
    assert messages(problems) == [
        "A group needs at least 2 participants (1 chosen)",
        "Carla Client's number (512) 555-0111 is chosen twice",
    ]
    assert problems[1].field == "participants[1]"


def test_r2_which_must_be_primary_or_secondary() -> None:
    mobile = pick(1, CARLA, name="Carla Client", which="mobile")
    problems = check_participants([mobile, pick(2, DAN)])
    assert [(p.rule, p.field) for p in problems] == [("R2", "participants[0]")]
    assert "primary or secondary" in problems[0].message
    assert "Carla Client" in problems[0].message


# R3 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "reason"),
    [
        (pick(1, CARLA), None),
        (pick(1, CA_TORONTO), None),
        (pick(1, CARLA, dnd=True), "DND enabled"),
        (pick(1, GB_MOBILE), "Not a US/Canada number"),
        (pick(1, MX), "Not a US/Canada number"),
        (pick(1, JM), "Not a US/Canada number"),
        (pick(1, "+15555550100"), "Not a US/Canada number"),
        (pick(1, None), "No number"),
        (pick(1, CARLA, deleted=True), "Contact deleted"),
    ],
)
def test_r3_ineligibility_reason_texts(choice: ParticipantChoice, reason: str | None) -> None:
    assert ineligibility_reason(choice) == reason


def test_r3_reason_order_deleted_then_no_number_then_dnd_then_country() -> None:
    assert ineligibility_reason(pick(1, None, dnd=True, deleted=True)) == "Contact deleted"
    assert ineligibility_reason(pick(1, None, dnd=True)) == "No number"
    assert ineligibility_reason(pick(1, GB_MOBILE, dnd=True)) == "DND enabled"


def test_r3_dnd_contact_is_refused_naming_the_contact() -> None:
    problems = check_participants([pick(1, CARLA, name="Carla Client", dnd=True), pick(2, DAN)])
    assert problems == [
        Problem(
            "R3",
            "participants[0]",
            "Carla Client's number (512) 555-0111 cannot be added (DND enabled)",
        )
    ]


def test_r3_non_us_number_is_refused_with_its_international_format() -> None:
    problems = check_participants([pick(1, CARLA), pick(2, GB_MOBILE, name="Gina Brit")])
    assert problems == [
        Problem(
            "R3",
            "participants[1]",
            "Gina Brit's number +44 7400 123456 cannot be added (Not a US/Canada number)",
        )
    ]


def test_r3_missing_number_and_deleted_contact_are_refused() -> None:
    problems = check_participants(
        [
            pick(1, CARLA),
            pick(2, None, name="Nora None"),
            pick(3, DAN, name="Del Gone", deleted=True),
        ]
    )
    assert [(p.rule, p.field) for p in problems] == [
        ("R3", "participants[1]"),
        ("R3", "participants[2]"),
    ]
    assert problems[0].message == "Nora None's primary number cannot be added (No number)"
    assert problems[1].message.endswith("(Contact deleted)")


def test_r3_canada_participants_are_eligible() -> None:
    assert check_participants([pick(1, CA_TORONTO), pick(2, CA_VANCOUVER)]) == []


def test_r3_blank_name_still_names_the_contact() -> None:
    problems = check_participants([pick(7, CARLA, name="  ", dnd=True), pick(2, DAN)])
    assert problems[0].message.startswith("Contact 7's number")


def test_r3_every_ineligible_choice_gets_its_own_problem() -> None:
    choices = [pick(1, CARLA, dnd=True), pick(2, MX), pick(3, DAN, dnd=True)]
    fields = [p.field for p in check_participants(choices) if p.rule == "R3"]
    assert fields == ["participants[0]", "participants[1]", "participants[2]"]


def test_r1_r2_r3_check_group_reports_all_rules() -> None:
    problems = check_group(
        BusinessNumberFacts(GB_MOBILE, in_location=True), [pick(1, CARLA, dnd=True)]
    )
    assert [p.rule for p in problems] == ["R1", "R2", "R3"]


def test_r1_r2_r3_check_group_accepts_a_good_group() -> None:
    facts = BusinessNumberFacts(BUSINESS, in_location=True)
    assert check_group(facts, [pick(1, CARLA), pick(2, CA_TORONTO)]) == []
