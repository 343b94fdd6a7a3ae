"""E1 in the pure group rules: how an opt-out by text reads, and who cannot be a participant."""

from __future__ import annotations

from datetime import UTC, datetime

from groupsms.domain.groups import (
    REASON_BUSINESS_NUMBER,
    REASON_DND,
    ParticipantChoice,
    check_participants,
    ineligibility_reason,
    lock_reason,
    opted_out_text,
)

DEC_1 = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)


def choice(cid: int, e164: str, **facts) -> ParticipantChoice:
    return ParticipantChoice(contact_id=cid, which="primary", name=f"Person {cid}", e164=e164,
                             dnd=facts.pop("dnd", False), **facts)


def test_opted_out_text_names_the_day() -> None:
    assert opted_out_text(DEC_1) == "Opted out by text on Dec 1, 2026"


def test_lock_reason_for_a_number_that_opted_out_names_the_participant_and_the_day() -> None:
    assert lock_reason([], [("Dan Buyer", DEC_1)]) == "Dan Buyer: Opted out by text on Dec 1, 2026"
    assert lock_reason(["Carla Client"], [("Dan Buyer", DEC_1)]) == (
        "Carla Client enabled DND; Dan Buyer: Opted out by text on Dec 1, 2026")
    assert lock_reason([], []) is None


def test_an_opted_out_number_is_not_eligible_and_says_since_when() -> None:
    assert ineligibility_reason(choice(1, "+15125550111", opted_out=opted_out_text(DEC_1))) == (
        "Opted out by text on Dec 1, 2026")
    assert ineligibility_reason(choice(1, "+15125550111", opted_out="Opted out by text on Dec 1, 2026", dnd=True)) == REASON_DND


def test_business_number_cannot_be_participant_rule() -> None:
    problems = check_participants([choice(1, "+15125550100", business_number=True), choice(2, "+15125550111")])
    assert [p.message for p in problems] == [
        "Person 1's number (512) 555-0100 cannot be added (One of our business numbers)"]
    assert problems[0].rule == "R3" and problems[0].field == "participants[0]"
    assert ineligibility_reason(choice(1, "+15125550100", business_number=True)) == REASON_BUSINESS_NUMBER
