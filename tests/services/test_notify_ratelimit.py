"""The live-push notifier fires only after commit; the send-rate limit holds across workers (Redis)."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from groupsms import db
from groupsms.messaging import events, notify
from groupsms.messaging.ratelimit import LocalRateLimiter, RedisRateLimiter
from groupsms.services import groups, messages
from tests.services.conftest import pick

REDIS_URL = os.environ.get("GROUPSMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_e4_new_message_is_announced_after_commit(world, changes):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    mid = messages.send_message(world.actors["bo"], gid, "Keys are in the lockbox")
    assert events.MessageAdded(world.locations["acme"], gid, mid) in changes


def test_e4_rolled_back_writes_announce_nothing(world, changes):
    with pytest.raises(RuntimeError):
        with db.transaction() as s:
            notify.publish(s, events.MessageAdded(1, 1, 1))
            raise RuntimeError("rolled back")
    assert changes == []


def test_e4_a_failing_listener_does_not_break_the_write(world, changes):
    def broken(_change):
        raise ValueError("listener bug")

    unsubscribe = notify.subscribe(broken)
    try:
        gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
        messages.send_message(world.actors["bo"], gid, "still sent")
    finally:
        unsubscribe()
    assert [type(c) for c in changes] == [events.GroupCreated, events.MessageAdded]


# A rate so low that no permit comes back while the test runs: what is granted is the burst alone.
TRICKLE = 0.001


def test_local_limiter_grants_the_burst_then_makes_every_thread_wait():
    limiter = LocalRateLimiter(rate=TRICKLE, burst=10)
    waits: list[float] = []
    lock = threading.Lock()

    def take(n):
        for _ in range(n):
            wait = limiter._take()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take, args=(5,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for w in waits if w == 0) == 10
    assert all(w > 100 for w in waits if w)  # the 11th permit is ~1/rate away


def test_redis_limiter_is_one_budget_for_several_workers():
    key = f"groupsms:test-rate:{uuid.uuid4().hex}"
    try:
        workers = [RedisRateLimiter(REDIS_URL, rate=TRICKLE, key=key, burst=10) for _ in range(2)]
        workers[0]._client.ping()
    except Exception as exc:  # pragma: no cover - Redis runs on every machine of this project
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    try:
        waits = [workers[i % 2]._try() for i in range(16)]  # two processes' clients, alternating
    finally:
        workers[0]._client.delete(key)
    assert waits[:10] == [0.0] * 10
    assert all(w > 100 for w in waits[10:])


def test_e4_changes_cross_processes_through_redis(world, monkeypatch):
    """A change committed in one process (a worker) reaches listeners in another (a web worker)."""
    import redis

    from groupsms.simulator.testing import wait_until

    monkeypatch.setenv("REFLEX_REDIS_URL", REDIS_URL)
    monkeypatch.setattr(notify, "_bus", None)
    seen: list[events.ChangeEvent] = []
    unsubscribe = notify.subscribe(seen.append)
    try:
        other_process = redis.Redis.from_url(REDIS_URL)
        wait_until(lambda: other_process.pubsub_numsub(notify.channel())[0][1] >= 1, what="subscription")
        other_process.publish(notify.channel(), '{"type": "nonsense", "location_id": 1}')  # ignored
        other_process.publish(
            notify.channel(),
            '{"type": "StatusChanged", "location_id": 1, "group_id": 7, "message_id": 9, "status": "delivered"}',
        )
        wait_until(lambda: seen, timeout=5, what="the change from the other process")
        gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
        mid = messages.send_message(world.actors["bo"], gid, "through redis")
        wait_until(lambda: any(getattr(c, "message_id", None) == mid for c in seen), timeout=5, what="our own change")
    finally:
        unsubscribe()
    assert seen[0] == events.StatusChanged(1, 7, 9, "delivered")


def test_e4_in_transaction_listeners_write_with_the_change_and_roll_back_with_it(world):
    """An integration's outbox row commits with the message, and disappears with a rolled-back one."""
    from sqlmodel import select

    from groupsms.models import AuditEvent

    def write_audit(s, event):
        s.add(AuditEvent(location_id=event.location_id, actor_user_id=None, action="test.event",
                         object_type="message", object_id=getattr(event, "message_id", None), detail="{}"))

    unsubscribe = notify.subscribe_in_transaction(write_audit)
    try:
        gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
        mid = messages.send_message(world.actors["bo"], gid, "written together")
        with pytest.raises(RuntimeError):
            with db.transaction() as s:
                notify.publish(s, events.MessageAdded(world.locations["acme"], gid, 999999))
                raise RuntimeError("rolled back")
    finally:
        unsubscribe()
    with db.transaction() as s:
        ids = s.exec(select(AuditEvent.object_id).where(AuditEvent.action == "test.event")).all()
    assert mid in ids
    assert 999999 not in ids


def test_change_events_survive_the_bus_and_unknown_types_are_refused():
    for event in (events.MessageAdded(1, 2, 3, inbound=True), events.StatusChanged(1, None, 3, "failed"),
                  events.RoutingChanged(1, 4, "needs_routing"), events.GroupLocked(1, 2, "Dan opted out"),
                  events.ContactChanged(1, 5, (2, 3)), events.OptOutChanged(1, "+14155550100", 7, True, (2,))):
        import json

        assert events.from_json(json.loads(json.dumps(event.to_json()))) == event
    with pytest.raises(ValueError, match="unknown change event type"):
        events.from_json({"type": "Change", "location_id": 1})
    assert events.ContactChanged(1, 5, (2, 3)).group_ids == (2, 3)
    assert events.StatusChanged.lists_change is False
