"""Merging a duplicate contact into the one to keep (E9, R8, R10, R11): one transaction, groups
keep what their participants captured, DND and access follow the kept contact, audited."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.errors import Forbidden, NotFound, ValidationError
from groupsms.guards import ImmutableMembership
from groupsms.models import AuditEvent, Contact, Participant
from groupsms.services import contacts, groups, policy
from tests.services.conftest import pick


def _contact(cid: int) -> Contact:
    with db.read() as s:
        return s.get(Contact, cid)


def _duplicate(world, name="Carla M.", primary="+15125550151", secondary=None, assigned="bo") -> int:
    return contacts.create_contact(world.actors["ada"], name, primary, secondary, False, world.users[assigned])


def test_e9_merge_fills_empty_numbers_moves_groups_and_soft_deletes_the_other(world):
    ada = world.actors["ada"]
    dup = _duplicate(world, secondary=None)
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], [(dup, "primary"), *pick(world, "dan")])

    kept = contacts.merge_contacts(ada, world.contacts["dan"], dup)

    assert kept == world.contacts["dan"]
    dan = _contact(kept)
    # Dan had no secondary number: he takes the duplicate's; his own name and primary stay.
    assert (dan.name, dan.primary_phone, dan.secondary_phone) == ("Dan Buyer", "+15125550112", "+15125550151")
    removed = _contact(dup)
    assert removed.deleted_at is not None and removed.merged_into_id == kept
    assert [c.id for c in contacts.list_contacts(ada, "Carla M.")] == []

    # The group keeps the captured name and number (R8), now as Dan's, and still opens.
    detail = groups.get_group(world.actors["bo"], gid)
    moved = next(p for p in detail.participants if p.e164 == "+15125550151")
    assert (moved.contact_id, moved.name, moved.tag) == (kept, "Carla M.", None)
    with db.read() as s:
        assert s.exec(select(Participant).where(Participant.contact_id == dup)).all() == []
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "contact.merged")).one()
    detail_json = json.loads(event.detail)
    assert event.object_id == kept
    assert detail_json["summary"] == "Ada Admin merged Carla M. into Dan Buyer"
    assert detail_json["merged_id"] == dup


def test_e9_merge_takes_the_picked_fields_from_the_other_contact(world):
    dup = _duplicate(world, name="Dan Buyer-Smith", primary="+15125550152", secondary="+15125550153")
    contacts.merge_contacts(world.actors["ada"], world.contacts["dan"], dup,
                            {"name": "other", "primary_phone": "keep", "secondary_phone": "other"})
    dan = _contact(world.contacts["dan"])
    assert (dan.name, dan.primary_phone, dan.secondary_phone) == ("Dan Buyer-Smith", "+15125550112", "+15125550153")


def test_r10_dnd_on_the_kept_contact_locks_groups_that_had_either_contact(world):
    dup = _duplicate(world)
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], [(dup, "primary"), *pick(world, "erin")])
    contacts.merge_contacts(world.actors["ada"], world.contacts["dan"], dup)
    assert groups.get_group(world.actors["bo"], gid).locked_reason is None

    locked = contacts.set_contact_dnd(world.actors["ada"], world.contacts["dan"], True)

    assert gid in locked
    assert "Dan Buyer" in groups.get_group(world.actors["bo"], gid).locked_reason


def test_r10_merging_a_dnd_contact_keeps_dnd_and_locks_the_kept_contacts_groups(world):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "dan", "erin"))
    contacts.merge_contacts(world.actors["ada"], world.contacts["dan"], world.contacts["ivy"])  # Ivy has DND
    assert _contact(world.contacts["dan"]).dnd_sms is True
    assert groups.get_group(world.actors["bo"], gid).locked_reason


@pytest.mark.parametrize("choices, field", [
    ({"name": "both"}, "name"),
    ({"email": "keep"}, "email"),
    ("keep", "choices"),
])
def test_e9_merge_refuses_bad_choices_and_writes_nothing(world, choices, field):
    dup = _duplicate(world)
    with pytest.raises(ValidationError) as info:
        contacts.merge_contacts(world.actors["ada"], world.contacts["dan"], dup, choices)
    assert info.value.errors[0].field == field
    assert _contact(dup).deleted_at is None


def test_e9_a_contact_cannot_be_merged_into_itself(world):
    with pytest.raises(ValidationError, match="itself"):
        contacts.merge_contacts(world.actors["ada"], world.contacts["dan"], world.contacts["dan"])


def test_r11_merge_needs_delete_permission_and_both_contacts_visible(world):
    dup = _duplicate(world)
    with pytest.raises(Forbidden):  # users may not delete contacts by default
        contacts.merge_contacts(world.actors["bo"], world.contacts["dan"], dup)
    policy.set_role_permission(world.actors["ada"], "user", "contact", "delete", True)
    with pytest.raises(NotFound):  # Gus is Dana's: Bo cannot see him
        contacts.merge_contacts(world.actors["bo"], world.contacts["dan"], world.contacts["gus"])
    assert _contact(world.contacts["gus"]).deleted_at is None
    assert contacts.merge_contacts(world.actors["bo"], world.contacts["dan"], dup) == world.contacts["dan"]


def test_r9_participants_still_cannot_be_moved_outside_a_merge(world, group4):
    with pytest.raises(ImmutableMembership), db.transaction() as s:
        participant = s.exec(select(Participant).where(Participant.group_id == group4)).first()
        participant.contact_id = world.contacts["hal"]
        s.add(participant)
        s.flush()


def test_e9_possible_duplicates_share_a_number_or_a_normalised_name(world):
    from groupsms.services._duplicates import possible_duplicates

    same_number = _duplicate(world, name="Dan B.", primary="+15125550152", secondary="+15125550112")
    same_name = _duplicate(world, name="buyer,  DAN", primary="+15125550153")
    hints = possible_duplicates(contacts.list_contacts(world.actors["ada"]))
    dan = world.contacts["dan"]
    assert (dan, same_number, "Dan Buyer and Dan B. share (512) 555-0112") in hints
    assert (dan, same_name, "Dan Buyer and buyer, DAN have the same name") in hints
    assert all(dan != a or b in (same_number, same_name) for a, b, _ in hints)
