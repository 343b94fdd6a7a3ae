"""Deliveries queued in the process that runs the worker are claimed and prepared in the transaction
that queues them, and go to the provider when it commits (`Worker.take_fresh`): one commit, one
wake-up and the sends. The lane order, the claim and the crash rules stay those of the loop."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.domain import delivery as states
from groupsms.messaging import inbound, outbox
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import SENT, THROTTLED, SendResult
from groupsms.messaging.worker import Worker
from groupsms.models import Delivery, Message
from groupsms.simulator.testing import wait_until
from tests.messaging.test_outbox_order import CARLA, DAN, ERIN, FAY, MAIN, all_deliveries, group4  # noqa: F401


@pytest.fixture
def local(monkeypatch):
    """Registers a worker as this process's; returns a factory taking its gateway."""
    made: list[Worker] = []

    def make(gateway, **kwargs) -> Worker:
        worker = Worker(gateway, rate=10_000, concurrency=4, lease_seconds=30, **kwargs)
        made.append(worker)
        monkeypatch.setattr(outbox, "local_worker", worker)
        return worker

    yield make
    for worker in made:
        worker.close()


def _reply(text: str, message_id: str) -> None:
    inbound.receive("inbound", {"msisdn": CARLA[1:], "to": MAIN, "messageId": message_id, "text": text})


def test_a_relay_leaves_when_the_webhook_commits_without_the_loop_claiming(world, group4, local, clean_db):
    gateway = FakeGateway()
    worker = local(gateway)
    worker.claim = lambda *a, **k: pytest.fail("the loop claimed a delivery that was handed over")  # noqa: ARG005
    _reply("On my way", "handover-1")
    wait_until(lambda: len(gateway.sent) == 3, timeout=10, what="three relays sent")
    assert sorted(r.to_e164 for r in gateway.sent) == [DAN, ERIN, FAY]
    assert {r.text for r in gateway.sent} == {"Carla: On my way"}
    # Until its answer is recorded each is claimed by this worker and counted as maybe sent: a
    # process that died now would leave it to wait for a receipt before any resend.
    assert {(d.claimed_by, d.ambiguous_attempts, d.status) for d in all_deliveries()} == {
        (worker.name, 1, states.QUEUED)}
    while worker._record_waiting():  # noqa: SLF001 - the loop's step that records answers
        pass
    assert {(d.status, d.claimed_by, d.ambiguous_attempts, d.attempts) for d in all_deliveries()} == {
        (states.SENT, None, 0, 1)}
    with db.transaction() as s:
        assert s.exec(select(Message.status).where(Message.sms_text == "Carla: On my way")).one() == states.SENT


def _counting_hand_over(worker: Worker) -> list[int]:
    handed: list[int] = []
    hand_over = worker._hand_over  # noqa: SLF001

    def counting(requests, **kwargs):
        handed.extend(requests)
        hand_over(requests, **kwargs)

    worker._hand_over = counting  # noqa: SLF001
    return handed


def test_a_reply_behind_one_in_flight_waits_for_the_loop_in_lane_order(world, group4, local, clean_db):
    # The provider holds the first reply's three sends until told to answer: the second reply comes
    # while they are in flight, so its relays wait in their lanes for the loop.
    first_in_flight, answer = threading.Semaphore(0), threading.Event()
    accepted: dict[str, list[str]] = {DAN: [], ERIN: [], FAY: []}
    lock = threading.Lock()

    def provider(request):
        if request.text.endswith("reply 1"):
            first_in_flight.release()
            assert answer.wait(10)
        with lock:
            accepted[request.to_e164].append(request.text)
        return SendResult(SENT, message_ids=(f"id-{request.client_ref}",))

    worker = local(FakeGateway(provider))
    handed = _counting_hand_over(worker)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), kwargs={"poll_seconds": 5}, daemon=True)
    thread.start()
    try:
        _reply("reply 1", "behind-1")
        for _ in range(3):
            assert first_in_flight.acquire(timeout=10)
        _reply("reply 2", "behind-2")
        assert len(handed) == 3  # the second reply's relays were left to the loop
        answer.set()
        wait_until(lambda: len(all_deliveries()) == 6 and all(d.status == "sent" for d in all_deliveries()),
                   timeout=20, what="every relay sent")
    finally:
        answer.set()
        stop.set()
        thread.join(timeout=10)
    assert accepted == {n: ["Carla: reply 1", "Carla: reply 2"] for n in (DAN, ERIN, FAY)}


def test_a_quick_second_reply_leaves_at_once_when_the_first_was_accepted_but_not_yet_recorded(
        world, group4, local, clean_db):
    gateway = FakeGateway()
    worker = local(gateway)
    worker.claim = lambda *a, **k: pytest.fail("the loop claimed a delivery that was handed over")  # noqa: ARG005
    handed = _counting_hand_over(worker)
    _reply("reply 1", "quick-1")
    wait_until(lambda: len(gateway.sent) == 3, timeout=10, what="the first reply's relays sent")
    # Their answers wait for the loop (not running here): the rows are still queued and claimed...
    assert {d.status for d in all_deliveries()} == {states.QUEUED}
    _reply("reply 2", "quick-2")
    # ...yet the provider accepted them, so nothing of their lanes waits for them.
    wait_until(lambda: len(gateway.sent) == 6, timeout=10, what="the second reply's relays sent")
    assert len(handed) == 6
    assert [(r.to_e164, r.text) for r in gateway.sent if r.to_e164 == DAN] == [
        (DAN, "Carla: reply 1"), (DAN, "Carla: reply 2")]
    while worker._record_waiting():  # noqa: SLF001
        pass
    assert {(d.status, d.claimed_by) for d in all_deliveries()} == {(states.SENT, None)}


def test_a_send_answered_throttled_still_holds_its_lane(world, group4, local, clean_db):
    gateway = FakeGateway()
    gateway.script(SendResult(THROTTLED, error_code="1", error_text="Throttled", retry_after=1.0))
    worker = local(gateway)
    worker.claim = lambda *a, **k: pytest.fail("the loop claimed a delivery")  # noqa: ARG005
    handed = _counting_hand_over(worker)
    _reply("reply 1", "throttled-1")
    wait_until(lambda: len(gateway.sent) == 3, timeout=10, what="the first reply's relays sent")
    throttled_to = gateway.sent[0].to_e164  # the scripted answer went to the first send
    _reply("reply 2", "throttled-2")
    wait_until(lambda: len(gateway.sent) == 5, timeout=10, what="the two free lanes' relays sent")
    # Nothing went to the throttled lane: its first text is sent again first, the second after it.
    assert len(handed) == 5
    assert [r.text for r in gateway.sent if r.to_e164 == throttled_to] == ["Carla: reply 1"]


def test_nothing_is_handed_over_from_a_transaction_that_rolls_back(world, group4, local, clean_db):
    gateway = FakeGateway()
    local(gateway)
    with pytest.raises(RuntimeError), db.transaction() as s:
        message = Message(location_id=world.locations["acme"], group_id=group4, business_number_id=world.numbers["main"],
                          direction="outbound", body="Never sent")
        s.add(message)
        s.flush()
        rows = outbox.queue(s, message, [(None, DAN), (None, ERIN)])
        assert {d.claimed_by for d in rows} != {None}  # claimed inside the transaction...
        raise RuntimeError("the request failed after queueing")
    assert gateway.sent == []  # ...and nothing left, as nothing was stored
    with db.transaction() as s:
        assert s.exec(select(Delivery)).all() == []
