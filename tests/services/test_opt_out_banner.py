"""What a locked group tells (R10, E1): who opted out by texting which keyword and when, who turned
on DND and when, what happened since (opted back in, DND off), and the ways out it offers: a new
group without that person always, "Recreate with everyone" once nobody is kept out any more."""

from __future__ import annotations

import json

from sqlmodel import select

from groupsms import db
from groupsms.models import AuditEvent, Group, Participant
from groupsms.services import contacts, groups
from tests.services.conftest import pick
from tests.services.test_messaging import drain, sms_in

DAN = "+15125550112"


def test_r10_e1_a_stop_is_told_with_its_keyword_and_time(world, group4, fake, worker):
    sms_in(DAN[1:], "Stop", "in-stop")
    detail = groups.get_group(world.actors["bo"], group4)
    [cause] = detail.lock_causes
    assert (cause.name, cause.kind, cause.keyword, cause.still) == ("Dan Buyer", "opt_out", "STOP", True)
    assert cause.contact_id == world.contacts["dan"] and cause.at is not None and cause.ended_at is None
    assert not detail.regroup_everyone  # Dan still opted out: a new group with him would be refused


def test_r10_e1_after_start_the_story_stays_true_and_everyone_may_be_regrouped(world, group4, fake, worker):
    sms_in(DAN[1:], "STOP", "in-stop")
    sms_in(DAN[1:], "START", "in-start")
    drain(worker)
    detail = groups.get_group(world.actors["bo"], group4)
    assert detail.locked_reason  # the group stays locked (R10)
    [cause] = detail.lock_causes
    assert cause.kind == "opt_out" and not cause.still
    assert cause.ended_at is not None and cause.ended_at >= cause.at
    assert detail.regroup_everyone
    number_id, everyone = groups.regroup_selection(world.actors["bo"], group4)
    assert number_id == world.numbers["main"]
    assert everyone == [(world.contacts[r], "primary") for r in ("carla", "dan", "erin", "fay")]
    # Without Dan is still offered too.
    _, others = groups.regroup_selection(world.actors["bo"], group4, world.contacts["dan"])
    assert world.contacts["dan"] not in {c for c, _ in others} and len(others) == 3


def test_r10_dnd_says_who_turned_it_on_and_when_then_that_it_was_turned_off(world, group4):
    contacts.set_contact_dnd(world.actors["ada"], world.contacts["erin"], True)
    detail = groups.get_group(world.actors["bo"], group4)
    [cause] = detail.lock_causes
    assert (cause.name, cause.kind, cause.by, cause.still) == ("Erin Seller", "dnd", "Ada Admin", True)
    assert cause.at is not None and not detail.regroup_everyone

    contacts.set_contact_dnd(world.actors["bo"], world.contacts["erin"], False)
    detail = groups.get_group(world.actors["bo"], group4)
    assert detail.locked_reason == "Erin Seller enabled DND"  # stays locked
    [cause] = detail.lock_causes
    assert cause.by == "Ada Admin" and not cause.still and cause.ended_at is not None
    assert detail.regroup_everyone


def test_r10_dnd_without_an_audit_event_is_still_told(world, group4):
    from groupsms.messaging import optout
    from groupsms.models import Contact

    with db.transaction() as s:  # a path that leaves no audit event (a load file)
        optout.set_dnd(s, s.get(Contact, world.contacts["fay"]), True)
    [cause] = groups.get_group(world.actors["bo"], group4).lock_causes
    assert (cause.name, cause.kind, cause.by, cause.at, cause.still) == ("Fay Lender", "dnd", "", None, True)


def test_r10_both_causes_oldest_first_and_each_person_once(world, fake, worker):
    bo = world.actors["bo"]
    gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "carla:secondary", "dan"))
    contacts.set_contact_dnd(bo, world.contacts["carla"], True)
    sms_in(DAN[1:], "UNSUBSCRIBE", "in-unsub")
    causes = groups.get_group(bo, gid).lock_causes
    assert [(c.name, c.kind) for c in causes] == [("Carla Client", "dnd"), ("Dan Buyer", "opt_out")]
    assert causes[1].keyword == "UNSUBSCRIBE"


def test_r10_an_opt_out_lifted_before_the_group_was_made_is_not_a_cause(world, fake, worker):
    sms_in(DAN[1:], "STOP", "in-stop")
    sms_in(DAN[1:], "START", "in-start")
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    detail = groups.get_group(world.actors["bo"], gid)
    assert detail.locked_reason is None and detail.lock_causes == () and not detail.regroup_everyone


def test_r10_a_deleted_participant_keeps_recreate_with_everyone_away(world, group4):
    bo = world.actors["bo"]
    contacts.set_contact_dnd(bo, world.contacts["dan"], True)
    contacts.set_contact_dnd(bo, world.contacts["dan"], False)
    assert groups.get_group(bo, group4).regroup_everyone
    contacts.delete_contact(world.actors["ada"], world.contacts["fay"])
    assert not groups.get_group(bo, group4).regroup_everyone


def test_r9_regrouping_writes_nothing_and_the_old_group_keeps_its_members(world, group4):
    contacts.set_contact_dnd(world.actors["bo"], world.contacts["dan"], True)
    with db.read() as s:
        before = [(p.id, p.contact_id, p.e164) for p in s.exec(select(Participant).where(Participant.group_id == group4))]
        audits = len(s.exec(select(AuditEvent)).all())
    groups.regroup_selection(world.actors["bo"], group4)
    groups.regroup_selection(world.actors["bo"], group4, world.contacts["dan"])
    with db.read() as s:
        after = [(p.id, p.contact_id, p.e164) for p in s.exec(select(Participant).where(Participant.group_id == group4))]
        assert after == before and len(s.exec(select(AuditEvent)).all()) == audits
        assert s.get(Group, group4).locked_reason


def test_r10_dnd_history_reads_only_its_own_contacts_changes(world, group4):
    contacts.set_contact_dnd(world.actors["ada"], world.contacts["hal"], True)  # not in the group
    contacts.set_contact_dnd(world.actors["bo"], world.contacts["carla"], True)
    [cause] = groups.get_group(world.actors["ada"], group4).lock_causes
    assert cause.name == "Carla Client" and cause.by == "Bo Assigned"
    with db.read() as s:
        details = [json.loads(a.detail) for a in s.exec(select(AuditEvent).where(
            AuditEvent.action == "contact.dnd_changed"))]
    assert [d["dnd"] for d in details] == [True, True]
