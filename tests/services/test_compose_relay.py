"""What a relay costs: it goes out smart-encoded, attributed with a name spelled in GSM-7 letters,
and a relay over 10 segments is stored with a notice for the business instead of sent."""

from __future__ import annotations

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.messaging import inbound
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.worker import Worker
from groupsms.models import Contact, Delivery, Message
from groupsms.services import groups, messages
from tests.services.conftest import pick

MAIN = "15125550100"


def sms_in(sender: str, text: str, message_id: str) -> None:
    event_id, _ = inbound.record_event("inbound", {"msisdn": sender, "to": MAIN, "messageId": message_id, "text": text})
    inbound.process_event(event_id)


@pytest.fixture
def sent(clean_db):
    fake = FakeGateway()
    worker = Worker(fake, rate=1000, concurrency=2, lease_seconds=30)

    def drain():
        while worker.run_once():
            pass
        return fake.sent

    yield drain
    worker.close()


@pytest.fixture
def group3(world):
    with db.transaction() as s:  # a participant whose name has a letter GSM-7 lacks
        s.get(Contact, world.contacts["carla"]).name = "Zoë Client"
    return groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin"))


def test_participant_name_with_a_non_gsm_letter_does_not_turn_their_relays_into_ucs2(world, group3, sent):
    sms_in("15125550111", "I’ll be there at 5 — bring the keys…", "in-1")
    out = sent()
    assert sorted(r.to_e164 for r in out) == ["+15125550112", "+15125550113"]
    assert {r.text for r in out} == {"Zoe: I'll be there at 5 - bring the keys..."}
    assert not any(r.unicode for r in out)
    shown = messages.list_messages(world.actors["bo"], group3)
    assert shown[-1].body == "I’ll be there at 5 — bring the keys…" and shown[-1].sender == "Zoë"  # as typed


def test_relay_longer_than_ten_segments_is_refused_with_a_notice_to_the_business(world, group3, sent):
    long_reply = "a" * 1526  # 10 segments alone; with "Dan: " 1531 septets, 11 segments
    sms_in("15125550112", long_reply, "in-long")
    assert sent() == []
    with db.transaction() as s:
        message = s.exec(select(Message).where(Message.group_id == group3)).one()
        assert message.body == long_reply and message.sms_text is None
        assert message.notice == "Not relayed to the group: with the sender's name it is 11 SMS segments (max 10)"
        assert s.exec(select(Delivery).where(Delivery.message_id == message.id)).all() == []
    shown = messages.list_messages(world.actors["bo"], group3)
    assert shown[-1].notice == message.notice and not shown[-1].relayed

    sms_in("15125550112", "a" * 1520, "in-fits")  # 1525 septets with the name: 10 segments, relayed
    out = sent()
    assert len(out) == 2 and all(r.text == "Dan: " + "a" * 1520 for r in out)
