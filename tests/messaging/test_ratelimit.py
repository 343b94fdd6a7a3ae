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
