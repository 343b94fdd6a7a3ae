"""The send-rate limiter never lets more than `rate` sends into any one-second window (the provider
throttles above it), in one process and across processes through Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from groupsms.messaging.ratelimit import LocalRateLimiter, RedisRateLimiter

REDIS_URL = os.environ.get("GROUPSMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def most_in_any_second(grants: list[float]) -> int:
    grants = sorted(grants)
    most, start = 0, 0
    for end, at in enumerate(grants):
        while at - grants[start] >= 1.0 - 1e-9:
            start += 1
        most = max(most, end - start + 1)
    return most


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("rate", [30, 8, 1])
def test_token_bucket_never_bursts_above_rate(rate):
    t = FakeTime()
    limiter = LocalRateLimiter(rate, clock=t.clock, sleep=t.sleep)
    t.now += 60  # idle for a minute: the bucket is as full as it gets
    grants = []
    for _ in range(int(rate * 5)):
        limiter.acquire()
        grants.append(t.now)
    assert most_in_any_second(grants) <= rate
    assert grants[-1] - grants[0] <= 5  # and it does let `rate` a second through


def test_redis_token_bucket_never_bursts_above_rate_across_workers():
    key = f"groupsms:test-burst:{uuid.uuid4().hex}"
    try:
        workers = [RedisRateLimiter(REDIS_URL, rate=30, key=key) for _ in range(3)]
        workers[0]._client.ping()
    except Exception as exc:  # pragma: no cover - Redis runs on every machine of this project
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    now, grants = 5000.0, []
    try:
        for i in range(200):  # three workers asking in turn, on a clock the test drives
            wait = workers[i % 3]._try(now=now)
            if wait == 0:
                grants.append(now)
            now += min(wait, 0.004) if wait else 0.004
    finally:
        workers[0]._client.delete(key)
    assert len(grants) >= 20
    assert most_in_any_second(grants) <= 30


def test_rate_and_burst_are_checked():
    with pytest.raises(ValueError, match="rate"):
        LocalRateLimiter(0)
    with pytest.raises(ValueError, match="burst"):
        LocalRateLimiter(10, burst=0.5)


def _senders_on_a_fake_clock(reserve, sending, t: FakeTime, senders: int, seconds: float, wake_late) -> list[tuple[float, float]]:
    """`senders` threads, simulated in order of their wake-up: each takes a slot, sleeps until it and
    wakes `wake_late(i)` seconds after it, is counted (`sending`, which may hold it back), sends,
    and takes the next. Returns (slot, sent) pairs."""
    start = t.now
    waking = []  # (wakes at, slot, sender)
    for n in range(senders):
        slot = t.now + reserve()
        waking.append((slot + wake_late(n), slot, n))
    done, i = [], 0
    while waking:
        waking.sort()
        woke, slot, n = waking.pop(0)
        t.now = max(t.now, woke)
        sending()
        done.append((slot, t.now))
        i += 1
        if t.now - start < seconds:
            next_slot = t.now + reserve()
            waking.append((next_slot + wake_late(i), next_slot, n))
    return done


@pytest.mark.parametrize("rate,headroom", [(30, 0.0), (30, 0.03), (8, 0.0)])
@pytest.mark.parametrize("lateness", ["on time", "late"])
def test_every_permit_is_used_even_when_sleepers_wake_late(rate, headroom, lateness):
    """Slots are handed out ahead: a sender that wakes late still has its permit, so over T seconds
    rate x T sends go (less the headroom), none lost to a re-check, and no second holds more than rate."""
    import random

    rng = random.Random(7)
    t = FakeTime()
    limiter = LocalRateLimiter(rate, headroom=headroom, clock=t.clock, sleep=t.sleep)
    seconds = 20.0
    wake_late = (lambda _i: 0.0) if lateness == "on time" else (lambda _i: rng.uniform(0, 0.02))
    start = t.now
    sends = _senders_on_a_fake_clock(limiter.reserve, limiter.sending, t, 4, seconds, wake_late)
    in_window = [slot for slot, _ in sends if slot - start < seconds]
    assert len(in_window) >= int(rate * (1 - headroom) * seconds)
    sent = [at for _, at in sends if at - start < seconds]
    # what leaves within T: all of them, but for the few held back where late ones left no room
    assert len(sent) >= int(rate * (1 - headroom) * seconds) - max(2, 0.01 * rate * seconds)
    assert most_in_any_second([at for _, at in sends]) <= rate


@pytest.mark.parametrize("worst", [0.05, 0.2, 0.6])
def test_a_send_that_leaves_very_late_holds_back_only_what_the_providers_second_needs(worst):
    """Some sends leave up to `worst` seconds after their slot: no second ever holds more than the
    rate, and the time given up is about what those late sends took, not a permanent shift."""
    import random

    rng = random.Random(11)
    t = FakeTime()
    limiter = LocalRateLimiter(30, headroom=0.03, clock=t.clock, sleep=t.sleep)
    start = t.now
    sends = _senders_on_a_fake_clock(limiter.reserve, limiter.sending, t, 4, 30.0,
                                     lambda i: worst if i % 17 == 0 else rng.uniform(0, 0.01))
    assert most_in_any_second([at for _, at in sends]) <= 30
    sent = [at for _, at in sends if at - start < 30.0]
    assert len(sent) >= 30 * 0.97 * 30 * 0.97  # within 3 % of the schedule's sends


def test_burst_after_idle_is_the_burst_and_then_the_rate():
    t = FakeTime()
    limiter = LocalRateLimiter(10, burst=3, clock=t.clock, sleep=t.sleep)
    t.now += 60
    waits = [limiter.reserve() for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.1, 0.2, 0.3])


def test_redis_schedule_hands_out_every_slot_across_workers_even_when_they_wake_late():
    """Three workers share one schedule in Redis: every slot reserved is a send, at the rate."""
    key = f"groupsms:test-slots:{uuid.uuid4().hex}"
    try:
        workers = [RedisRateLimiter(REDIS_URL, rate=30, key=key) for _ in range(3)]
        workers[0]._client.ping()
    except Exception as exc:  # pragma: no cover - Redis runs on every machine of this project
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    now = 7000.0
    try:
        slots = []
        for i in range(300):  # each asks for a slot and gets one, however far ahead
            slots.append(now + workers[i % 3].reserve(now=now))
            now += 0.01 if i % 5 else 0.09  # asking faster than the rate; sometimes one comes back late
    finally:
        workers[0]._client.delete(key)
    assert slots == sorted(slots)
    assert most_in_any_second(slots) <= 30
    assert slots[-1] - slots[1] <= 298 / 30 + 1e-6  # none lost: back to back at 1/30 s once asked ahead


def test_redis_push_moves_the_slots_not_yet_handed_out():
    key = f"groupsms:test-push:{uuid.uuid4().hex}"
    limiter = RedisRateLimiter(REDIS_URL, rate=10, key=key)
    try:
        assert limiter.reserve(now=100.0) == 0.0
        limiter.push(0.5, now=100.0)
        assert limiter.reserve(now=100.0) == pytest.approx(0.6)
    finally:
        limiter._client.delete(key)


def test_redis_sends_across_workers_never_put_more_than_the_rate_into_a_second():
    """Three workers count their sends in Redis: a send that would make 31 in a second waits."""
    key = f"groupsms:test-sent:{uuid.uuid4().hex}"
    workers = [RedisRateLimiter(REDIS_URL, rate=30, key=key) for _ in range(3)]
    now, sent = 9000.0, []
    try:
        for i in range(120):  # asking faster than the rate, as sends that left late bunch up
            wait = workers[i % 3]._send(now=now)
            if wait == 0:
                sent.append(now)
            else:
                assert wait <= 1.0 + 0.01
            now += 0.01
    finally:
        workers[0]._client.delete(key, f"{key}:sent")
    assert len(sent) >= 30
    assert most_in_any_second(sent) <= 30
