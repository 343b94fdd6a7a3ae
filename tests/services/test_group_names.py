"""Renaming a group: trimmed, at most 120 characters, "" clears it; audited, published, and never a
change of membership (R9)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.errors import Forbidden, NotFound, ValidationError
from groupsms.messaging import events, notify
from groupsms.models import AuditEvent, Group, Participant
from groupsms.services import groups, policy
from tests.services.conftest import pick


def _membership(gid: int):
    with db.read() as s:
        group = s.get(Group, gid)
        people = s.exec(select(Participant).where(Participant.group_id == gid).order_by(Participant.id)).all()
        return group.business_number_id, [(p.id, p.contact_id, p.which, p.name, p.e164) for p in people]


def _renames(gid: int) -> list[dict]:
    with db.read() as s:
        return [json.loads(a.detail) for a in s.exec(select(AuditEvent).where(
            AuditEvent.action == "group.renamed", AuditEvent.object_id == gid).order_by(AuditEvent.id))]


def test_r9_rename_shows_in_the_header_and_list_and_never_changes_members(world, group4, changes):
    bo = world.actors["bo"]
    before = _membership(group4)
    assert groups.rename_group(bo, group4, "  12 Maple   Ridge closing ") == "12 Maple Ridge closing"
    detail = groups.get_group(bo, group4)
    assert (detail.name, detail.title) == ("12 Maple Ridge closing", "12 Maple Ridge closing")
    assert detail.people == "Carla Client, Dan Buyer, Erin Seller, Fay Lender"
    assert detail.can_rename
    [listed] = [g for g in groups.list_groups(world.actors["dana"]) if g.id == group4]
    assert listed.name == "12 Maple Ridge closing"
    assert _membership(group4) == before  # R9: participants and business number stay
    assert _renames(group4) == [{"before": "", "after": "12 Maple Ridge closing"}]
    renamed = [c for c in changes if isinstance(c, events.GroupRenamed)]
    assert renamed == [events.GroupRenamed(world.locations["acme"], group4, "12 Maple Ridge closing")]
    assert events.from_json(renamed[0].to_json()) == renamed[0]


def test_empty_name_clears_it_and_the_title_is_the_people_again(world, group4):
    groups.rename_group(world.actors["ada"], group4, "Closing")
    assert groups.rename_group(world.actors["ada"], group4, "   ") == ""
    detail = groups.get_group(world.actors["ada"], group4)
    assert detail.name == "" and detail.title == detail.people
    assert _renames(group4)[-1] == {"before": "Closing", "after": ""}


def test_same_name_again_writes_nothing(world, group4, changes):
    groups.rename_group(world.actors["bo"], group4, "Closing")
    groups.rename_group(world.actors["bo"], group4, " Closing ")
    assert len(_renames(group4)) == 1
    assert len([c for c in changes if isinstance(c, events.GroupRenamed)]) == 1


@pytest.mark.parametrize(("name", "message"), [
    ("x" * 121, "Group name must be at most 120 characters"),
    (None, "Group name must be text"),
    (42, "Group name must be text"),
    (["a"], "Group name must be text"),
    ("Bad\x00name", "Group name must not contain control characters"),
])
def test_bad_names_are_refused_with_the_reason_and_nothing_changes(world, group4, name, message):
    groups.rename_group(world.actors["bo"], group4, "Kept")
    with pytest.raises(ValidationError, match=message):
        groups.rename_group(world.actors["bo"], group4, name)
    assert groups.get_group(world.actors["bo"], group4).name == "Kept"
    assert len(_renames(group4)) == 1


def test_120_characters_are_fine(world, group4):
    assert groups.rename_group(world.actors["bo"], group4, "y" * 120) == "y" * 120


def test_r11_r14_only_someone_who_sees_the_group_may_rename_it(world):
    hidden = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "gus"))
    with pytest.raises(NotFound):
        groups.rename_group(world.actors["bo"], hidden, "Not mine")  # Gus isn't assigned to Bo (R11)
    with pytest.raises(NotFound):
        groups.rename_group(world.actors["zed"], hidden, "Other location")  # R14
    assert groups.get_group(world.actors["ada"], hidden).name == ""


def test_a_role_that_may_not_create_groups_may_not_rename_them(world, group4):
    assert policy.set_role_permission(world.actors["ada"], "user", "group", "create", False)
    assert not groups.get_group(world.actors["dana"], group4).can_rename
    with pytest.raises(Forbidden):
        groups.rename_group(world.actors["dana"], group4, "Nope")
    assert groups.get_group(world.actors["ada"], group4).can_rename
    assert groups.get_group(world.actors["ada"], group4).name == ""
