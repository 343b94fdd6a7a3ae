"""Fault soak: sends and replies for a while (about 30 s in make test, 5 minutes with
GROUPSMS_LONG_TESTS=1) while the simulator fails 20 % of send requests with 5xx, timeouts,
throttling and dropped connections. Two workers share the outbox. Every delivery ends delivered,
sent, or failed/unconfirmed with a reason; none is lost; none is accepted twice; each recipient
gets its texts in order. Prints the counts."""

from __future__ import annotations

import itertools
import random
import threading
import time

from groupsms.messaging.ratelimit import LocalRateLimiter
from groupsms.messaging.vonage_gateway import VonageGateway
from groupsms.messaging.worker import Worker
from groupsms.services import groups, messages
from groupsms.simulator import Simulator, WebhookError
from groupsms.simulator.testing import wait_until
from tests.services.conftest import WEBHOOK_SECRET, pick
from tests.soak.conftest import LONG, check_invariants, per_reason, settled

MAIN = "+15125550100"
FAULTS = ("http500", "http503", "http429", "timeout", "throttle", "drop_after_read", "drop_before_read")
SECONDS = 300 if LONG else 30


def test_fault_soak_every_delivery_ends_with_none_lost_or_doubled(world, webhooks, monkeypatch, clean_db, capsys):
    monkeypatch.setenv("GROUPSMS_RELAY_LIMIT_PER_MINUTE", "1000")
    sim = Simulator("soak-key", "soak-secret", WEBHOOK_SECRET, app_webhook_base=webhooks, rate_limit=30,
                    dlr_delay=0.2, fault_hold=1.2, webhook_retry_for=60).start()
    seed = random.randrange(1_000_000)
    sim.inject_randomly(0.2, FAULTS, seed=seed)
    limiter = LocalRateLimiter(25)  # one budget for both workers, under the provider's 30/s
    workers, stops, threads = [], [], []
    for _ in range(2):
        gateway = VonageGateway("soak-key", "soak-secret", rest_host=sim.rest_host, ca_bundle=sim.ca_bundle_path,
                                timeout=0.6)
        # Receipt wait > fault hold + receipt delay: an accepted send is never resent.
        worker = Worker(gateway, limiter=limiter, concurrency=4, lease_seconds=5, backoff_base=0.2, backoff_cap=2.0,
                        ambiguous_wait=4.0)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run_forever, args=(stop,), kwargs={"poll_seconds": 0.1}, daemon=True)
        thread.start()
        workers.append(worker), stops.append(stop), threads.append(thread)
    bo = world.actors["bo"]
    rng = random.Random(seed)
    started = time.monotonic()
    sends = 0
    replies: list[str] = []
    try:
        gids = [groups.create_group(bo, world.numbers["main"], pick(world, *names))
                for names in (("carla", "dan", "erin", "fay"), ("lea", "max", "ned", "ola"))]
        members = {gid: [p.e164 for p in groups.get_group(bo, gid).participants] for gid in gids}
        for n in itertools.count(1):
            if time.monotonic() - started > SECONDS:
                break
            gid = rng.choice(gids)
            if rng.random() < 0.4:
                messages.send_message(bo, gid, f"Update {n}: see the new listing")
                sends += 1
            else:
                try:
                    replies += sim.post_inbound(rng.choice(members[gid]), MAIN, f"Reply {n} from the field")
                except WebhookError as exc:  # pragma: no cover - the app must take every reply
                    raise AssertionError(f"the app refused a reply: {exc}") from exc
            time.sleep(rng.uniform(0.05, 0.4))
        traffic = time.monotonic() - started
        rows = wait_until(settled, timeout=120, interval=0.2, what="every delivery settled")
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=20)
        stats = sim.stats()
        sim.stop()
    counts = check_invariants(sim, rows, replies)
    with capsys.disabled():  # the figures show in a plain `make test` run
        print(f"\n[fault soak] seed {seed}; {traffic:.0f} s of traffic, {sends} sends, {len(replies)} replies; "
              f"{stats['requests']} send requests, {stats['faults']} faults {stats['faults_by_kind']}; {counts}; "
              f"failed/unconfirmed reasons {per_reason(rows)}")
    assert counts["deliveries"] == sends * 4 + len(replies) * 3
