"""Outbox throughput: how fast the worker drains a fan-out, on SQLite and PostgreSQL.

Prints deliveries per second for (a) a provider that answers at once and (b) one that takes 50 ms per
request with 4 sends in flight, plus the time to queue the messages; then how long a relay waits
behind a backlog of 5,000 typed deliveries at the provider's 30 sends a second. Run with `make bench`.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._world import build, database  # noqa: E402
from groupsms import db  # noqa: E402
from groupsms.domain import delivery as states  # noqa: E402
from groupsms.messaging import inbound, outbox  # noqa: E402
from groupsms.models import Delivery, Message  # noqa: E402
from groupsms.messaging.fake_gateway import FakeGateway  # noqa: E402
from groupsms.messaging.gateway import SendResult  # noqa: E402
from groupsms.messaging.worker import Worker  # noqa: E402
from groupsms.services import groups, messages  # noqa: E402

MESSAGES = 60
GROUP_SIZE = 9
BACKLOG = 5000


def slow(_request):
    time.sleep(0.05)
    return SendResult("sent", message_ids=("slow",), price="0.0075")


def run(backend: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(backend, tmp)
        try:
            db.init(url)
            actor, number_id, contacts = build(GROUP_SIZE * 2)
            gid = groups.create_group(actor, number_id, [(c, "primary") for c in contacts[:GROUP_SIZE]])
            for label, gateway, concurrency in (("instant provider", FakeGateway(), 4),
                                               ("50 ms provider", FakeGateway(slow), 4)):
                start = time.perf_counter()
                for i in range(MESSAGES):
                    messages.send_message(actor, gid, f"Update {i}")
                queued = time.perf_counter() - start
                worker = Worker(gateway, rate=10_000, concurrency=concurrency, batch=50, lease_seconds=60)
                start = time.perf_counter()
                while worker.run_once():
                    pass
                drained = time.perf_counter() - start
                worker.close()
                total = MESSAGES * GROUP_SIZE
                print(f"{backend:10} {label:17} queue {MESSAGES} msgs x {GROUP_SIZE}: {queued * 1000 / MESSAGES:6.1f} ms/msg"
                      f"   drain {total} deliveries: {total / drained:7.1f}/s ({drained:5.2f} s)")
        finally:
            drop()


def relay_behind_backlog(backend: str) -> None:
    """A reply arrives while 5,000 typed deliveries wait: seconds until its relays have left."""
    from sqlmodel import select

    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(backend, tmp)
        try:
            db.init(url)
            actor, number_id, contacts = build(3)
            gid = groups.create_group(actor, number_id, [(c, "primary") for c in contacts])
            messages.send_message(actor, gid, "Seed")
            with db.transaction() as s:
                typed = s.exec(select(Message).where(Message.direction == "outbound")).one()
                for d in s.exec(select(Delivery)):
                    d.status = states.SENT  # the seed went out before the backlog built up
                    s.add(d)
                s.add_all(Delivery(message_id=typed.id, to_e164=f"+1737555{i:04d}", status=states.QUEUED,
                                   priority=states.PRIORITY_TYPED, lane=outbox.lane(number_id, f"+1737555{i:04d}"))
                          for i in range(BACKLOG))
            worker = Worker(FakeGateway(), rate=30, concurrency=4, lease_seconds=60)
            stop = threading.Event()
            thread = threading.Thread(target=worker.run_forever, args=(stop,), kwargs={"poll_seconds": 0.1})
            thread.start()
            time.sleep(2)  # the worker is busy with the backlog
            sender = groups.get_group(actor, gid).participants[0].e164
            start = time.perf_counter()
            event_id, _ = inbound.record_event("inbound", {"msisdn": sender[1:], "to": "15125550100",
                                                           "messageId": "bench-reply", "text": "running late"})
            inbound.process_event(event_id)
            stored = time.perf_counter() - start
            start = time.perf_counter()
            while True:
                with db.transaction() as s:
                    waiting = s.exec(select(Delivery.id).where(Delivery.priority == states.PRIORITY_REPLY,
                                                               Delivery.status == states.QUEUED)).all()
                    relays = s.exec(select(Delivery.id).where(Delivery.priority == states.PRIORITY_REPLY)).all()
                if relays and not waiting:
                    break
                time.sleep(0.01)
            latency = time.perf_counter() - start
            with db.transaction() as s:
                left = len(s.exec(select(Delivery.id).where(Delivery.status == states.QUEUED)).all())
            stop.set()
            thread.join()
            print(f"{backend:10} relay behind {BACKLOG} typed deliveries at 30/s: reply stored in {stored:5.2f} s, "
                  f"its {len(relays)} relays left {latency:5.2f} s later ({left} typed still queued)")
        finally:
            drop()


if __name__ == "__main__":
    for backend in sys.argv[1:] or ["sqlite", "postgresql"]:
        run(backend)
    for backend in sys.argv[1:] or ["sqlite", "postgresql"]:
        relay_behind_backlog(backend)
