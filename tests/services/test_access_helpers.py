"""The access helpers services share: one message inside the user's reach (R11, R14), who may
send (R10, R13), the contact search clause (R6)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.access.fetch import access_message
from groupsms.access.search import contact_search_clause
from groupsms.access.sending import send_block_reason
from groupsms.errors import NotFound
from groupsms.models import Contact, Group, User
from groupsms.services import contacts, groups, messages
from tests.services.conftest import pick
from tests.services.test_messaging import sms_in


def _user(s, world, ref: str) -> User:
    return s.get(User, world.users[ref])


def test_r11_access_message_finds_only_messages_of_groups_the_user_may_see(world):
    mine = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    danas = groups.create_group(world.actors["dana"], world.numbers["main"], pick(world, "gus", "hal"))
    in_mine = messages.send_message(world.actors["bo"], mine, "for Bo's group")
    in_danas = messages.send_message(world.actors["dana"], danas, "for Dana's group")
    with db.read() as s:
        assert access_message(s, _user(s, world, "bo"), in_mine).id == in_mine
        assert access_message(s, _user(s, world, "dana"), str(in_mine)).id == in_mine
        for ref, mid in (("bo", in_danas), ("zed", in_mine), ("bo", 0), ("bo", "x"), ("bo", 2**40)):
            with pytest.raises(NotFound, match="Message not found"):
                access_message(s, _user(s, world, ref), mid)


def test_e2_access_message_does_not_find_texts_in_no_group(world):
    sms_in("15125550199", "a new lead", "in-lead")  # from a number in no group: "Other texts"
    [item] = messages.list_other_texts(world.actors["ada"])
    with db.read() as s, pytest.raises(NotFound):
        access_message(s, _user(s, world, "ada"), item.message_id)


def test_r13_send_block_reason_names_the_lock_the_role_or_the_number(world):
    gid = groups.create_group(world.actors["ada"], world.numbers["dana_line"], pick(world, "gus", "hal"))
    with db.read() as s:
        group = s.get(Group, gid)
        assert send_block_reason(s, _user(s, world, "dana"), group) is None
        assert send_block_reason(s, _user(s, world, "ada"), group, locked="Gus enabled DND") == (
            "This group is locked: Gus enabled DND")
        assert send_block_reason(s, _user(s, world, "ada"), group, number=None) == (
            "You don't have access to (512) 555-0101, the number this group sends from")
    contacts.set_contact_dnd(world.actors["ada"], world.contacts["gus"], True)
    with db.read() as s:
        assert send_block_reason(s, _user(s, world, "dana"), s.get(Group, gid)) == (
            "This group is locked: Gus Inspector enabled DND")


@pytest.mark.parametrize("query, found", [
    ("carla", {"carla"}), ("(512) 555-0112", {"dan"}), ("1 512 555 0113", {"erin"}), ("555012", {"carla"}),
])
def test_r6_contact_search_clause_matches_names_and_digits_whatever_the_format(world, query, found):
    with db.read() as s:
        ids = set(s.exec(select(Contact.id).where(Contact.location_id == world.locations["acme"],
                                                  contact_search_clause(query))).all())
    assert ids == {world.contacts[ref] for ref in found}
