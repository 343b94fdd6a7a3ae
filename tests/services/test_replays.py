"""Replays: every webhook (inbound SMS, parts of long texts, delivery receipts) delivered three
times, shuffled, four at a time, through the signed HTTP webhook routes of a real server. Each is stored once, each text is relayed
once to each other participant, and receipts arriving in any order end every delivery delivered.
Prints its counts."""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.domain.segments import count_segments
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import SENT, SendResult
from groupsms.messaging.inbound_loop import InboundLoop
from groupsms.messaging.signatures import sign_params
from groupsms.messaging.worker import Worker
from groupsms.models import Delivery, InboundEvent, Message
from groupsms.services import groups
from tests.services.conftest import WEBHOOK_SECRET, pick

SECRET = WEBHOOK_SECRET
MAIN = "15125550100"
COPIES = 3
SEED = 12


def signed(params: dict, nonce: str) -> dict:
    params = {**params, "timestamp": str(int(time.time())), "nonce": nonce}
    return {**params, "sig": sign_params(params, SECRET, "sha256")}


def by_parts(request):
    """The provider splits a long text as the segment counter predicts: one id per part."""
    n = max(count_segments(request.text).segments, 1)
    return SendResult(SENT, message_ids=tuple(f"{request.client_ref}-p{i}" for i in range(1, n + 1)))


def deliver(base: str, webhooks: list[tuple[str, dict]], rng: random.Random) -> Counter:
    """Each webhook COPIES times, all shuffled, four in flight at once, each copy by GET, form or JSON."""
    copies = [(path, params, rng.choice(("get", "form", "json"))) for path, params in webhooks
              for _ in range(COPIES)]
    rng.shuffle(copies)

    def one(copy) -> int:
        path, params, how = copy
        url = f"{base}/webhooks/vonage/{path}"
        with requests.Session() as http:
            response = (http.get(url, params=params, timeout=30) if how == "get" else
                        http.post(url, data=params, timeout=30) if how == "form" else
                        http.post(url, json=params, timeout=30))
        return response.status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        return Counter(pool.map(one, copies))


def settle() -> int:
    """Events whose processing lost a race with a copy (two parts completing one text at once) are
    retried by the inbound loop: run it, without waiting out the backoff, until nothing is left."""
    retried = 0
    for _ in range(5):
        with db.transaction() as s:
            pending = s.exec(select(InboundEvent).where(InboundEvent.processed_at.is_(None))).all()
            for event in pending:
                event.next_attempt_at = event.received_at
                s.add(event)
        if not pending:
            break
        retried += len(pending)
        InboundLoop().run_once()
    assert count(InboundEvent, InboundEvent.processed_at.is_(None), InboundEvent.gave_up_at.is_(None)) == 0
    return retried


def count(model, *where) -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_every_webhook_delivered_three_times_shuffled_is_stored_once_and_relayed_once(world, webhooks, capsys):
    rng = random.Random(SEED)
    people = ["carla", "dan", "erin", "fay"]
    numbers = {"carla": "15125550111", "dan": "15125550112", "erin": "15125550113", "fay": "15125550114"}
    group = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, *people))

    texts: dict[str, str] = {}  # what each participant's texts should read once joined
    calls: list[tuple[str, dict]] = []
    n = 0
    for i in range(12):  # short replies
        who = people[i % 4]
        texts[f"in-{i}"] = f"Reply {i} from {who}"
        calls.append(("inbound", signed({"msisdn": numbers[who], "to": MAIN, "messageId": f"in-{i}",
                                            "text": texts[f"in-{i}"], "type": "text"}, f"n{(n := n + 1)}")))
    for j in range(6):  # long texts in 2 or 3 parts, each with its own reference
        who, total = people[j % 4], 2 + j % 2
        pieces = [f"Long text {j} part {p} " + "words " * 25 for p in range(1, total + 1)]
        texts[f"long-{j}"] = "".join(pieces)
        for p in range(1, total + 1):
            calls.append(("inbound", signed({
                "msisdn": numbers[who], "to": MAIN, "messageId": f"long-{j}-{p}", "text": pieces[p - 1],
                "type": "text", "concat": "true", "concat-ref": str(100 + j), "concat-part": str(p),
                "concat-total": str(total)}, f"n{(n := n + 1)}")))
    calls.append(("inbound", signed({"msisdn": "15125550199", "to": MAIN, "messageId": "stranger",
                                        "text": "Who is this?", "type": "text"}, f"n{(n := n + 1)}")))
    inbound_webhooks = len(calls)

    answers = deliver(webhooks, calls, rng)
    assert answers == Counter({200: inbound_webhooks * COPIES})
    assert count(InboundEvent) == inbound_webhooks
    retried = settle()
    with db.transaction() as s:
        stored = s.exec(select(Message).where(Message.direction == "inbound")).all()
    assert sorted(m.body for m in stored if m.group_id == group) == sorted(texts.values())
    assert [m.body for m in stored if m.group_id is None] == ["Who is this?"]

    fake = FakeGateway(by_parts)
    worker = Worker(fake, rate=10_000, concurrency=4, lease_seconds=30)
    try:
        while worker.run_once():
            pass
    finally:
        worker.close()
    sent = Counter((r.to_e164, r.text) for r in fake.sent)
    duplicates = sum(c - 1 for c in sent.values())
    relays = len(fake.sent)
    assert duplicates == 0 and relays == len(texts) * 3  # each text to the three others

    receipts = []
    with db.transaction() as s:
        ds = s.exec(select(Delivery)).all()
    for d in ds:
        for part in d.provider_message_ids.split(","):
            for status in ("accepted", "buffered", "delivered"):
                receipts.append(("status", signed({"msisdn": d.to_e164[1:], "to": MAIN, "messageId": part,
                                                   "status": status, "err-code": "0", "client-ref": f"d{d.id}",
                                                   "price": "0.0333"}, f"n{(n := n + 1)}")))
    answers = deliver(webhooks, receipts, rng)
    assert answers == Counter({200: len(receipts) * COPIES})
    retried += settle()
    assert count(InboundEvent) == inbound_webhooks + len(receipts)
    with db.transaction() as s:
        ds = s.exec(select(Delivery)).all()
        statuses = Counter(d.status for d in ds)
        aggregates = Counter(s.exec(select(Message.status).where(Message.direction == "inbound",
                                                                 Message.group_id == group)).all())
    assert statuses == Counter({"delivered": relays})
    assert aggregates == Counter({"delivered": len(texts)})
    parts = sum(len(d.provider_message_ids.split(",")) for d in ds)
    assert all(float(d.price) == pytest.approx(0.0333 * len(d.provider_message_ids.split(","))) for d in ds)
    total = (inbound_webhooks + len(receipts)) * COPIES
    with capsys.disabled():  # the figures show in a plain `make test` run
        print(f"\nreplays: {total} requests, {count(InboundEvent)} events stored, {len(stored)} texts stored "
              f"({len(texts) - 12} long), {relays} relays ({parts} parts), {len(receipts)} receipts, "
              f"{duplicates} duplicates, {retried} events retried by the inbound loop")
