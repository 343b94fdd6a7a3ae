"""Inbound texts outside one group (E2): the "needs routing" queue only for users who may see every
group the sender is in (R11), and "Other texts" for numbers in no group, to users who may use the
number (R12) and see the sender (R11), never across locations (R14)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.errors import NotFound
from groupsms.messaging import inbound
from groupsms.models import AuditEvent, Message
from groupsms.services import contacts, groups, messages
from tests.services.conftest import pick

MAIN = "15125550100"
DANA_LINE = "15125550101"


def sms_in(sender: str, text: str, message_id: str, to: str = MAIN) -> int:
    event_id, _ = inbound.record_event("inbound", {"msisdn": sender, "to": to, "messageId": message_id, "text": text})
    inbound.process_event(event_id)
    with db.transaction() as s:
        return s.exec(select(Message.id).where(Message.provider_ref == message_id)).one()


def message(mid: int) -> Message:
    with db.transaction() as s:
        return s.get(Message, mid)


@pytest.fixture
def twin_groups(world):
    """Carla's number is also held by "Carla Twin", Dana's contact. Bo's group has Carla, Dana's
    group has the twin: a reply from that number waits for routing on the main number."""
    a = world.actors
    twin = contacts.create_contact(a["ada"], "Carla Twin", "+15125550111", assigned_user_id=world.users["dana"])
    bos = groups.create_group(a["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    danas = groups.create_group(a["dana"], world.numbers["main"], [(twin, "primary"), (world.contacts["gus"], "primary")])
    mid = sms_in("15125550111", "The code for the lockbox is 4711", "in-twin")
    assert message(mid).routing == "needs_routing"
    return bos, danas, mid


# -- needs routing respects access ---------------------------------------------------------------

def test_needs_routing_hidden_from_user_who_cannot_see_every_candidate(world, twin_groups):
    bos, danas, mid = twin_groups
    assert messages.list_needs_routing(world.actors["bo"]) == []
    assert messages.count_needs_routing_for_others(world.actors["bo"]) == 1  # a count, no text
    for who in ("ada", "dana"):
        [item] = messages.list_needs_routing(world.actors[who])
        assert item.message_id == mid and set(item.candidate_group_ids) == {bos, danas}
        assert item.body == "The code for the lockbox is 4711"
        assert messages.count_needs_routing_for_others(world.actors[who]) == 0
    assert messages.list_needs_routing(world.actors["zed"]) == []
    assert messages.count_needs_routing_for_others(world.actors["zed"]) == 0


def test_assigned_user_cannot_route_reply_into_own_group(world, twin_groups):
    bos, _, mid = twin_groups
    with pytest.raises(NotFound, match="Message not found"):
        messages.assign_inbound(world.actors["bo"], mid, bos)
    assert message(mid).routing == "needs_routing" and message(mid).group_id is None
    messages.assign_inbound(world.actors["dana"], mid, bos)  # someone who sees both groups may
    assert message(mid).group_id == bos


def test_needs_routing_stays_readable_by_assigned_user_who_sees_every_candidate(world):
    a = world.actors
    one = groups.create_group(a["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    two = groups.create_group(a["bo"], world.numbers["main"], pick(world, "carla", "erin"))
    mid = sms_in("15125550111", "which one?", "in-both-mine")
    [item] = messages.list_needs_routing(a["bo"])
    assert item.message_id == mid and set(item.candidate_group_ids) == {one, two}
    assert messages.count_needs_routing_for_others(a["bo"]) == 0
    messages.assign_inbound(a["bo"], mid, two)
    assert message(mid).group_id == two


def test_needs_routing_needs_access_to_the_number(world, twin_groups):
    _, _, mid = twin_groups
    from groupsms.services import numbers

    numbers.assign_number(world.actors["ada"], world.numbers["main"], [world.users["ada"]])
    numbers.set_default_number(world.actors["ada"], world.numbers["spare"])
    # Dana sees both groups but may no longer use the main number (R12): nothing, not even a count.
    assert messages.list_needs_routing(world.actors["dana"]) == []
    assert messages.count_needs_routing_for_others(world.actors["dana"]) == 0
    with pytest.raises(NotFound):
        messages.assign_inbound(world.actors["dana"], mid, twin_groups[0])


# -- other texts --------------------------------------------------------------------------------

def test_text_from_unknown_number_is_listed_in_other_texts(world):
    mid = sms_in("15125550199", "Hi, is the house on Elm St still for sale?", "in-lead")
    for who in ("ada", "dana"):
        [item] = messages.list_other_texts(world.actors[who])
        assert (item.message_id, item.from_name, item.from_display, item.number_display, item.body) == (
            mid, "", "(512) 555-0199", "(512) 555-0100", "Hi, is the house on Elm St still for sale?")
        assert item.number_id == world.numbers["main"] and item.contact_id is None and item.received_at
    # A number no contact holds: only users with full data access see it.
    assert messages.list_other_texts(world.actors["bo"]) == []
    assert messages.list_other_texts(world.actors["zed"]) == []


def test_other_text_from_a_contact_shows_the_contact_to_users_who_may_see_it(world):
    mid = sms_in("15125550121", "Carla here, from my work phone", "in-carla-work")  # Carla's secondary
    [item] = messages.list_other_texts(world.actors["bo"])
    assert (item.message_id, item.from_name, item.contact_id, item.which) == (
        mid, "Carla Client", world.contacts["carla"], "secondary")
    assert messages.get_other_text(world.actors["bo"], mid) == item
    gus = sms_in("15125550115", "Inspection done", "in-gus")  # Dana's contact: not Bo's to see
    assert [i.message_id for i in messages.list_other_texts(world.actors["bo"])] == [mid]
    assert [i.message_id for i in messages.list_other_texts(world.actors["dana"])] == [gus, mid]
    with pytest.raises(NotFound):
        messages.get_other_text(world.actors["bo"], gus)
    with pytest.raises(NotFound):
        messages.get_other_text(world.actors["zed"], mid)


def test_other_texts_need_access_to_the_number_they_came_to(world):
    mid = sms_in("15125550119", "Max here", "in-max-dana-line", to=DANA_LINE)  # Bo's contact, Dana's number
    assert messages.list_other_texts(world.actors["bo"]) == []
    with pytest.raises(NotFound):
        messages.dismiss_other_text(world.actors["bo"], mid)
    assert [i.message_id for i in messages.list_other_texts(world.actors["dana"])] == [mid]
    assert [i.message_id for i in messages.list_other_texts(world.actors["ada"])] == [mid]


def test_texts_in_a_group_or_waiting_for_routing_or_keywords_are_not_other_texts(world, twin_groups):
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "erin", "fay"))
    sms_in("15125550113", "Erin in her group", "in-erin")
    sms_in("15125550198", "STOP", "in-stop-stranger")
    sms_in("15125550197", "help", "in-help-stranger")
    lead = sms_in("15125550196", "Yes, call me", "in-yes-stranger")
    assert [i.message_id for i in messages.list_other_texts(world.actors["ada"])] == [lead]


def test_dismissed_other_text_leaves_the_list_and_is_audited(world):
    mine = sms_in("15125550119", "Max here", "in-max")
    lead = sms_in("15125550199", "New lead", "in-lead-2")
    with pytest.raises(NotFound):
        messages.dismiss_other_text(world.actors["bo"], lead)  # Bo may not see the stranger
    with pytest.raises(NotFound):
        messages.dismiss_other_text(world.actors["zed"], mine)  # another location
    assert message(lead).dismissed_at is None and message(mine).dismissed_at is None
    messages.dismiss_other_text(world.actors["bo"], mine)
    assert message(mine).dismissed_at is not None
    assert messages.list_other_texts(world.actors["bo"]) == []
    assert [i.message_id for i in messages.list_other_texts(world.actors["ada"])] == [lead]
    with pytest.raises(NotFound):
        messages.dismiss_other_text(world.actors["bo"], mine)  # once
    with db.transaction() as s:
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "message.dismissed")).all()
    assert (event.actor_user_id, event.object_id) == (world.users["bo"], mine)
    assert json.loads(event.detail) == {"number": world.numbers["main"]}


@pytest.mark.parametrize("bad", [None, "", "abc", -1, 0, True, 2**40, [1], {"id": 1}])
def test_other_text_ids_from_the_browser_are_checked(world, bad):
    sms_in("15125550199", "New lead", "in-lead-3")
    with pytest.raises(NotFound, match="Message not found"):
        messages.dismiss_other_text(world.actors["ada"], bad)
    with pytest.raises(NotFound, match="Message not found"):
        messages.get_other_text(world.actors["ada"], bad)


def test_text_from_sender_only_in_locked_groups_is_hidden_from_user_who_cannot_see_them_all(world):
    a = world.actors
    twin = contacts.create_contact(a["ada"], "Carla Twin", "+15125550111", assigned_user_id=world.users["dana"])
    groups.create_group(a["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    groups.create_group(a["dana"], world.numbers["main"], [(twin, "primary"), (world.contacts["gus"], "primary")])
    contacts.set_contact_dnd(a["ada"], world.contacts["dan"], True)  # both groups lock (R10)
    contacts.set_contact_dnd(a["ada"], world.contacts["gus"], True)
    mid = sms_in("15125550111", "The code for the lockbox is 4711", "in-locked-twin")
    assert message(mid).routing == "unrouted"
    assert messages.list_other_texts(a["bo"]) == []  # Carla is Bo's, but one of her groups is not
    with pytest.raises(NotFound):
        messages.dismiss_other_text(a["bo"], mid)
    assert [i.message_id for i in messages.list_other_texts(a["dana"])] == [mid]
