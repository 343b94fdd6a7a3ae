"""Long inbound SMS (E6): parts are joined only with parts of the same message, and a message
whose parts never all arrive is stored, shown and relayed with what came, marked incomplete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.messaging import inbound
from groupsms.messaging.inbound_loop import InboundLoop
from groupsms.messaging.worker import Worker
from groupsms.models import InboundEvent, Message
from groupsms.services import groups
from tests.services.conftest import pick

MAIN = "15125550100"
CARLA = "15125550111"


def drain(worker: Worker) -> None:
    while worker.run_once():
        pass


def part(message_id: str, ref: str, n: int, total: int, text: str, sender: str = CARLA) -> int:
    event_id, _ = inbound.record_event("inbound", {
        "msisdn": sender, "to": MAIN, "messageId": message_id, "text": text, "concat": "true",
        "concat-ref": ref, "concat-part": str(n), "concat-total": str(total)})
    inbound.process_event(event_id)
    return event_id


def inbound_messages() -> list[Message]:
    with db.transaction() as s:
        return list(s.exec(select(Message).where(Message.direction == "inbound").order_by(Message.id)))


def age_events(*, hours: float = 0, seconds: float = 0) -> None:
    """Pretend everything stored so far arrived that long ago."""
    with db.transaction() as s:
        for event in s.exec(select(InboundEvent)):
            event.received_at -= timedelta(hours=hours, seconds=seconds)
            s.add(event)


def test_reused_concat_ref_days_later_is_a_new_message(world, group4, fake, worker):
    part("a1", "42", 1, 2, "Is the house ")
    part("a2", "42", 2, 2, "still for sale?")
    age_events(hours=72)
    part("b1", "42", 1, 2, "We would like ")
    part("b2", "42", 2, 2, "to make an offer")
    assert [m.body for m in inbound_messages()] == ["Is the house still for sale?", "We would like to make an offer"]
    drain(worker)
    assert sorted(r.text for r in fake.sent) == sorted(["Carla: Is the house still for sale?"] * 3
                                                       + ["Carla: We would like to make an offer"] * 3)


def test_reused_concat_ref_while_the_previous_is_incomplete_starts_a_new_message(world, group4):
    part("a1", "7", 1, 3, "First ")
    part("a2", "7", 2, 3, "text ")  # its part 3 never comes
    part("b1", "7", 1, 2, "Second ")  # another part count: another message
    part("c1", "7", 1, 3, "Third ")  # a second part 1: the handset reused the reference
    part("c2", "7", 2, 3, "one ")
    part("c3", "7", 3, 3, "ends.")
    assert [m.body for m in inbound_messages()] == ["Third one ends."]
    part("b2", "7", 2, 2, "here.")
    assert [m.body for m in inbound_messages()] == ["Third one ends.", "Second here."]
    age_events(seconds=601)
    InboundLoop().run_once()
    assert [(m.body, m.incomplete, m.notice) for m in inbound_messages()][-1] == (
        "First text [...]", True, "Part 3 of 3 never arrived")


def test_a_late_part_of_the_older_message_finds_it_when_the_newer_has_that_part(world, group4):
    part("a1", "9", 1, 2, "Old ")
    part("b1", "9", 1, 2, "New ")
    part("b2", "9", 2, 2, "two")
    part("a2", "9", 2, 2, "one")
    assert sorted(m.body for m in inbound_messages()) == ["New two", "Old one"]


def test_parts_more_than_a_day_apart_are_not_joined(world, group4, monkeypatch):
    monkeypatch.setenv("GROUPSMS_CONCAT_TIMEOUT", str(10 * 24 * 3600))  # the sweep did not run
    part("a1", "3", 1, 2, "Monday ")
    age_events(hours=25)
    part("a2", "3", 2, 2, "Tuesday")
    assert inbound_messages() == []


def test_incomplete_long_text_is_stored_and_relayed_after_timeout(world, group4, fake, worker):
    part("x1", "11", 1, 3, "The code for the lockbox ")
    part("x3", "11", 3, 3, " thanks!")
    assert inbound_messages() == []
    loop = InboundLoop()
    loop.run_once()
    assert inbound_messages() == []  # still inside the wait
    age_events(seconds=601)
    loop.run_once()
    [msg] = inbound_messages()
    assert msg.incomplete and msg.notice == "Part 2 of 3 never arrived"
    assert msg.body == "The code for the lockbox [...] thanks!"
    assert msg.group_id == group4
    drain(worker)
    assert len(fake.sent) == 3 and all(r.text.startswith("Carla: The code for the lockbox") for r in fake.sent)
    loop.run_once()  # a second sweep stores nothing more
    assert len(inbound_messages()) == 1
    with db.transaction() as s:
        assert all(e.consumed_by_message_id == msg.id for e in s.exec(select(InboundEvent)))


def test_concat_timeout_is_configurable(world, group4, monkeypatch):
    monkeypatch.setenv("GROUPSMS_CONCAT_TIMEOUT", "30")
    part("y1", "12", 1, 2, "Half")
    age_events(seconds=31)
    InboundLoop().run_once()
    [msg] = inbound_messages()
    assert msg.incomplete and msg.notice == "Part 2 of 2 never arrived"


def test_concat_timeout_that_is_not_a_number_is_refused(monkeypatch):
    from groupsms.messaging import parts

    monkeypatch.setenv("GROUPSMS_CONCAT_TIMEOUT", "ten minutes")
    with pytest.raises(ValueError, match="GROUPSMS_CONCAT_TIMEOUT must be a number of seconds"):
        parts.timeout_seconds()


def test_a_part_that_arrives_after_its_message_was_stored_incomplete_is_kept_too(world, group4):
    part("z1", "13", 1, 2, "Early")
    age_events(seconds=601)
    InboundLoop().run_once()
    part("z2", "13", 2, 2, "Late")
    age_events(seconds=601)
    InboundLoop().run_once()
    assert [(m.body, m.notice) for m in inbound_messages()] == [
        ("Early [...]", "Part 2 of 2 never arrived"), ("[...] Late", "Part 1 of 2 never arrived")]


def test_parts_sent_to_a_number_of_no_location_are_not_swept_again_and_again(world, group4):
    event_id, _ = inbound.record_event("inbound", {
        "msisdn": CARLA, "to": "15125550999", "messageId": "nobody-1", "text": "Hi", "concat": "true",
        "concat-ref": "5", "concat-part": "1", "concat-total": "2"})
    inbound.process_event(event_id)
    age_events(seconds=601)
    assert InboundLoop().run_once() == 0
    assert inbound_messages() == []
