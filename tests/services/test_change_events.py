"""Every write that changes what a page shows publishes its typed event on commit, and nothing when
it rolls back (E4): a group created, a contact edited or deleted, DND set (its groups lock, R10),
a number opting out or back in by text (E1), a waiting text routed (E2)."""

from __future__ import annotations

import pytest

from groupsms import db
from groupsms.messaging import events, notify, optout
from groupsms.models import Contact, Group
from groupsms.services import contacts, groups, imports, messages
from tests.services.conftest import pick
from tests.services.test_messaging import sms_in

DAN = "+15125550112"


def of(kind, seen):
    """The events of one type (a thread another test left running may publish other ones)."""
    return [c for c in seen if isinstance(c, kind)]


def test_e4_creating_a_group_publishes_group_created(world, changes):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    assert of(events.GroupCreated, changes) == [events.GroupCreated(world.locations["acme"], gid)]


def test_r10_contact_dnd_publishes_group_locked_for_each_of_their_groups_after_commit(world, changes):
    bo, acme = world.actors["bo"], world.locations["acme"]
    one = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"))
    two = groups.create_group(bo, world.numbers["main"], pick(world, "dan", "erin"))
    other = groups.create_group(bo, world.numbers["main"], pick(world, "erin", "fay"))
    changes.clear()
    contacts.set_contact_dnd(bo, world.contacts["dan"], True)
    reason = "Dan Buyer enabled DND"
    assert sorted(of(events.GroupLocked, changes), key=lambda c: c.group_id) == [
        events.GroupLocked(acme, one, reason), events.GroupLocked(acme, two, reason)]
    assert of(events.ContactChanged, changes) == [events.ContactChanged(acme, world.contacts["dan"], (one, two))]
    assert other not in {g for c in changes for g in c.group_ids}
    # An open conversation is refreshed at once: the events name the locked groups' pages.
    assert {one, two} <= {g for c in changes for g in c.group_ids}


def test_r10_a_rolled_back_dnd_change_publishes_nothing(world, changes):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    changes.clear()
    with pytest.raises(RuntimeError):
        with db.transaction() as s:
            optout.set_dnd(s, s.get(Contact, world.contacts["dan"]), True)
            raise RuntimeError("rolled back")
    assert of(events.GroupLocked, changes) == of(events.ContactChanged, changes) == []
    with db.read() as s:
        assert s.get(Group, gid).locked_reason is None


def test_r10_dnd_from_a_csv_import_publishes_the_lock_too(world, changes):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    changes.clear()
    imports.import_contacts_csv(world.actors["ada"], "name,primary_phone,dnd\nDan Buyer,+15125550112,yes\n")
    assert of(events.GroupLocked, changes) == [events.GroupLocked(world.locations["acme"], gid, "Dan Buyer enabled DND")]
    assert of(events.ContactChanged, changes) == [events.ContactChanged(world.locations["acme"], world.contacts["dan"], (gid,))]


def test_e4_editing_or_deleting_a_contact_publishes_contact_changed_with_their_groups(world, changes):
    bo, acme = world.actors["bo"], world.locations["acme"]
    gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"))
    changes.clear()
    contacts.update_contact(bo, world.contacts["dan"], primary_phone="+15125550199")  # R8: an Updated tag
    contacts.update_contact(bo, world.contacts["dan"], primary_phone="+15125550199")  # no change: no event
    contacts.delete_contact(world.actors["ada"], world.contacts["carla"])  # R8: a Deleted tag
    new = contacts.create_contact(bo, "Nia New", "+15125550177")
    assert of(events.ContactChanged, changes) == [
        events.ContactChanged(acme, world.contacts["dan"], (gid,)),
        events.ContactChanged(acme, world.contacts["carla"], (gid,)),
        events.ContactChanged(acme, new, ()),
    ]


def test_e1_stop_and_start_by_text_publish_opt_out_changes_and_locks(world, changes):
    acme = world.locations["acme"]
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    changes.clear()
    sms_in(DAN[1:], "STOP", "in-stop")
    [locked] = of(events.GroupLocked, changes)
    assert locked.group_id == gid and locked.reason.startswith("Dan Buyer: Opted out by text on")
    assert of(events.OptOutChanged, changes) == [
        events.OptOutChanged(acme, DAN, world.numbers["main"], True, (gid,))]
    changes.clear()
    sms_in(DAN[1:], "START", "in-start")
    assert of(events.OptOutChanged, changes) == [
        events.OptOutChanged(acme, DAN, world.numbers["main"], False, (gid,))]
    assert of(events.GroupLocked, changes) == []  # a START never reopens a group (R10)


def test_e2_routing_a_waiting_text_publishes_routed_and_the_message(world, changes):
    a = world.actors
    one = groups.create_group(a["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    groups.create_group(a["bo"], world.numbers["main"], pick(world, "carla", "erin"))
    sms_in("15125550111", "which one?", "in-both")
    [item] = messages.list_needs_routing(a["bo"])
    changes.clear()
    messages.assign_inbound(a["bo"], item.message_id, one)
    acme = world.locations["acme"]
    assert events.RoutingChanged(acme, item.message_id, "routed") in changes
    assert events.MessageAdded(acme, one, item.message_id, inbound=True) in changes


def test_e7_marking_a_group_read_publishes_nothing(world, changes):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    sms_in(DAN[1:], "hello", "in-hello")
    changes.clear()
    groups.mark_read(world.actors["bo"], gid)
    # Unread counts are the reader's own; their page shows the new count itself.
    assert [c for c in changes if gid in c.group_ids or not isinstance(c, events.MessageAdded)] == []


def test_e9_number_changes_publish_number_changed(world, changes):
    ada, acme, spare = world.actors["ada"], world.locations["acme"], world.numbers["spare"]
    from groupsms.services import numbers

    numbers.set_number_label(ada, spare, "Open houses")
    numbers.set_default_number(ada, spare)
    numbers.assign_number(ada, spare, [world.users["dana"]])
    numbers.assign_number(ada, spare, [world.users["dana"]])  # no change: no event
    assert of(events.NumberChanged, changes) == [events.NumberChanged(acme, spare)] * 3
    assert events.from_json(changes[0].to_json()) == changes[0]
