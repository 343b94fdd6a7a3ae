"""Order and priority in the outbox: one send in flight per (business number, recipient), a retry
never overtaken by a later message, and replies and relays ahead of a backlog of typed sends."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.domain import delivery as states
from groupsms.messaging import inbound, outbox
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import RETRY, SENT, SendResult
from groupsms.messaging.worker import Worker
from groupsms.models import Delivery, Message
from groupsms.services import groups, messages
from groupsms.simulator.testing import wait_until
from tests.messaging.conftest import Clock
from tests.services.conftest import pick

MAIN = "15125550100"
CARLA, DAN, ERIN, FAY = "+15125550111", "+15125550112", "+15125550113", "+15125550114"


def sms_in(sender: str, text: str, message_id: str) -> None:
    event_id, _ = inbound.record_event("inbound", {"msisdn": sender, "to": MAIN, "messageId": message_id, "text": text})
    inbound.process_event(event_id)


def all_deliveries() -> list[Delivery]:
    with db.transaction() as s:
        return list(s.exec(select(Delivery).order_by(Delivery.id)))


@pytest.fixture
def group4(world):
    return groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin", "fay"))


class Provider:
    """A fake provider that takes a random while to answer and records the order it accepted in,
    and how many sends to one recipient were in flight at once."""

    def __init__(self, seed: int = 7) -> None:
        self.accepted: dict[str, list[str]] = defaultdict(list)
        self.in_flight: dict[str, int] = defaultdict(int)
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def __call__(self, request) -> SendResult:
        with self._lock:
            self.in_flight[request.to_e164] += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight[request.to_e164])
            delay = self._rng.uniform(0.0, 0.03)
        time.sleep(delay)  # a provider's latency varies: what reorders concurrent sends
        with self._lock:
            self.in_flight[request.to_e164] -= 1
            self.accepted[request.to_e164].append(request.text)
        return SendResult(SENT, message_ids=(f"id-{request.client_ref}",), price="0.0075")


def test_quick_replies_reach_each_recipient_in_order(world, group4, clean_db):
    provider = Provider()
    worker = Worker(FakeGateway(provider), rate=10_000, concurrency=4, lease_seconds=30)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), kwargs={"poll_seconds": 0.02}, daemon=True)
    thread.start()
    try:
        for n in range(1, 6):
            sms_in(CARLA[1:], f"reply {n}", f"quick-{n}")
        wait_until(lambda: all(d.status == "sent" for d in all_deliveries()) and len(all_deliveries()) == 15,
                   timeout=20, what="every relay sent")
    finally:
        stop.set()
        thread.join(timeout=10)
    expected = [f"Carla: reply {n}" for n in range(1, 6)]
    assert {n: provider.accepted[n] for n in (DAN, ERIN, FAY)} == {n: expected for n in (DAN, ERIN, FAY)}
    assert provider.most_in_flight == 1


def test_retry_never_overtakes_later_message_in_lane(world, group4, clean_db):
    clock = Clock()
    first_to_dan = threading.Event()

    def provider(request):
        if request.to_e164 == DAN and request.text == "Carla: one" and not first_to_dan.is_set():
            first_to_dan.set()
            return SendResult(RETRY, error_code="http-503", error_text="Service Unavailable")
        return SendResult(SENT, message_ids=(f"id-{request.client_ref}",))

    fake = FakeGateway(provider)
    worker = Worker(fake, rate=10_000, concurrency=4, lease_seconds=30, clock=clock)
    for n, word in enumerate(("one", "two", "three"), 1):
        sms_in(CARLA[1:], word, f"lane-{n}")
    while worker.run_once():
        pass
    # Dan's first relay waits for its retry; his later two wait behind it, the others went out.
    dan = [d for d in all_deliveries() if d.to_e164 == DAN]
    assert [d.status for d in dan] == ["queued"] * 3
    assert [r.text for r in fake.sent if r.to_e164 == DAN] == ["Carla: one"]
    assert worker.claim() == []  # nothing of Dan's lane is due before the head's retry
    while clock.to_next_due():
        while worker.run_once():
            pass
    assert [r.text for r in fake.sent if r.to_e164 == DAN] == ["Carla: one", "Carla: one", "Carla: two", "Carla: three"]
    assert [r.text for r in fake.sent if r.to_e164 == ERIN] == ["Carla: one", "Carla: two", "Carla: three"]
    assert {d.status for d in all_deliveries()} == {"sent"}
    worker.close()


def test_a_lane_with_a_claimed_delivery_is_not_claimed_again(world, group4, clean_db):
    messages.send_message(world.actors["bo"], group4, "first")
    messages.send_message(world.actors["bo"], group4, "second")
    a = Worker(FakeGateway(), lease_seconds=30)
    b = Worker(FakeGateway(), lease_seconds=30)
    heads = a.claim()
    assert len(heads) == 4 and b.claim() == [] and a.claim() == []
    first_message = min(d.message_id for d in all_deliveries())
    assert {d.message_id for d in all_deliveries() if d.id in heads} == {first_message}
    a.close(), b.close()


def test_relay_leaves_ahead_of_typed_backlog(world, group4, clean_db):
    """5,000 typed deliveries queued (to other recipients): the next batch claimed starts with the
    relay of a reply that arrived after all of them."""
    messages.send_message(world.actors["bo"], group4, "Backlog seed")
    with db.transaction() as s:
        typed = s.exec(select(Message).where(Message.direction == "outbound")).one()
        backlog = [
            Delivery(message_id=typed.id, to_e164=f"+1512556{i:04d}", status=states.QUEUED, priority=states.PRIORITY_TYPED,
                     lane=outbox.lane(typed.business_number_id, f"+1512556{i:04d}"))
            for i in range(5000)
        ]
        s.add_all(backlog)
    # The seed's own four deliveries went out: the reply's relays then head their lanes.
    with db.transaction() as s:
        for d in s.exec(select(Delivery).where(Delivery.to_e164.in_((CARLA, DAN, ERIN, FAY)))):
            d.status = states.SENT
            s.add(d)
    sms_in(CARLA[1:], "running late", "late-1")
    relays = {d.id for d in all_deliveries() if d.priority == states.PRIORITY_REPLY}
    assert len(relays) == 3
    worker = Worker(FakeGateway(), rate=10_000, lease_seconds=30, batch=20)
    claimed = worker.claim()
    assert len(claimed) == 20 and relays <= set(claimed)
    with db.transaction() as s:
        first = s.exec(select(Delivery.id).where(Delivery.id.in_(claimed))
                       .order_by(Delivery.priority, Delivery.id).limit(3)).all()
    assert set(first) == relays
    worker.close()
