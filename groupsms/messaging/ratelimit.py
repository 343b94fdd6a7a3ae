"""Send-rate limits: Vonage allows 30 requests/second per API key (GROUPSMS_SMS_RATE), and every
worker process together must stay under it. One process: a token bucket in memory. Several: the
same bucket kept in Redis, updated atomically by a Lua script."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Block until one send is allowed."""


class LocalRateLimiter:
    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def _take(self) -> float:
        """Take a token if there is one (0.0) or say how long until there is."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def acquire(self) -> None:
        while (wait := self._take()) > 0:
            time.sleep(wait)


# KEYS[1] bucket; ARGV rate, capacity. Time comes from Redis so every worker shares one clock.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], 60)
return tostring(wait)
"""


class RedisRateLimiter:
    def __init__(self, url: str, rate: float, key: str = "groupsms:sms-rate", burst: float | None = None) -> None:
        import redis

        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self._client = redis.Redis.from_url(url)
        self._take = self._client.register_script(_TAKE)  # Script objects are thread-safe
        self._key = key

    def _try(self) -> float:
        """Take a permit (0.0) or say how long until one is free."""
        return float(self._take(keys=[self._key], args=[self.rate, self.capacity]))

    def acquire(self) -> None:
        while (wait := self._try()) > 0:
            time.sleep(wait)
