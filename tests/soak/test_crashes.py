"""Crashes: the worker (`groupsms worker`) and the app's webhook process are killed with SIGKILL at
20 random points during traffic and restarted, as a supervisor would. Every delivery still ends
with a reason, none is lost, none is accepted twice, each recipient's texts stay in order, every
reply is stored once. Prints the counts (about a minute in make test; longer with
GROUPSMS_LONG_TESTS=1)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from groupsms.services import groups, messages
from groupsms.simulator import Simulator
from groupsms.simulator.testing import wait_until
from tests.services.conftest import WEBHOOK_SECRET, pick
from tests.soak.conftest import LONG, check_invariants, per_reason, settled

MAIN = "+15125550100"
ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
SECONDS = 150 if LONG else 25
# Longer than a receipt can take to be processed after a webhook process was killed holding it
# (its event is picked up again after 30 s): a send cut off by a kill is never resent when it went out.
AMBIGUOUS_WAIT = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Supervised:
    """A process restarted after every kill, like a service under systemd."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name, self.command, self.env = name, command, env
        self.kills = 0
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(self.command, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def kill_and_restart(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.kills += 1
        self.process = self._spawn()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def test_worker_and_app_killed_at_random_points_lose_and_double_nothing(world, database_url, clean_db, capsys):
    port = free_port()
    sim = Simulator("crash-key", "crash-secret", WEBHOOK_SECRET, app_webhook_base=f"http://127.0.0.1:{port}",
                    rate_limit=30, dlr_delay=0.2, webhook_retry_for=600, webhook_retry_delay=0.5).start()
    env = {**os.environ, **sim.env(), "GROUPSMS_DATABASE_URL": database_url, "GROUPSMS_SMS_RATE": "20",
           "GROUPSMS_OUTBOX_LEASE": "3", "GROUPSMS_AMBIGUOUS_WAIT": str(AMBIGUOUS_WAIT),
           "GROUPSMS_RELAY_LIMIT_PER_MINUTE": "1000", "VONAGE_SIGNATURE_METHOD": "sha256",
           "VONAGE_SIGNATURE_SECRET": WEBHOOK_SECRET}
    os.environ["GROUPSMS_RELAY_LIMIT_PER_MINUTE"] = "1000"  # this process queues relays too (via services)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    worker = Supervised("worker", [sys.executable, "-m", "groupsms.cli", "worker", "--concurrency", "4"], env)
    app = Supervised("webhooks", [sys.executable, "-m", "tests.soak.webhook_app", str(port)], env)
    bo = world.actors["bo"]
    sends, replies = 0, []
    try:
        wait_until(lambda: listening(port), timeout=30, what="the webhook process")
        gids = [groups.create_group(bo, world.numbers["main"], pick(world, *names))
                for names in (("carla", "dan", "erin", "fay"), ("lea", "max", "ned", "ola"))]
        members = {gid: [p.e164 for p in groups.get_group(bo, gid).participants] for gid in gids}
        started = time.monotonic()
        kill_at = sorted(rng.uniform(1, SECONDS) for _ in range(KILLS))
        n = 0
        while kill_at or time.monotonic() - started < SECONDS:
            n += 1
            if kill_at and time.monotonic() - started >= kill_at[0]:
                kill_at.pop(0)
                rng.choice((worker, app)).kill_and_restart()
            gid = rng.choice(gids)
            if rng.random() < 0.4:
                messages.send_message(bo, gid, f"Update {n}: keys at the office")
                sends += 1
            else:  # a handset's reply; Vonage retries it (same messageId) until the app answers
                replies += sim.post_inbound(rng.choice(members[gid]), MAIN, f"Reply {n}", retry_for=60)
            time.sleep(rng.uniform(0.05, 0.5))
        traffic = time.monotonic() - started
        rows = wait_until(settled, timeout=AMBIGUOUS_WAIT * 2 + 120, interval=0.5, what="every delivery settled")
    finally:
        worker.stop(), app.stop()
        stats = sim.stats()
        sim.stop()
        os.environ.pop("GROUPSMS_RELAY_LIMIT_PER_MINUTE", None)
    counts = check_invariants(sim, rows, replies)
    with capsys.disabled():  # the figures show in a plain `make test` run
        print(f"\n[crashes] seed {seed}; {traffic:.0f} s of traffic, {sends} sends, {len(replies)} replies; killed the "
              f"worker {worker.kills} and the webhook process {app.kills} times; {stats['requests']} send requests, "
              f"{stats['dlr_failed']} receipts and {stats['inbound_failed']} replies refused while the app was down "
              f"(retried); {counts}; failed/unconfirmed reasons {per_reason(rows)}")
    assert worker.kills + app.kills == KILLS
    assert counts["deliveries"] == sends * 4 + len(replies) * 3
