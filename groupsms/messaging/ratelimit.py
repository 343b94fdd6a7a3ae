"""Send-rate limits: Vonage allows 30 requests/second per API key (GROUPSMS_SMS_RATE), and every
worker process together must stay under it. One process: a token bucket in memory. Several: the
same bucket kept in Redis, updated atomically by a Lua script.

The bucket holds one token by default: permits are spaced 1/rate apart, so no window of one second
ever holds more than `rate` sends (a full bucket of `rate` tokens would allow twice that across a
window boundary, which the provider answers with "Throttled").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


_EPSILON = 1e-9


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Block until one send is allowed."""

    # Optional: `try_acquire() -> bool` takes a permit only if one is free now (the worker then
    # prepares those sends together).


def _check(rate: float, burst: float | None) -> float:
    if not rate or rate <= 0:
        raise ValueError(f"the send rate must be a positive number of sends per second, got {rate!r}")
    capacity = 1.0 if burst is None else float(burst)
    if capacity < 1:
        raise ValueError(f"burst must be at least 1, got {burst!r}")
    return capacity


class LocalRateLimiter:
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.capacity = _check(rate, burst)
        self.rate = float(rate)
        self._clock, self._sleep = clock, sleep
        self._tokens = self.capacity
        self._last = clock()
        self._lock = threading.Lock()

    def _take(self) -> float:
        """Take a token if there is one (0.0) or say how long until there is."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1 - _EPSILON:  # float rounding must not leave a waiter spinning
                self._tokens = max(0.0, self._tokens - 1)
                return 0.0
            return (1 - self._tokens) / self.rate

    def acquire(self) -> None:
        while (wait := self._take()) > 0:
            self._sleep(wait)

    def try_acquire(self) -> bool:
        """Take a permit if one is free now; never waits."""
        return self._take() == 0.0


# KEYS[1] bucket; ARGV rate, capacity[, now]. Time comes from Redis so every worker shares one clock
# (ARGV[3] lets tests drive the clock).
_TAKE = """
local now
if ARGV[3] then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now < at then now = at end
tokens = math.min(capacity, tokens + (now - at) * rate)
local wait = 0
if tokens >= 1 - 1e-9 then tokens = math.max(0, tokens - 1) else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 60)
return tostring(wait)
"""


class RedisRateLimiter:
    def __init__(self, url: str, rate: float, key: str = "groupsms:sms-rate", burst: float | None = None) -> None:
        import redis

        self.capacity = _check(rate, burst)
        self.rate = float(rate)
        self._client = redis.Redis.from_url(url)
        self._take = self._client.register_script(_TAKE)  # Script objects are thread-safe
        self._key = key

    def _try(self, now: float | None = None) -> float:
        """Take a permit (0.0) or say how long until one is free."""
        args = [repr(self.rate), repr(self.capacity)] + ([repr(now)] if now is not None else [])
        return float(self._take(keys=[self._key], args=args))

    def acquire(self) -> None:
        while (wait := self._try()) > 0:
            time.sleep(wait)

    def try_acquire(self) -> bool:
        """Take a permit if one is free now; never waits."""
        return self._try() == 0.0
