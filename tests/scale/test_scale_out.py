"""Scale-out (`make run-scaled`'s shape) on the machine's PostgreSQL and Redis: 2 webhook processes and
2 `groupsms worker` processes, one simulator for all of them. 1,000 signed replies over 50 groups of 9,
posted to both webhook processes at once: every relay is accepted by the provider exactly once (the
simulator's count), every reply is stored exactly once, and both workers shared the sending.

The workers hear of new deliveries through the Redis change bus and share one send-rate budget there.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, func, text
from sqlmodel import select

from groupsms import db, migrations
from groupsms.models import BusinessNumber, Contact, Delivery, InboundEvent, Message, User
from groupsms.services import Actor, groups
from groupsms.simulator import Simulator
from groupsms.simulator import texts
from groupsms.simulator.testing import wait_until
from groupsms.simulator.webhooks import INBOUND, POST, WebhookSender
from tests.conftest import BACKENDS, PG_ADMIN_URL, _pg_url

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("GROUPSMS_TEST_SCALE_REDIS_URL", "redis://127.0.0.1:6379/9")
SECRET = "scale-out-webhook-secret"
BUSINESS = "+15125550100"
GROUPS, SIZE, REPLIES = 50, 9, 1000

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="scale-out runs on PostgreSQL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def pg_url():
    name = f"groupsms_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    try:
        migrations.upgrade(url)
        db.init(url)
        yield url
    finally:
        db.engine().dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load_location(tmp_path: Path, env: dict[str, str]) -> None:
    """One location, its admin, the business number and 450 contacts, through `groupsms load`."""
    contacts = [{"ref": f"c{n}", "name": f"Client{n} Person", "primary_phone": f"+1512{3000000 + n:07d}",
                 "secondary_phone": None, "dnd": False, "assigned_to": None, "deleted": False}
                for n in range(GROUPS * SIZE)]
    data = {"locations": [{
        "ref": "scale", "name": "Scale Realty",
        "users": [{"ref": "ada", "email": "ada@scale.test", "name": "Ada Admin", "password": "scale-out-password",
                   "role": "admin", "data_access": "all"}],
        "numbers": [{"ref": "main", "e164": BUSINESS, "label": "Main", "default": True, "assigned_to": ["ada"]}],
        "contacts": contacts,
    }]}
    path = tmp_path / "scale.json"
    path.write_text(json.dumps(data))
    for command in (["numbers", "sync"], ["load", str(path)]):  # the number is the simulated account's
        done = subprocess.run([sys.executable, "-m", "groupsms.cli", *command], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr


def create_groups() -> dict[int, list[str]]:
    with db.transaction() as s:
        admin = s.exec(select(User).where(User.email == "ada@scale.test")).one()
        actor = Actor.of(admin)
        number_id = s.exec(select(BusinessNumber.id).where(BusinessNumber.e164 == BUSINESS)).one()
        contact_ids = list(s.exec(select(Contact.id).order_by(Contact.id)))
    members = {}
    for g in range(GROUPS):
        chunk = contact_ids[g * SIZE:(g + 1) * SIZE]
        gid = groups.create_group(actor, number_id, [(cid, "primary") for cid in chunk], intro=False)  # relays only
        members[gid] = [p.e164 for p in groups.get_group(actor, gid).participants]
    return members


def inbound_params(from_e164: str, text_: str, message_id: str) -> dict[str, str]:
    """An inbound SMS as Vonage (and the simulator) posts it, before signing."""
    now = time.time()
    return {
        "api-key": "scale-key", "msisdn": texts.vonage_number(from_e164), "to": texts.vonage_number(BUSINESS),
        "messageId": message_id, "text": text_, "type": "text", "keyword": texts.keyword(text_),
        "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)),
    }


def settled() -> list[Delivery] | None:
    with db.transaction() as s:
        rows = list(s.exec(select(Delivery).order_by(Delivery.id)))
        pending = s.exec(select(InboundEvent.id).where(InboundEvent.processed_at.is_(None))).first()
    if len(rows) < REPLIES * (SIZE - 1) or pending is not None or any(d.status == "queued" for d in rows):
        return None
    return rows


def test_scale_out_two_webhook_and_two_worker_processes_relay_every_reply_exactly_once(pg_url, tmp_path, capsys):
    bus = redis.Redis.from_url(REDIS_URL)
    prefix = f"groupsms-scale-{uuid.uuid4().hex[:8]}"  # this run's own change channel and send-rate schedule
    # No receipts (app_webhook_base unset): the replies are the load here, posted by the test itself.
    sim = Simulator("scale-key", "scale-secret", SECRET, rate_limit=10_000).start()
    ports = [free_port(), free_port()]
    env = {**os.environ, **sim.env(), "GROUPSMS_DATABASE_URL": pg_url, "REFLEX_REDIS_URL": REDIS_URL,
           "GROUPSMS_REDIS_PREFIX": prefix,
           "GROUPSMS_SMS_RATE": "5000", "GROUPSMS_RELAY_LIMIT_PER_MINUTE": "100000",
           "VONAGE_SIGNATURE_SECRET": SECRET, "VONAGE_SIGNATURE_METHOD": "sha256", "PYTHONUNBUFFERED": "1"}
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("web1", "web2", "worker1", "worker2")}
    processes = []
    try:
        load_location(tmp_path, env)
        members = create_groups()
        for name, port in zip(("web1", "web2"), ports, strict=True):
            processes.append(subprocess.Popen([sys.executable, "-m", "tests.soak.webhook_app", str(port)], cwd=ROOT,
                                              env=env, stdout=logs[name], stderr=subprocess.STDOUT))
        # Each worker sends with its own API key, so the simulator's records tell who sent what.
        sim.add_account("scale-key-2", "scale-secret-2")
        for name, key in (("worker1", ("scale-key", "scale-secret")), ("worker2", ("scale-key-2", "scale-secret-2"))):
            worker_env = {**env, "VONAGE_API_KEY": key[0], "VONAGE_API_SECRET": key[1]}
            processes.append(subprocess.Popen([sys.executable, "-m", "groupsms.cli", "worker", "--concurrency", "8"],
                                              cwd=ROOT, env=worker_env, stdout=logs[name], stderr=subprocess.STDOUT))
        wait_until(lambda: all(listening(p) for p in ports), timeout=60, what="both webhook processes")

        rng = random.Random(11)
        gids = list(members)
        replies = []  # (webhook url, sender, text, messageId)
        for n in range(REPLIES):
            gid = gids[n % GROUPS]
            replies.append((f"http://127.0.0.1:{ports[n % 2]}/webhooks/vonage/inbound", rng.choice(members[gid]),
                            f"Reply {n} in group {gid}", f"SCALE{n:08d}"))
        sender = WebhookSender(POST, SECRET, "sha256", timeout=30)

        def post(reply) -> bool:
            url, from_e164, body, message_id = reply
            for _attempt in range(5):  # Vonage retries a webhook that was not answered 2xx
                if sender.send(INBOUND, url, sender.signed(inbound_params(from_e164, body, message_id))).ok:
                    return True
                time.sleep(0.5)
            return False

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            answered = list(pool.map(post, replies))
        posted_in = time.monotonic() - started
        assert all(answered), f"{answered.count(False)} replies were refused five times"
        rows = wait_until(settled, timeout=180, interval=0.5, what="every relay settled")
        drained_in = time.monotonic() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs.values():
            log.close()
        stats = sim.stats()
        sim.stop()
        bus.delete(f"{prefix}:sms-rate")

    accepted = sim.accepted_by_client_ref()
    refs = {f"d{d.id}" for d in rows}
    assert Counter(d.status for d in rows) == {"sent": REPLIES * (SIZE - 1)}
    assert set(accepted) == refs, "every relay accepted by the provider, nothing else"
    assert all(count == 1 for count in accepted.values()), {r: c for r, c in accepted.items() if c > 1}
    with db.transaction() as s:
        stored = Counter(s.exec(select(Message.provider_ref).where(Message.direction == "inbound")).all())
    assert stored == Counter({message_id: 1 for *_, message_id in replies}), "every reply stored exactly once"
    by_worker = Counter(record.api_key for record in sim.requests())
    assert set(by_worker) == {"scale-key", "scale-key-2"}, by_worker  # both workers sent
    with capsys.disabled():  # the figures show in a plain `make test` run
        print(f"\n[scale-out] {REPLIES} replies over {GROUPS} groups of {SIZE} posted to 2 webhook processes in "
              f"{posted_in:.1f} s; {len(rows)} relays, all settled {drained_in:.1f} s after the first reply; "
              f"{stats['requests']} send requests ({by_worker['scale-key']} by worker 1, "
              f"{by_worker['scale-key-2']} by worker 2), {stats['throttled']} throttled")
