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
from groupsms.messaging.worker import Worker
from groupsms.models import Delivery, Message
from groupsms.simulator.testing import wait_until
from tests.messaging.test_outbox_order import CARLA, DAN, ERIN, FAY, MAIN, Provider, all_deliveries, group4  # noqa: F401


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


def test_a_reply_behind_one_in_flight_waits_for_the_loop_in_lane_order(world, group4, local, clean_db):
    provider = Provider()
    worker = local(FakeGateway(provider))
    handed: list[int] = []
    hand_over = worker._hand_over  # noqa: SLF001

    def counting(requests, **kwargs):
        handed.extend(requests)
        hand_over(requests, **kwargs)

    worker._hand_over = counting  # noqa: SLF001
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), kwargs={"poll_seconds": 5}, daemon=True)
    thread.start()
    try:
        for n in range(1, 6):
            _reply(f"reply {n}", f"quick-handover-{n}")
        wait_until(lambda: len(all_deliveries()) == 15 and all(d.status == "sent" for d in all_deliveries()),
                   timeout=20, what="every relay sent")
    finally:
        stop.set()
        thread.join(timeout=10)
    expected = [f"Carla: reply {n}" for n in range(1, 6)]
    assert {n: provider.accepted[n] for n in (DAN, ERIN, FAY)} == {n: expected for n in (DAN, ERIN, FAY)}
    assert provider.most_in_flight == 1  # never two sends to one recipient at once
    assert 3 <= len(handed) < 15  # the first reply's relays were handed over; later ones queued behind them


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
