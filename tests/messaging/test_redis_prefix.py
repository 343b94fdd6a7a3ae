"""Two installs on one Redis: each hears its own changes only, and keeps its own send-rate schedule."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from groupsms.messaging import events, notify
from groupsms.messaging.ratelimit import RedisRateLimiter
from groupsms.simulator.testing import wait_until

REDIS_URL = os.environ.get("GROUPSMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:  # pragma: no cover - Redis runs on every machine of this project
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return client


def test_the_prefix_is_configured_or_derived_from_the_database(monkeypatch):
    monkeypatch.setenv("GROUPSMS_REDIS_PREFIX", "acme-prod")
    assert notify.channel() == "acme-prod:changes"
    monkeypatch.delenv("GROUPSMS_REDIS_PREFIX")
    monkeypatch.setenv("GROUPSMS_DATABASE_URL", "sqlite:////tmp/one.db")
    one = notify.redis_prefix()
    monkeypatch.setenv("GROUPSMS_DATABASE_URL", "sqlite:////tmp/two.db")
    two = notify.redis_prefix()
    assert one != two and one.startswith("groupsms:") and two.startswith("groupsms:")
    monkeypatch.setenv("GROUPSMS_DATABASE_URL", "sqlite:////tmp/one.db")
    assert notify.redis_prefix() == one  # every process of one install agrees


def test_two_prefixes_do_not_hear_each_other(redis_client):
    ours, theirs = (f"groupsms-test-{uuid.uuid4().hex[:8]}" for _ in range(2))
    heard: dict[str, list] = {ours: [], theirs: []}
    buses = {}
    for prefix in (ours, theirs):
        bus = notify._RedisBus(REDIS_URL, f"{prefix}:changes")
        buses[prefix] = bus
    # Each bus hands what it hears to the module's listeners; tell them apart by who is listening.
    lock = threading.Lock()
    original = notify._dispatch

    def dispatch_by_thread(change):
        with lock:
            heard[threading.current_thread().name.split("/")[-1]].append(change)

    import unittest.mock

    with unittest.mock.patch.object(notify, "_dispatch", dispatch_by_thread):
        for prefix, bus in buses.items():
            pubsub = bus._client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(bus.channel)
            threading.Thread(target=bus._run, args=(pubsub,), name=f"groupsms-changes/{prefix}", daemon=True).start()
        wait_until(lambda: all(redis_client.pubsub_numsub(f"{p}:changes")[0][1] >= 1 for p in buses),
                   what="both subscriptions")
        buses[ours].publish(events.StatusChanged(1, 7, 9, "delivered"))
        buses[theirs].publish(events.StatusChanged(2, 8, 10, "failed"))
        wait_until(lambda: heard[ours] and heard[theirs], timeout=5, what="each install's own change")
        buses[ours].publish(events.StatusChanged(1, 7, 11, "delivered"))
        wait_until(lambda: len(heard[ours]) == 2, timeout=5, what="our second change")
    assert original is notify._dispatch
    assert heard[ours] == [events.StatusChanged(1, 7, 9, "delivered"), events.StatusChanged(1, 7, 11, "delivered")]
    assert heard[theirs] == [events.StatusChanged(2, 8, 10, "failed")]


def test_two_prefixes_keep_separate_send_rate_schedules(monkeypatch, redis_client):
    ours, theirs = (f"groupsms-test-{uuid.uuid4().hex[:8]}" for _ in range(2))
    limiters = {}
    for prefix in (ours, theirs):
        monkeypatch.setenv("GROUPSMS_REDIS_PREFIX", prefix)
        limiters[prefix] = RedisRateLimiter(REDIS_URL, rate=1)
    try:
        assert limiters[ours]._key == f"{ours}:sms-rate"
        assert limiters[ours].reserve(now=50.0) == 0.0
        assert limiters[theirs].reserve(now=50.0) == 0.0  # another install's send took nothing of ours
        assert limiters[ours].reserve(now=50.0) == pytest.approx(1.0)
    finally:
        redis_client.delete(f"{ours}:sms-rate", f"{theirs}:sms-rate")
