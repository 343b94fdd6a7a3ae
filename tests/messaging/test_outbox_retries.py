"""What the worker does after each kind of answer: holding its claim, ambiguous sends, throttling,
and a retry budget measured in time (run on a test clock: hours take no time)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.messaging import inbound
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import AMBIGUOUS, FAILED, RETRY, SENT, THROTTLED, SendResult
from groupsms.messaging.worker import BACKOFF_CAP_SECONDS, Worker
from groupsms.models import Delivery, Message
from groupsms.services import groups, messages
from groupsms.simulator.testing import wait_until
from tests.messaging.conftest import Clock
from tests.services.conftest import pick

MAIN = "15125550100"


@pytest.fixture
def group4(world):
    return groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin", "fay"))


def deliveries() -> list[Delivery]:
    with db.transaction() as s:
        return list(s.exec(select(Delivery).order_by(Delivery.id)))


def drain_on(clock: Clock, worker: Worker, *, until=None) -> None:
    """Run the worker, jumping the clock to each next retry, until nothing is queued (or `until`)."""
    for _ in range(10_000):
        while worker.run_once():
            pass
        if (until and until()) or not clock.to_next_due():
            return
    raise AssertionError("deliveries stayed queued but the worker claimed none")


def test_worker_never_records_after_losing_its_claim(world, group4, clean_db):
    """A worker whose lease was taken over (it stalled) must not write its answer over the new holder's."""
    messages.send_message(world.actors["bo"], group4, "Inspection at 9")
    stolen = threading.Event()

    def stalled_provider(request):
        with db.transaction() as s:  # meanwhile another worker took the delivery over
            d = s.get(Delivery, int(request.client_ref[1:]))
            d.claimed_by = "worker-that-took-over"
            s.add(d)
        stolen.set()
        return SendResult(FAILED, error_code="7", error_text="Number barred")

    worker = Worker(FakeGateway(stalled_provider), rate=10_000, lease_seconds=30, batch=1)
    [delivery_id] = worker.claim()
    worker._send_one(delivery_id)
    assert stolen.is_set()
    d = next(d for d in deliveries() if d.id == delivery_id)
    assert (d.status, d.claimed_by, d.error_code, d.attempts) == ("queued", "worker-that-took-over", None, 0)
    # Nor does it send what it no longer holds.
    fake = FakeGateway()
    worker.gateway = fake
    worker._held.add(delivery_id)
    worker._send_one(delivery_id)
    assert fake.sent == []
    worker.close()


def test_lease_is_renewed_while_the_send_waits(world, group4, clean_db):
    messages.send_message(world.actors["bo"], group4, "Slow provider")
    release = threading.Event()
    seen: list[str] = []

    def slow_provider(request):
        seen.append(request.client_ref)
        release.wait(20)
        return SendResult(SENT, message_ids=("slow-1",))

    worker = Worker(FakeGateway(slow_provider), rate=10_000, lease_seconds=0.3, batch=1)
    other = Worker(FakeGateway(), rate=10_000, lease_seconds=0.3)
    thread = threading.Thread(target=worker.run_once, daemon=True)
    thread.start()
    try:
        wait_until(lambda: seen, timeout=10, what="the send to start")
        [d] = [d for d in deliveries() if f"d{d.id}" == seen[0]]
        first_lease = d.claimed_until
        # Several lease lengths later the lease has moved on: nobody else may take the delivery.
        wait_until(lambda: next(x for x in deliveries() if x.id == d.id).claimed_until > first_lease + timedelta(seconds=0.6),
                   timeout=10, what="the lease to be renewed twice")
        assert d.id not in other.claim()
    finally:
        release.set()
        thread.join(timeout=10)
    assert next(x for x in deliveries() if x.id == d.id).status == "sent"
    worker.close(), other.close()


def test_ambiguous_send_is_resent_once_then_unconfirmed(world, group4, clean_db):
    clock = Clock()
    fake = FakeGateway(lambda r: SendResult(AMBIGUOUS, error_code="timeout", error_text="read timed out"))
    worker = Worker(fake, rate=10_000, lease_seconds=30, ambiguous_wait=30, clock=clock)
    mid = messages.send_message(world.actors["bo"], group4, "Did this arrive?")
    worker.run_once()
    assert {(d.status, d.ambiguous_attempts) for d in deliveries()} == {("queued", 1)}
    clock.advance(10)
    assert worker.run_once() == 0  # still waiting for a receipt
    drain_on(clock, worker)
    assert Counter(r.client_ref for r in fake.sent) == {f"d{d.id}": 2 for d in deliveries()}
    for d in deliveries():
        assert d.status == "unconfirmed"
        assert d.error_text.startswith("Unconfirmed: sent 2 times without an answer or a delivery receipt")
        assert "read timed out" in d.error_text
    with db.transaction() as s:
        assert s.get(Message, mid).status == "unconfirmed"
    worker.close()


def test_ambiguous_send_is_not_resent_once_its_receipt_arrives(world, group4, clean_db):
    clock = Clock()
    fake = FakeGateway(lambda r: SendResult(AMBIGUOUS, error_code="connection", error_text="RemoteDisconnected"))
    worker = Worker(fake, rate=10_000, lease_seconds=30, clock=clock)
    messages.send_message(world.actors["bo"], group4, "Dropped connection")
    worker.run_once()
    for d in deliveries():
        event_id, _ = inbound.record_event("status", {"msisdn": d.to_e164[1:], "to": MAIN, "messageId": f"late-{d.id}",
                                                      "status": "delivered", "client-ref": f"d{d.id}"})
        inbound.process_event(event_id)
    drain_on(clock, worker)
    assert len(fake.sent) == 4
    assert {d.status for d in deliveries()} == {"delivered"}
    worker.close()


def test_a_worker_killed_mid_send_leaves_the_delivery_waiting_for_a_receipt(world, group4, clean_db):
    """The send may have reached the provider: the next worker waits for its receipt first."""
    clock = Clock()
    messages.send_message(world.actors["bo"], group4, "Half sent")
    dead = Worker(FakeGateway(), rate=10_000, lease_seconds=5, clock=clock, batch=1)
    [delivery_id] = dead.claim()
    assert dead._prepare(delivery_id) is not None  # the send started, then the process died
    dead._closing.set()
    fake = FakeGateway()
    worker = Worker(fake, rate=10_000, lease_seconds=5, ambiguous_wait=30, clock=clock)
    clock.advance(6)  # the dead worker's lease ran out
    while worker.run_once():
        pass
    assert f"d{delivery_id}" not in [r.client_ref for r in fake.sent]
    event_id, _ = inbound.record_event("status", {"msisdn": "15125550111", "to": MAIN, "messageId": "it-went",
                                                  "status": "delivered", "client-ref": f"d{delivery_id}"})
    inbound.process_event(event_id)
    drain_on(clock, worker)
    assert f"d{delivery_id}" not in [r.client_ref for r in fake.sent]
    assert next(d for d in deliveries() if d.id == delivery_id).status == "delivered"
    worker.close()


def test_throttling_does_not_use_up_attempts(world, group4, clean_db):
    clock = Clock()
    throttled: Counter = Counter()

    def provider(request):
        if throttled[request.client_ref] < 12:
            throttled[request.client_ref] += 1
            return SendResult(THROTTLED, error_code="1", error_text="Throttled", retry_after=1.0)
        return SendResult(SENT, message_ids=(f"id-{request.client_ref}",))

    waits: list[float] = []

    class Recording(Worker):
        def _requeue(self, s, d, wait, result):
            assert d.attempts == 0
            waits.append(wait)
            super()._requeue(s, d, wait, result)

    worker = Recording(FakeGateway(provider), rate=10_000, lease_seconds=30, retry_budget=3600, clock=clock)
    messages.send_message(world.actors["bo"], group4, "Busy hour")
    drain_on(clock, worker)
    assert {(d.status, d.attempts) for d in deliveries()} == {("sent", 1)}
    assert len(waits) == 48 and all(1.0 <= w <= 2.0 for w in waits)
    assert len({round(w, 3) for w in waits}) > 40  # jittered, so workers do not come back at once
    worker.close()


def outage(hours: float, error=RETRY):
    """A provider that refuses everything (connection refused / 503) for `hours`, then accepts."""
    calls = []

    def provider(clock):
        start = clock()

        def send(request):
            calls.append((clock(), request.client_ref))
            if clock() < start + timedelta(hours=hours):
                return SendResult(error, error_code="http-503", error_text="Service Unavailable")
            return SendResult(SENT, message_ids=(f"id-{request.client_ref}-{len(calls)}",))

        return send

    return provider, calls


def test_one_hour_outage_fails_nothing(world, group4, clean_db):
    clock = Clock()
    provider, calls = outage(hours=1)
    fake = FakeGateway(provider(clock))
    worker = Worker(fake, rate=10_000, lease_seconds=30, clock=clock)
    for i in range(3):  # 12 deliveries queued when the provider goes down
        messages.send_message(world.actors["bo"], group4, f"Update {i + 1}")
    drain_on(clock, worker)
    assert {d.status for d in deliveries()} == {"sent"} and len(deliveries()) == 12
    accepted = Counter(ref for at, ref in calls if at >= calls[0][0] + timedelta(hours=1))
    assert accepted == {f"d{d.id}": 1 for d in deliveries()}  # everything delivered once, after it
    per_ref: dict[str, list] = {}
    for at, ref in calls:
        per_ref.setdefault(ref, []).append(at)
    gaps = [(b - a).total_seconds() for times in per_ref.values() for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) <= BACKOFF_CAP_SECONDS + 1  # the backoff is capped at a few minutes
    worker.close()


def test_outage_longer_than_the_retry_budget_fails_with_the_reason(world, group4, clean_db):
    clock = Clock()
    provider, _ = outage(hours=2)
    worker = Worker(FakeGateway(provider(clock)), rate=10_000, lease_seconds=30, retry_budget=3600, clock=clock)
    messages.send_message(world.actors["bo"], group4, "Too late")
    drain_on(clock, worker)
    for d in deliveries():
        assert d.status == "failed" and d.error_code == "http-503"
        assert d.error_text.startswith("Gave up after ") and d.error_text.endswith("over 1 h: Service Unavailable")
    worker.close()


def test_permanent_error_fails_at_once(world, group4, clean_db):
    fake = FakeGateway(lambda r: SendResult(FAILED, error_code="3", error_text="Invalid to param"))
    worker = Worker(fake, rate=10_000, lease_seconds=30)
    messages.send_message(world.actors["bo"], group4, "Bad number")
    worker.run_once()
    assert {(d.status, d.attempts, d.error_text) for d in deliveries()} == {("failed", 1, "Invalid to param")}
    assert len(fake.sent) == 4
    worker.close()


def test_parts_and_their_prices_are_recorded_from_the_send(world, group4, clean_db):
    fake = FakeGateway(lambda r: SendResult(SENT, message_ids=(f"a-{r.client_ref}", f"b-{r.client_ref}"),
                                            price="0.0150", part_prices=("0.0075", "0.0075"), parts_total=2))
    worker = Worker(fake, rate=10_000, lease_seconds=30)
    messages.send_message(world.actors["bo"], group4, "x" * 200)
    worker.run_once()
    for d in deliveries():
        assert (d.status, d.parts_accepted, d.price) == ("sent", 2, "0.0150")
        assert d.provider_message_ids == f"a-d{d.id},b-d{d.id}"
    worker.close()
