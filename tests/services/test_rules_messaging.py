"""One small test per promise of sending and receiving (M1–M10 in docs/RULES.md); the suites named
there try each of them much harder."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.domain import concat, encoding
from groupsms.domain import delivery as states
from groupsms.messaging import inbound, outbox
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import AMBIGUOUS, SendResult
from groupsms.messaging.ratelimit import LocalRateLimiter
from groupsms.messaging.worker import Worker
from groupsms.models import Delivery, InboundEvent, Message, utcnow
from groupsms.services import groups, messages
from tests.messaging.conftest import Clock
from tests.services.conftest import pick

MAIN = "15125550100"


def sms_in(sender: str, text: str, message_id: str, **extra: str) -> int:
    event_id, _ = inbound.record_event("inbound", {"msisdn": sender, "to": MAIN, "messageId": message_id,
                                                   "text": text, **extra})
    inbound.process_event(event_id)
    return event_id


def deliveries() -> list[Delivery]:
    with db.transaction() as s:
        return list(s.exec(select(Delivery).order_by(Delivery.id)))


def count(model) -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_m1_the_same_compose_key_sends_one_message(world, group4):
    first = messages.send_message(world.actors["bo"], group4, "Closing moved to Friday", "compose-key-0001-aaaa")
    again = messages.send_message(world.actors["bo"], group4, "Closing moved to Friday", "compose-key-0001-aaaa")
    assert again == first
    assert count(Message) == 1 and len(deliveries()) == 4
    other_compose = messages.send_message(world.actors["bo"], group4, "Closing moved to Friday", "compose-key-0002-bbbb")
    assert other_compose != first


def test_m2_only_the_oldest_delivery_of_a_lane_is_claimed(world, group4):
    messages.send_message(world.actors["bo"], group4, "first")
    messages.send_message(world.actors["bo"], group4, "second")
    with db.transaction() as s:
        claimed = outbox.claim_lane_heads(s, now=utcnow(), worker="w1", lease=timedelta(seconds=30), limit=100)
    rows = {d.id: d for d in deliveries()}
    assert len(claimed) == 4  # one per recipient: the first message's
    assert {rows[i].lane for i in claimed} == {d.lane for d in rows.values()}
    first_message = min(d.message_id for d in rows.values())
    assert {rows[i].message_id for i in claimed} == {first_message}
    with db.transaction() as s:  # the lanes are busy: the second message waits its turn
        assert outbox.claim_lane_heads(s, now=utcnow(), worker="w2", lease=timedelta(seconds=30), limit=100) == []


def test_m3_an_ambiguous_send_goes_out_at_most_twice_then_is_unconfirmed(world, clean_db):
    group = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    clock = Clock()
    fake = FakeGateway(lambda r: SendResult(AMBIGUOUS, error_code="timeout", error_text="read timed out"))
    worker = Worker(fake, rate=10_000, lease_seconds=30, ambiguous_wait=30, clock=clock)
    try:
        messages.send_message(world.actors["bo"], group, "Did this arrive?")
        for _ in range(20):
            while worker.run_once():
                pass
            if not clock.to_next_due():
                break
        assert sorted(r.client_ref for r in fake.sent) == sorted(f"d{d.id}" for d in deliveries() for _ in range(2))
        assert {d.status for d in deliveries()} == {states.UNCONFIRMED}
    finally:
        worker.close()


def test_m4_backoff_is_capped_and_the_rate_is_a_budget_not_a_burst():
    rng = random.Random(7)
    waits = [states.backoff_seconds(attempt, rng=rng) for attempt in range(1, 40)]
    assert waits[0] <= 2 and max(waits) <= 300 and waits[-1] >= 150  # grows, then stays under 5 minutes
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = LocalRateLimiter(30, clock=lambda: now[0], sleep=sleep)
    for _ in range(61):
        limiter.acquire()
    assert now[0] >= 2 - 1e-6  # 61 sends at 30 a second take two seconds: no burst at the start


def test_m5_a_reused_reference_starts_a_new_text_and_a_missing_part_is_marked():
    at = utcnow()
    parts = [concat.Part(1, 1, 2, at, "Hello "), concat.Part(2, 2, 2, at + timedelta(seconds=1), "there"),
             concat.Part(3, 1, 2, at + timedelta(seconds=5), "New text, same reference")]
    first, second = concat.partition(parts)
    assert first.complete() and first.text() == "Hello there"
    assert not second.complete() and second.missing() == [2]
    assert second.text() == f"New text, same reference {concat.MISSING}".strip()
    assert second.notice() == "Part 2 of 2 never arrived"


def test_m6_a_webhook_is_stored_once_and_a_failed_one_stays_to_be_retried(world, group4, monkeypatch):
    params = {"msisdn": "15125550112", "to": MAIN, "messageId": "once", "text": "See you"}
    event_id, new = inbound.record_event("inbound", params)
    assert new and inbound.record_event("inbound", dict(params)) == (event_id, False)

    def broken(*_args, **_kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(inbound, "_process_inbound", broken)
    assert not inbound.process_event(event_id)
    with db.transaction() as s:
        event = s.get(InboundEvent, event_id)
        assert event.processed_at is None and event.attempts == 1 and event.next_attempt_at is not None
    monkeypatch.undo()
    assert inbound.process_event(event_id)
    assert count(Message) == 1


def test_m7_a_late_receipt_never_moves_a_status_back():
    assert states.advance(states.DELIVERED, states.SENT) == states.DELIVERED
    assert states.advance(states.SENT, states.DELIVERED) == states.DELIVERED
    assert states.advance(states.FAILED, states.DELIVERED) == states.FAILED
    folded = states.apply_receipt(
        status=states.FAILED, part_statuses={"p1": states.FAILED}, part_prices={}, error_code="6",
        error_text="Carrier reported failed", price=None, message_id="p1", receipt_status="expired",
        receipt_error="9", receipt_price=None, expected_parts=1, accepted_parts=1)
    assert (folded.status, folded.error_code) == (states.FAILED, "6")  # the first failure's code is kept


def test_m8_no_echo_to_the_senders_other_number_and_loops_are_held(world, monkeypatch):
    group = groups.create_group(world.actors["bo"], world.numbers["main"],
                                pick(world, "carla", "carla:secondary", "dan"))
    sms_in("15125550111", "From Carla's first phone", "echo-1")
    assert [d.to_e164 for d in deliveries()] == ["+15125550112"]  # Dan only
    monkeypatch.setenv("GROUPSMS_RELAY_LIMIT_PER_MINUTE", "2")
    for i in range(3):
        sms_in("15125550112", f"auto-reply {i}", f"loop-{i}")
    with db.transaction() as s:
        held = s.exec(select(Message).where(Message.body == "auto-reply 2")).one()
    assert held.group_id == group and held.sms_text is None and "Not relayed" in held.notice


def test_m9_help_is_answered_once_per_window_and_stop_confirmed_once(world, group4):
    sms_in("15125550113", "HELP", "help-1")
    sms_in("15125550113", "help", "help-2")
    sms_in("15125550114", "STOP", "stop-1")
    sms_in("15125550114", "STOP", "stop-2")
    to = [d.to_e164 for d in deliveries()]
    assert to.count("+15125550113") == 1 and to.count("+15125550114") == 1


def test_m10_typographic_characters_go_out_as_gsm7_and_names_are_spelled_in_gsm7():
    assert encoding.smart_encode("I’ll be there — bring the keys…") == "I'll be there - bring the keys..."
    assert encoding.smart_encode("Ünïcødé 😀 stays") == "Ünïcødé 😀 stays"  # cannot be GSM-7: unchanged
    assert encoding.gsm_name("Zoë") == "Zoe"
