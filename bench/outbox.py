"""Outbox throughput: how fast the worker drains a fan-out, on SQLite and PostgreSQL.

Prints deliveries per second for (a) a provider that answers at once and (b) one that takes 50 ms per
request with 4 sends in flight, plus the time to queue the messages. Run with `make bench`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._world import build, database  # noqa: E402
from groupsms import db  # noqa: E402
from groupsms.messaging.fake_gateway import FakeGateway  # noqa: E402
from groupsms.messaging.gateway import SendResult  # noqa: E402
from groupsms.messaging.worker import Worker  # noqa: E402
from groupsms.services import groups, messages  # noqa: E402

MESSAGES = 60
GROUP_SIZE = 9


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


if __name__ == "__main__":
    for backend in sys.argv[1:] or ["sqlite", "postgresql"]:
        run(backend)
