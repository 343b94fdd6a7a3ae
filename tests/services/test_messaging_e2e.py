"""The whole messaging path for real: the Vonage SDK over TLS to the simulator, signed webhooks back
into the app's Starlette routes served by uvicorn, the outbox worker, and a real database.

Prints the counts each scenario measured (run with -s to see them).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.errors import Forbidden
from groupsms.messaging.vonage_gateway import VonageGateway
from groupsms.messaging.worker import Worker
from groupsms.models import Delivery, Message, OptOut
from groupsms.services import groups, messages
from groupsms.simulator import Simulator
from groupsms.simulator.testing import wait_until
from tests.services.conftest import WEBHOOK_SECRET, pick

MAIN = "+15125550100"
CARLA, DAN, ERIN, FAY = "+15125550111", "+15125550112", "+15125550113", "+15125550114"


@pytest.fixture
def sim(webhooks):
    simulator = Simulator("e2e-key", "e2e-secret", WEBHOOK_SECRET, app_webhook_base=webhooks, rate_limit=30).start()
    yield simulator
    simulator.stop()


def run_worker(sim, **options):
    gateway = VonageGateway("e2e-key", "e2e-secret", rest_host=sim.rest_host, ca_bundle=sim.ca_bundle_path,
                            timeout=options.pop("timeout", 2.0))
    worker = Worker(gateway, rate=options.pop("rate", 25), concurrency=4, lease_seconds=30, backoff_base=0.05,
                    **options)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), kwargs={"poll_seconds": 0.05}, daemon=True)
    thread.start()
    return stop, thread


def deliveries():
    with db.transaction() as s:
        return list(s.exec(select(Delivery).order_by(Delivery.id)))


def settled():
    rows = deliveries()
    return rows if rows and all(d.status != "queued" for d in rows) else None


def test_group_send_reply_relay_and_stop_end_to_end(world, sim):
    stop, thread = run_worker(sim)
    try:
        bo = world.actors["bo"]
        gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan", "erin", "fay"))
        messages.send_message(bo, gid, "Closing moved to Friday 10am")
        for handset in (CARLA, DAN, ERIN, FAY):
            [sms] = sim.wait_for_inbox(handset, 1)
            assert (sms.from_e164, sms.text) == (MAIN, "Closing moved to Friday 10am")
        wait_until(lambda: {d.status for d in deliveries()} == {"delivered"}, timeout=10, what="receipts")

        sim.post_inbound(CARLA, MAIN, "see you at 5")
        for handset in (DAN, ERIN, FAY):
            inbox = sim.wait_for_inbox(handset, 2)
            assert inbox[-1].text == "Carla: see you at 5"
        assert len(sim.inbox(CARLA)) == 1  # never relayed back to the sender

        sim.post_inbound(DAN, MAIN, "STOP")
        confirmation = sim.wait_for_inbox(DAN, 3)[-1]
        assert "unsubscribed" in confirmation.text
        with db.transaction() as s:
            assert s.exec(select(OptOut).where(OptOut.e164 == DAN, OptOut.active)).one()
            assert s.exec(select(Message).where(Message.body == "STOP")).one().group_id == gid
        detail = groups.get_group(bo, gid)
        assert detail.locked_reason.startswith("Dan Buyer: Opted out by text on ") and not detail.can_send
        with pytest.raises(Forbidden):
            messages.send_message(bo, gid, "one more thing")
        sim.post_inbound(ERIN, MAIN, "ok thanks")
        wait_until(lambda: any(m.body == "ok thanks" for m in messages.list_messages(bo, gid)), what="stored reply")
        wait_until(settled, timeout=10, what="outbox drained")
        counts = {h: len(sim.inbox(h)) for h in (CARLA, DAN, ERIN, FAY)}
        print(f"\n[e2e] SMS per handset {counts}; requests to the provider {len(sim.requests())}")
        assert counts == {CARLA: 1, DAN: 3, ERIN: 2, FAY: 2}
        assert len(sim.requests()) == 4 + 3 + 1
    finally:
        stop.set()
        thread.join(timeout=15)


def test_faults_end_with_every_delivery_sent_or_failed_and_no_resend_after_acceptance(world, sim):
    faults = {"http500": 3, "timeout": 2, "throttle": 3, "drop_after_read": 3, "drop_before_read": 2}
    for kind, count in faults.items():
        sim.inject(kind, count, hold=1.5) if kind == "timeout" else sim.inject(kind, count)
    # Wait for a receipt longer than the simulator holds a timed-out request before accepting it.
    stop, thread = run_worker(sim, timeout=0.5, ambiguous_wait=4.0)
    try:
        bo = world.actors["bo"]
        gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan", "erin", "fay"))
        for i in range(5):
            messages.send_message(bo, gid, f"Update {i + 1}: inspection report attached")
        rows = wait_until(settled, timeout=60, what="every delivery settled")
    finally:
        stop.set()
        thread.join(timeout=15)
    assert len(rows) == 20
    for d in rows:
        assert d.status in ("sent", "delivered") or (d.status in ("failed", "unconfirmed") and d.error_text), d
    accepted = Counter(r.params.get("client-ref") for r in sim.requests() if r.statuses and r.statuses[0] == "0"
                       or r.fault in ("drop_after_read", "timeout"))
    resent = {ref: n for ref, n in accepted.items() if n > 1}
    statuses = Counter(d.status for d in rows)
    print(f"\n[faults] injected {faults}; requests {len(sim.requests())}; deliveries {dict(statuses)}; "
          f"accepted more than once {resent or 0}")
    assert not resent
    # An unconfirmed one (no answer twice, no receipt) was never accepted here: 5xx or dropped before read.
    assert sum(len(sim.inbox(h)) for h in (CARLA, DAN, ERIN, FAY)) == 20 - statuses.get("unconfirmed", 0)


def test_worker_killed_mid_fan_out_is_restarted_and_everyone_gets_the_message(world, sim, database_url):
    bo = world.actors["bo"]
    everyone = ("carla", "dan", "erin", "fay", "kim", "lea", "max", "ned", "ola")
    gid = groups.create_group(bo, world.numbers["main"], pick(world, *everyone))
    env = {**os.environ, **sim.env(), "GROUPSMS_DATABASE_URL": database_url, "GROUPSMS_SMS_RATE": "8",
           "GROUPSMS_OUTBOX_LEASE": "2"}
    worker_cmd = [sys.executable, "-m", "groupsms.cli", "worker", "--concurrency", "4"]
    first = subprocess.Popen(worker_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for i in range(4):
            messages.send_message(bo, gid, f"Fan-out {i + 1}")
        sim.wait_for_requests(10, timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        in_flight_at_kill = len(sim.requests())
    finally:
        if first.poll() is None:
            first.kill()
    second = subprocess.Popen(worker_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        rows = wait_until(settled, timeout=60, what="the restarted worker to finish")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    numbers = [p.e164 for p in groups.get_group(bo, gid).participants]
    received = {n: [s.text for s in sim.inbox(n)] for n in numbers}
    duplicates = sum(len(texts) - len(set(texts)) for texts in received.values())
    print(f"\n[crash] 36 deliveries; requests before the kill {in_flight_at_kill}; after restart "
          f"{len(sim.requests())}; duplicate SMS {duplicates} (bound: 4 in flight)")
    assert all(sorted(set(texts)) == [f"Fan-out {i + 1}" for i in range(4)] for texts in received.values())
    assert {d.status for d in rows} <= {"sent", "delivered"}
    assert duplicates <= 4
