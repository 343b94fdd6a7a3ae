"""Sending, relaying, opt-outs, routing and receipts through the outbox with a fake gateway
(R4, R5, R10, E1, E2, E3, E6). The real SDK and simulator are exercised in tests/messaging."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.domain.groups import opted_out_text
from groupsms.errors import Forbidden, ValidationError
from groupsms.messaging import inbound
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import FAILED, RETRY, SendResult
from groupsms.messaging.worker import Worker
from groupsms.models import Contact, Delivery, Group, InboundEvent, Message, OptOut
from groupsms.services import contacts, groups, messages
from tests.services.conftest import pick

MAIN = "15125550100"


def drain(worker: Worker) -> None:
    while worker.run_once():
        pass


def sms_in(sender: str, text: str, message_id: str, to: str = MAIN, **extra) -> None:
    event_id, _ = inbound.record_event("inbound", {"msisdn": sender, "to": to, "messageId": message_id,
                                                   "text": text, **extra})
    inbound.process_event(event_id)


def rows(model, *where):
    with db.transaction() as s:
        return list(s.exec(select(model).where(*where)))


def test_r4_send_goes_to_every_participant_from_the_business_number(world, group4, fake, worker):
    mid = messages.send_message(world.actors["bo"], group4, "Open house at 5")
    assert {d.status for d in rows(Delivery, Delivery.message_id == mid)} == {"queued"}
    drain(worker)
    assert sorted(r.to_e164 for r in fake.sent) == ["+15125550111", "+15125550112", "+15125550113", "+15125550114"]
    assert {r.from_e164 for r in fake.sent} == {"+15125550100"}
    assert {r.text for r in fake.sent} == {"Open house at 5"}
    deliveries = rows(Delivery, Delivery.message_id == mid)
    assert {r.client_ref for r in fake.sent} == {f"d{d.id}" for d in deliveries}
    assert {d.status for d in deliveries} == {"sent"} and all(d.provider_message_ids for d in deliveries)
    assert rows(Message, Message.id == mid)[0].status == "sent"


def test_r4_unicode_text_is_flagged_and_empty_text_refused(world, group4, fake, worker):
    messages.send_message(world.actors["bo"], group4, "See you there 🏡")
    drain(worker)
    assert all(r.unicode for r in fake.sent)
    with pytest.raises(ValidationError, match="empty"):
        messages.send_message(world.actors["bo"], group4, "   ")


def test_r5_reply_is_stored_and_relayed_to_the_others_with_attribution(world, group4, fake, worker):
    sms_in("15125550111", "see you at 5", "in-1")
    [msg] = rows(Message, Message.direction == "inbound")
    assert msg.group_id == group4 and msg.body == "see you at 5"
    drain(worker)
    assert sorted(r.to_e164 for r in fake.sent) == ["+15125550112", "+15125550113", "+15125550114"]
    assert {r.text for r in fake.sent} == {"Carla: see you at 5"}
    [view] = [m for m in messages.list_messages(world.actors["bo"], group4) if m.direction == "inbound"]
    assert view.sender == "Carla" and view.relayed


def test_e1_stop_opts_the_number_out_confirms_once_locks_and_is_not_relayed(world, group4, fake, worker):
    sms_in("15125550112", " Stop. ", "in-stop")
    drain(worker)
    assert [r.to_e164 for r in fake.sent] == ["+15125550112"]  # the confirmation, nothing relayed
    assert "unsubscribed" in fake.sent[0].text
    [row] = rows(OptOut, OptOut.e164 == "+15125550112")
    assert row.active and row.keyword == "STOP" and row.via == "text" and row.confirmation_message_id
    assert not rows(Contact, Contact.id == world.contacts["dan"])[0].dnd_sms  # staff DND is the CRM's own
    detail = groups.get_group(world.actors["bo"], group4)
    assert detail.locked_reason == f"Dan Buyer: {opted_out_text(row.opted_out_at)}" and not detail.can_send
    assert detail.locked_reason.startswith("Dan Buyer: Opted out by text on ")
    with pytest.raises(Forbidden, match="locked"):
        messages.send_message(world.actors["bo"], group4, "anyone?")
    sms_in("15125550112", "STOP", "in-stop-2")
    sms_in("15125550111", "still there?", "in-after")  # R10: stored, not relayed
    drain(worker)
    assert len(fake.sent) == 1
    assert rows(Message, Message.provider_ref == "in-after")[0].group_id == group4


def test_e1_a_send_queued_before_stop_is_not_attempted(world, group4, fake, worker):
    mid = messages.send_message(world.actors["bo"], group4, "Offer accepted!")
    sms_in("15125550113", "unsubscribe", "in-unsub")
    drain(worker)
    assert "+15125550113" not in [r.to_e164 for r in fake.sent if r.text == "Offer accepted!"]
    failed = rows(Delivery, Delivery.message_id == mid, Delivery.status == "failed")
    assert failed and all("locked" in d.error_text or "opted out" in d.error_text for d in failed)


def test_e1_start_lifts_the_opt_out_but_the_group_stays_locked_and_help_answers(world, group4, fake, worker):
    sms_in("15125550111", "STOP", "s1")
    sms_in("15125550111", "start", "s2")
    sms_in("15125550112", "HELP", "s3")
    drain(worker)
    assert not rows(OptOut, OptOut.e164 == "+15125550111")[0].active
    assert groups.get_group(world.actors["bo"], group4).locked_reason
    sent = {(r.to_e164, r.text.split(": ", 1)[1].split(".")[0]) for r in fake.sent}
    assert sent == {
        ("+15125550111", "you are unsubscribed and will receive no more messages from this number"),
        ("+15125550111", "you are resubscribed"),
        ("+15125550112", "group texts from our team"),
    }


def test_e2_sender_in_two_active_groups_waits_for_routing_then_relays(world, group4, fake, worker):
    other = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "lea"))
    sms_in("15125550111", "which one?", "in-amb")
    [item] = messages.list_needs_routing(world.actors["bo"])
    assert set(item.candidate_group_ids) == {group4, other} and item.from_name == "Carla Client"
    drain(worker)
    assert fake.sent == []  # never guessed
    messages.assign_inbound(world.actors["bo"], item.message_id, other)
    drain(worker)
    assert [(r.to_e164, r.text) for r in fake.sent] == [("+15125550118", "Carla: which one?")]
    assert messages.list_needs_routing(world.actors["bo"]) == []


def test_e2_unknown_sender_is_stored_unrouted(world, group4, fake, worker):
    sms_in("15125550199", "who is this?", "in-unknown")
    [msg] = rows(Message, Message.provider_ref == "in-unknown")
    assert msg.group_id is None and msg.routing == "unrouted"


def test_e6_long_inbound_parts_in_any_order_are_joined_once(world, group4, fake, worker):
    parts = {1: "Hello every", 2: "one, the ", 3: "keys are ready"}
    for n in (3, 1, 3, 2, 1):  # out of order and with retries
        sms_in("15125550111", parts[n], f"part-{n}", **{"concat": "true", "concat-ref": "77",
                                                          "concat-total": "3", "concat-part": str(n)})
    [msg] = rows(Message, Message.direction == "inbound")
    assert msg.body == "Hello everyone, the keys are ready"
    drain(worker)
    assert {r.text for r in fake.sent} == {"Carla: Hello everyone, the keys are ready"} and len(fake.sent) == 3


def test_e3_receipts_update_each_delivery_and_the_aggregate(world, group4, worker, fake):
    mid = messages.send_message(world.actors["bo"], group4, "Docs signed")
    drain(worker)
    deliveries = rows(Delivery, Delivery.message_id == mid)
    for i, d in enumerate(deliveries):
        status = "failed" if i == 0 else "delivered"
        event_id, _ = inbound.record_event("status", {
            "msisdn": d.to_e164[1:], "to": MAIN, "messageId": d.provider_message_ids, "status": status,
            "client-ref": f"d{d.id}", "err-code": "6" if status == "failed" else "0"})
        inbound.process_event(event_id)
    view = {v.display: v for v in messages.message_deliveries(world.actors["bo"], mid)}
    assert sorted(v.status for v in view.values()) == ["delivered", "delivered", "delivered", "failed"]
    assert rows(Message, Message.id == mid)[0].status == "partial"


def test_e3_multipart_receipts_combine_per_delivery(world, group4, clean_db):
    fake = FakeGateway(lambda r: SendResult("sent", message_ids=("p1-" + r.client_ref, "p2-" + r.client_ref)))
    worker = Worker(fake, rate=1000, lease_seconds=30)
    mid = messages.send_message(world.actors["bo"], group4, "x" * 200)
    drain(worker)
    d = rows(Delivery, Delivery.message_id == mid)[0]

    def receipt(part):
        event_id, _ = inbound.record_event("status", {"msisdn": d.to_e164[1:], "to": MAIN, "messageId": part,
                                                      "status": "delivered", "client-ref": f"d{d.id}"})
        inbound.process_event(event_id)

    receipt(f"p1-d{d.id}")
    assert rows(Delivery, Delivery.id == d.id)[0].status == "sent"
    receipt(f"p2-d{d.id}")
    assert rows(Delivery, Delivery.id == d.id)[0].status == "delivered"
    worker.close()


def test_retry_backs_off_then_gives_up_with_the_reason_once_the_retry_budget_is_spent(world, group4, clean_db):
    fake = FakeGateway(lambda r: SendResult(RETRY, error_code="http-503", error_text="Service Unavailable"))
    worker = Worker(fake, rate=1000, lease_seconds=30, retry_budget=60)
    mid = messages.send_message(world.actors["bo"], group4, "Retry me")
    worker.run_once()
    ds = rows(Delivery, Delivery.message_id == mid)
    assert {d.status for d in ds} == {"queued"} and {d.attempts for d in ds} == {1}
    assert all(d.next_attempt_at > d.created_at for d in ds)
    with db.transaction() as s:  # queued over a minute ago (the budget), due now
        for d in s.exec(select(Delivery)):
            d.created_at = d.created_at - timedelta(seconds=61)
            d.next_attempt_at = d.created_at
            s.add(d)
    worker.run_once()
    ds = rows(Delivery, Delivery.message_id == mid)
    assert {d.status for d in ds} == {"failed"}
    assert all(d.error_text == "Gave up after 2 attempts over 0.0166667 h: Service Unavailable" for d in ds)
    worker.close()


def test_permanent_failure_is_recorded(world, group4, clean_db):
    fake = FakeGateway(lambda r: SendResult(FAILED, error_code="7", error_text="Number barred"))
    worker = Worker(fake, rate=1000, lease_seconds=30)
    mid = messages.send_message(world.actors["bo"], group4, "Hi")
    drain(worker)
    assert {(d.status, d.error_code) for d in rows(Delivery, Delivery.message_id == mid)} == {("failed", "7")}
    assert len(fake.sent) == 4
    worker.close()


def test_two_workers_claim_disjoint_deliveries_one_per_lane(world, group4, fake, clean_db):
    for i in range(5):
        messages.send_message(world.actors["bo"], group4, f"Update {i}")
    other = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "lea", "max", "ned"))
    messages.send_message(world.actors["bo"], other, "Elsewhere")
    a = Worker(fake, batch=5, lease_seconds=30)
    b = Worker(fake, batch=5, lease_seconds=30)
    first, second = a.claim(), b.claim()
    heads = {d.id for d in rows(Delivery) if d.to_e164 in ("+15125550118", "+15125550119", "+15125550131")
             or d.message_id == min(x.message_id for x in rows(Delivery))}
    # 7 lanes (4 + 3 recipients), so 7 heads in all; the later updates wait behind their lane's head.
    assert len(first) == 5 and len(second) == 2 and set(first) | set(second) == heads
    assert b.claim() == [] and a.claim() == []
    a.close(), b.close()


def test_duplicate_webhook_event_is_stored_once(world, group4):
    for _ in range(3):
        sms_in("15125550111", "hello", "dup-1")
    assert len(rows(InboundEvent, InboundEvent.provider_message_id == "dup-1")) == 1
    assert len(rows(Message, Message.direction == "inbound")) == 1


def test_r10_dnd_via_contacts_page_blocks_queued_sends(world, group4, fake, worker):
    mid = messages.send_message(world.actors["bo"], group4, "Final walk-through")
    contacts.set_contact_dnd(world.actors["bo"], world.contacts["erin"], True)
    drain(worker)
    assert fake.sent == []
    assert {d.status for d in rows(Delivery, Delivery.message_id == mid)} == {"failed"}
    assert json.loads(rows(Delivery, Delivery.message_id == mid)[0].part_statuses) == {}
    assert rows(Group, Group.id == group4)[0].locked_reason == "Erin Seller enabled DND"


def test_unanswered_attempt_is_not_resent_once_its_receipt_arrives(world, group4, clean_db):
    fake = FakeGateway(lambda r: SendResult(RETRY, error_code="timeout", error_text="read timed out"))
    worker = Worker(fake, rate=1000, lease_seconds=30, ambiguous_wait=0)
    mid = messages.send_message(world.actors["bo"], group4, "Did this arrive?")
    worker.run_once()
    assert len(fake.sent) == 4
    first = rows(Delivery, Delivery.message_id == mid)[0]
    event_id, _ = inbound.record_event("status", {"msisdn": first.to_e164[1:], "to": MAIN, "messageId": "late-1",
                                                  "status": "delivered", "client-ref": f"d{first.id}"})
    inbound.process_event(event_id)
    assert rows(Delivery, Delivery.id == first.id)[0].status == "delivered"
    with db.transaction() as s:
        for d in s.exec(select(Delivery)):
            d.next_attempt_at = d.created_at
            s.add(d)
    fake.clear()
    worker.run_once()
    assert sorted(r.to_e164 for r in fake.sent) == sorted(
        d.to_e164 for d in rows(Delivery, Delivery.message_id == mid) if d.id != first.id)
    worker.close()


def test_e7_unread_counts_inbound_until_the_user_opens_the_group(world, group4):
    sms_in("15125550111", "first", "u1")
    sms_in("15125550112", "second", "u2")
    messages.send_message(world.actors["bo"], group4, "our own sends are never unread")
    [summary] = groups.list_groups(world.actors["bo"])
    assert summary.unread_count == 2 and summary.last_message_preview == "our own sends are never unread"
    groups.mark_read(world.actors["bo"], group4)
    assert groups.list_groups(world.actors["bo"])[0].unread_count == 0
    assert groups.list_groups(world.actors["ada"])[0].unread_count == 2  # per user
    sms_in("15125550113", "third", "u3")
    assert groups.list_groups(world.actors["bo"])[0].unread_count == 1


def test_list_groups_runs_the_same_number_of_queries_for_many_groups(world):
    from sqlalchemy import event

    bo = world.actors["bo"]

    def statements() -> int:
        count = 0

        def inc(*_):
            nonlocal count
            count += 1

        event.listen(db.engine(), "before_cursor_execute", inc)
        try:
            groups.list_groups(bo)
        finally:
            event.remove(db.engine(), "before_cursor_execute", inc)
        return count

    groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan"))
    one = statements()
    for pair in (("erin", "fay"), ("lea", "max"), ("ned", "ola"), ("carla", "erin")):
        groups.create_group(bo, world.numbers["main"], pick(world, *pair))
    assert len(groups.list_groups(bo)) == 5
    assert statements() == one
