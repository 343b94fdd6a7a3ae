"""Creating a group through the services: business number (R1), size (R2), eligibility (R3),
the overlap warning (E2) and the duplicate guard (E11). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import phonenumbers
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from groupsms import db
from groupsms.errors import DuplicateGroup, NotFound, ValidationError
from groupsms.models import AuditEvent, BusinessNumber, Contact, Group, Participant
from groupsms.services import contacts, groups, inventory
from tests.services.conftest import pick

UK_NUMBER = "+442071234567"  # London landline: valid, region GB


def count(model) -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def set_columns(model, row_id: int, **values) -> None:
    """Write straight to the database, bypassing the services (another code path, a bulk import)."""
    with Session(db.engine()) as s:
        row = s.get(model, row_id)
        for key, value in values.items():
            setattr(row, key, value)
        s.add(row)
        s.commit()


def add_number(world, ref: str, e164: str, *, sms_capable: bool = True) -> int:
    """A business number inserted directly (the services refuse a non-US/CA one)."""
    with Session(db.engine()) as s:
        row = BusinessNumber(location_id=world.locations["acme"], ref=ref, e164=e164, label=ref,
                             sms_capable=sms_capable)
        s.add(row)
        s.commit()
        return row.id


def rules_of(exc: ValidationError) -> set[str]:
    return {e.rule for e in exc.errors}


def visible(actor) -> set[int]:
    return {g.id for g in groups.list_groups(actor)}


# -- R1 business number ---------------------------------------------------------------------------

def test_r1_uk_fixture_number_is_valid_but_not_us_ca():
    parsed = phonenumbers.parse(UK_NUMBER, None)
    assert phonenumbers.is_valid_number(parsed)
    assert phonenumbers.region_code_for_number(parsed) == "GB"


@pytest.mark.parametrize("who", ["ada", "bo"])
def test_r1_group_from_uk_business_number_is_refused(world, who):
    uk = add_number(world, "london", UK_NUMBER)  # unassigned: Bo may use it by R12, R1 still refuses
    before = (count(Group), count(Participant))
    with pytest.raises(ValidationError) as info:
        groups.create_group(world.actors[who], uk, pick(world, "carla", "dan"))
    assert rules_of(info.value) == {"R1"}
    assert [e.field for e in info.value.errors] == ["business_number"]
    assert "US or Canada" in str(info.value)
    assert (count(Group), count(Participant)) == before
    preview = groups.preview_group(world.actors[who], uk, pick(world, "carla", "dan"))
    assert {p.rule for p in preview.problems} == {"R1"}


def test_r1_number_that_cannot_send_sms_is_refused(world):
    landline = add_number(world, "fax", "+15125550109", sms_capable=False)
    with pytest.raises(ValidationError) as info:
        groups.create_group(world.actors["ada"], landline, pick(world, "carla", "dan"))
    assert rules_of(info.value) == {"R1"}
    assert "cannot send SMS" in str(info.value)


def test_r1_picker_numbers_never_offers_a_non_us_ca_or_non_sms_number(world):
    uk = add_number(world, "london", UK_NUMBER)
    fax = add_number(world, "fax", "+15125550109", sms_capable=False)
    for who in ("ada", "dana", "bo"):
        offered = {n.id for n in groups.picker_numbers(world.actors[who])}
        assert uk not in offered and fax not in offered
        assert world.numbers["toronto"] in offered  # Canada is fine
    assert {n.id for n in groups.picker_numbers(world.actors["ada"])} == {
        world.numbers[r] for r in ("main", "dana_line", "spare", "toronto")
    }


def test_r1_canadian_business_number_is_accepted(world):
    gid = groups.create_group(world.actors["bo"], world.numbers["toronto"], pick(world, "carla", "kim"))
    assert groups.get_group(world.actors["bo"], gid).number_display == "(416) 555-0100"


@pytest.mark.parametrize(
    "raw, words",
    [
        ("+442071234567", "US or Canada"),
        ("+15555550100", "not a valid phone number"),
        ("not a number", "not a phone number"),
        ("", "required"),
    ],
)
def test_r1_giving_a_number_refuses_non_us_and_invalid_numbers(world, raw, words):
    before = count(BusinessNumber)
    with pytest.raises(ValidationError) as info:
        inventory.give_to_location(raw, "acme", label="Bad", provision=True)
    assert words in str(info.value)
    assert info.value.errors[0].field == "number"
    assert count(BusinessNumber) == before


def test_r1_number_of_another_location_is_not_found(world):
    with pytest.raises(NotFound) as info:
        groups.create_group(world.actors["ada"], world.numbers["birch_main"], pick(world, "carla", "dan"))
    assert str(info.value) == "Number not found"
    with pytest.raises(NotFound):
        groups.preview_group(world.actors["ada"], world.numbers["birch_main"], pick(world, "carla", "dan"))


# -- R2 size --------------------------------------------------------------------------------------

BO_ELIGIBLE = ["carla", "carla:secondary", "dan", "erin", "fay", "kim", "lea", "max", "ned", "ola"]


def _refused(world, actor, participants, rule="R2") -> ValidationError:
    before = (count(Group), count(Participant), count(AuditEvent))
    with pytest.raises(ValidationError) as info:
        groups.create_group(world.actors[actor], world.numbers["main"], participants)
    assert rule in rules_of(info.value)
    assert (count(Group), count(Participant), count(AuditEvent)) == before, "a refused group wrote rows"
    return info.value


def test_r2_one_participant_is_refused(world):
    err = _refused(world, "bo", pick(world, "carla"))
    assert "at least 2" in str(err)


def test_r2_no_participants_is_refused(world):
    err = _refused(world, "bo", [])
    assert "at least 2" in str(err)


def test_r2_two_participants_are_enough(world):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    assert len(groups.get_group(world.actors["bo"], gid).participants) == 2


def test_r2_nine_participants_are_allowed(world):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, *BO_ELIGIBLE[:9]))
    detail = groups.get_group(world.actors["bo"], gid)
    assert len(detail.participants) == 9
    assert len({p.e164 for p in detail.participants}) == 9


def test_r2_ten_participants_are_refused(world):
    err = _refused(world, "bo", pick(world, *BO_ELIGIBLE))
    assert "at most 9" in str(err)


def test_r2_a_contact_with_both_numbers_counts_twice(world):
    # 8 contacts, Carla with both numbers: 9 numbers, allowed; one more contact makes 10.
    nine = pick(world, "carla", "carla:secondary", "dan", "erin", "fay", "kim", "lea", "max", "ned")
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], nine)
    detail = groups.get_group(world.actors["bo"], gid)
    assert [p.which for p in detail.participants if p.contact_id == world.contacts["carla"]] == [
        "primary", "secondary"
    ]
    err = _refused(world, "bo", nine + pick(world, "ola"))
    assert "(10 chosen)" in str(err)


def test_r2_same_number_of_two_contacts_is_refused(world):
    twin = contacts.create_contact(world.actors["bo"], "Carla Twin", "(512) 555-0111")
    err = _refused(world, "bo", pick(world, "carla", "dan") + [(twin, "primary")])
    assert "chosen twice" in str(err)
    assert "(512) 555-0111" in str(err)


def test_r2_same_contact_number_twice_is_refused(world):
    err = _refused(world, "bo", pick(world, "carla", "carla", "dan"))
    assert "chosen twice" in str(err)
    # as a dict and as a "12:primary" string: the same pair
    err = _refused(world, "bo", [f"{world.contacts['carla']}:primary",
                                 {"contact_id": world.contacts["carla"], "which": "primary"},
                                 (world.contacts["dan"], "primary")])
    assert "chosen twice" in str(err)


def test_r2_two_copies_of_one_number_do_not_make_two_participants(world):
    err = _refused(world, "bo", pick(world, "carla", "carla"))
    assert {"R2"} == rules_of(err)


@pytest.mark.parametrize("which", ["mobile", "", None, 1])
def test_r2_unknown_which_number_is_refused(world, which):
    before = count(Group)
    with pytest.raises(ValidationError):
        groups.create_group(world.actors["bo"], world.numbers["main"],
                            [(world.contacts["carla"], which), (world.contacts["dan"], "primary")])
    assert count(Group) == before


@pytest.mark.parametrize("participants", ["carla,dan", None, 5, [[1, 2, 3]], [None, None]])
def test_r2_malformed_participants_are_refused_not_a_crash(world, participants):
    with pytest.raises((ValidationError, NotFound)):
        groups.create_group(world.actors["bo"], world.numbers["main"], participants)


def test_r2_missing_secondary_number_is_refused(world):
    err = _refused(world, "bo", pick(world, "dan:secondary", "carla", "erin"), rule="R3")
    assert "No number" in str(err)


# -- R3 eligibility -------------------------------------------------------------------------------

def test_r3_dnd_contact_is_refused_with_reason(world):
    err = _refused(world, "bo", pick(world, "carla", "ivy"), rule="R3")
    assert "Ivy Optout" in str(err) and "DND enabled" in str(err)
    assert [e.field for e in err.errors if e.rule == "R3"] == ["participants[1]"]


def test_r3_uk_contact_is_refused_with_reason(world):
    err = _refused(world, "bo", pick(world, "jon", "carla"), rule="R3")
    assert "Jon London" in str(err) and "Not a US/Canada number" in str(err)
    assert [e.field for e in err.errors if e.rule == "R3"] == ["participants[0]"]


def test_r3_dnd_set_through_the_service_makes_a_contact_ineligible(world):
    contacts.set_contact_dnd(world.actors["bo"], world.contacts["dan"], True)
    err = _refused(world, "bo", pick(world, "carla", "dan"), rule="R3")
    assert "DND enabled" in str(err)


def test_r3_picker_shows_ineligible_numbers_disabled_with_reason(world):
    options = {(o.contact_id, o.which): o for o in groups.picker_contacts(world.actors["bo"], limit=200)}
    ivy = options[(world.contacts["ivy"], "primary")]
    jon = options[(world.contacts["jon"], "primary")]
    assert ivy.disabled_reason == "DND enabled"
    assert jon.disabled_reason == "Not a US/Canada number"
    assert jon.display.startswith("+44")
    for ref in BO_ELIGIBLE:
        name, _, which = ref.partition(":")
        assert options[(world.contacts[name], which or "primary")].disabled_reason is None
    # a contact without a secondary number has no secondary checkbox at all
    assert (world.contacts["dan"], "secondary") not in options


def test_r3_picker_search_keeps_disabled_numbers(world):
    found = groups.picker_contacts(world.actors["bo"], search="Ivy")
    assert [(o.name, o.disabled_reason) for o in found] == [("Ivy Optout", "DND enabled")]


# -- E2 overlap warning ---------------------------------------------------------------------------

def test_e2_preview_warns_when_a_participant_is_in_another_active_group_on_the_number(world):
    ada = world.actors["ada"]
    groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan"))
    preview = groups.preview_group(ada, world.numbers["main"], pick(world, "carla", "erin"))
    assert preview.problems == ()
    assert preview.duplicate_group_id is None
    assert len(preview.overlaps) == 1 and "(512) 555-0111" in preview.overlaps[0]
    gid = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "erin"))  # a warning only
    preview = groups.preview_group(ada, world.numbers["main"], pick(world, "carla", "fay"))
    assert len(preview.overlaps) == 1 and "2 active groups" in preview.overlaps[0]
    assert gid in visible(ada)


def test_e2_no_warning_on_another_number(world):
    ada = world.actors["ada"]
    groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan"))
    assert groups.preview_group(ada, world.numbers["spare"], pick(world, "carla", "dan")).overlaps == ()
    assert groups.preview_group(ada, world.numbers["main"], pick(world, "erin", "fay")).overlaps == ()
    # Carla's other number is another participant number
    preview = groups.preview_group(ada, world.numbers["main"], pick(world, "carla:secondary", "erin"))
    assert preview.overlaps == ()


def test_e2_no_warning_when_the_other_group_is_locked(world):
    ada = world.actors["ada"]
    groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan"))
    contacts.set_contact_dnd(ada, world.contacts["dan"], True)
    assert groups.preview_group(ada, world.numbers["main"], pick(world, "carla", "erin")).overlaps == ()


def test_e2_no_warning_when_the_other_group_is_locked_by_dnd_set_outside_the_service(world):
    ada = world.actors["ada"]
    gid = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan"))
    set_columns(Contact, world.contacts["dan"], dnd_sms=True)
    assert groups.get_group(ada, gid).locked_reason
    assert groups.preview_group(ada, world.numbers["main"], pick(world, "carla", "erin")).overlaps == ()


# -- E11 duplicate guard --------------------------------------------------------------------------

def test_e11_same_participants_on_the_same_number_is_a_duplicate(world):
    ada = world.actors["ada"]
    first = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan", "erin"))
    before = count(Group)
    with pytest.raises(DuplicateGroup) as info:
        groups.create_group(ada, world.numbers["main"], pick(world, "erin", "carla", "dan"))
    assert info.value.group_id == first
    assert count(Group) == before
    preview = groups.preview_group(ada, world.numbers["main"], pick(world, "dan", "erin", "carla"))
    assert preview.duplicate_group_id == first


def test_e11_duplicate_found_by_another_user_with_other_contacts_for_the_same_numbers(world):
    first = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    twin = contacts.create_contact(world.actors["ada"], "Carla Twin", "+15125550111", assigned_user_id=None)
    with pytest.raises(DuplicateGroup) as info:
        groups.create_group(world.actors["ada"], world.numbers["main"],
                            [(twin, "primary")] + pick(world, "dan"))
    assert info.value.group_id == first


def test_e11_allow_duplicate_creates_a_second_group(world):
    ada = world.actors["ada"]
    first = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan"))
    second = groups.create_group(ada, world.numbers["main"], pick(world, "dan", "carla"),
                                 allow_duplicate=True)
    assert second != first and {first, second} <= visible(ada)
    with pytest.raises(ValidationError):
        groups.create_group(ada, world.numbers["main"], pick(world, "dan", "carla"), allow_duplicate="yes")


def test_e11_different_number_or_different_set_is_not_a_duplicate(world):
    ada = world.actors["ada"]
    groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan"))
    groups.create_group(ada, world.numbers["spare"], pick(world, "carla", "dan"))
    groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan", "erin"))
    groups.create_group(ada, world.numbers["main"], pick(world, "carla:secondary", "dan"))
    assert count(Group) == 4


def test_e11_a_locked_group_is_not_a_duplicate(world):
    ada = world.actors["ada"]
    first = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan", "erin"))
    contacts.set_contact_dnd(ada, world.contacts["erin"], True)
    contacts.set_contact_dnd(ada, world.contacts["erin"], False)  # lifted, but the group stays locked
    preview = groups.preview_group(ada, world.numbers["main"], pick(world, "carla", "dan", "erin"))
    assert preview.duplicate_group_id is None
    second = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan", "erin"))
    assert second != first
