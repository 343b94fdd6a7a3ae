"""E2 "needs routing": each candidate group shows what the person choosing needs to tell the groups
apart (its name, else its participants; every participant; its last messages) and who the reply
would reach if routed there, and routing relays to exactly those people."""

from __future__ import annotations

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.messaging import inbound
from groupsms.models import Contact, Delivery, Group, Message
from groupsms.services import groups, messages
from tests.services.conftest import pick

MAIN = "15125550100"


def sms_in(sender: str, text: str, message_id: str, to: str = MAIN) -> int:
    event_id, _ = inbound.record_event("inbound", {"msisdn": sender, "to": to, "messageId": message_id, "text": text})
    inbound.process_event(event_id)
    with db.transaction() as s:
        return s.exec(select(Message.id).where(Message.provider_ref == message_id)).one()


@pytest.fixture
def two_closings(world):
    """Carla is in a named group with Dan and Erin, and in an unnamed one with Fay; her reply waits."""
    a = world.actors
    named = groups.create_group(a["ada"], world.numbers["main"], pick(world, "carla", "dan", "erin"))
    with db.transaction() as s:
        s.get(Group, named).name = "12 Maple Ridge closing"
    unnamed = groups.create_group(a["ada"], world.numbers["main"], pick(world, "carla", "fay"))
    for i in range(4):
        messages.send_message(a["dana"], named, f"maple note {i}")
    messages.send_message(a["ada"], unnamed, "fay's loan papers")
    mid = sms_in("15125550111", "Signed, see you at 5", "in-carla-route")
    return named, unnamed, mid


def test_candidates_show_name_participants_recipients_and_last_messages(world, two_closings):
    named, unnamed, mid = two_closings
    [item] = messages.list_needs_routing(world.actors["ada"])
    assert item.message_id == mid and item.from_name == "Carla Client"
    by_id = {c.group_id: c for c in item.candidates}
    assert set(by_id) == {named, unnamed} == set(item.candidate_group_ids)

    maple = by_id[named]
    assert maple.name == maple.title == "12 Maple Ridge closing"
    assert maple.participants == ("Carla Client", "Dan Buyer", "Erin Seller")
    assert maple.sender == "Carla" and maple.recipients == ("Dan Buyer", "Erin Seller")
    # The last 3 messages, oldest first, each with its sender.
    assert [(r.sender, r.body) for r in maple.recent] == [
        ("Dana Full", "maple note 1"), ("Dana Full", "maple note 2"), ("Dana Full", "maple note 3")]
    assert maple.recent[0].at <= maple.recent[-1].at

    other = by_id[unnamed]
    assert other.name == "" and other.title == "Carla Client, Fay Lender"
    assert other.recipients == ("Fay Lender",)
    assert [(r.sender, r.body, r.direction) for r in other.recent] == [("Ada Admin", "fay's loan papers", "outbound")]
    assert dict(zip(item.candidate_group_ids, item.candidate_titles)) == {named: maple.title, unnamed: other.title}


def test_recipients_leave_out_a_number_a_dnd_contact_holds(world, two_closings):
    named, _, _ = two_closings
    with db.transaction() as s:  # another contact holding Erin's number turns DND on: no SMS goes there
        s.add(Contact(location_id=world.locations["acme"], name="Erin Again", primary_phone="+15125550113",
                      dnd_sms=True))
    [item] = messages.list_needs_routing(world.actors["ada"])
    maple = next(c for c in item.candidates if c.group_id == named)
    assert maple.recipients == ("Dan Buyer",)


def test_routing_relays_to_exactly_the_recipients_shown(world, two_closings):
    named, _, mid = two_closings
    [item] = messages.list_needs_routing(world.actors["ada"])
    shown = next(c for c in item.candidates if c.group_id == named).recipients
    messages.assign_inbound(world.actors["ada"], mid, named)
    with db.transaction() as s:
        to = set(s.exec(select(Delivery.to_e164).where(Delivery.message_id == mid)).all())
        assert s.get(Message, mid).group_id == named
    assert to == {"+15125550112", "+15125550113"} and len(shown) == 2
    assert messages.list_needs_routing(world.actors["ada"]) == []


def test_a_user_who_cannot_see_every_candidate_sees_no_candidates(world, two_closings):
    _, unnamed, _ = two_closings
    groups.create_group(world.actors["dana"], world.numbers["main"], [
        (world.contacts["carla"], "primary"), (world.contacts["gus"], "primary")])
    # Bo (assigned only) does not see the group with Gus: nothing of the reply, nor of its candidates.
    assert messages.list_needs_routing(world.actors["bo"]) == []
    assert messages.count_needs_routing_for_others(world.actors["bo"]) == 1
    [item] = messages.list_needs_routing(world.actors["dana"])
    assert len(item.candidates) == 3 and unnamed in item.candidate_group_ids
