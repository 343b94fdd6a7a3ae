"""Send-rate limits: Vonage allows 30 requests/second per API key (GROUPSMS_SMS_RATE), and every
worker process together must stay under it. One process: a schedule kept in memory. Several: the
same schedule kept in Redis, reserved atomically by a Lua script.

The schedule is a GCRA ("theoretical arrival time"): every permit is a slot, `interval` = 1/rate
after the one before, and a sender that asks is given its slot at once (`reserve`) and sleeps until
it. Nobody re-checks after waking, so a thread that wakes late still has its permit and the slots
after it stay where they were: over T seconds, rate x T permits are handed out, none lost.

The provider counts requests in any sliding second, so the burst is one send by default: a burst of
b sends after an idle spell, followed by the steady rate, would put b - 1 too many into the second
that starts with it. `headroom` spaces the slots a little wider than 1/rate (0.03: 3 % under the
rate), which leaves `slack` seconds per second of sends for a send that goes out late (a database
turn, a thread that woke late, the network); a sender later than that calls `push(late - slack)`
and the slots not yet handed out move back by that much, so no second ever holds more than `rate`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


_EPSILON = 1e-9


class RateLimiter(Protocol):
    rate: float

    def reserve(self) -> float:
        """Take the next slot; returns the seconds until it (0.0: now). The slot is the caller's."""

    def acquire(self) -> None:
        """Take the next slot and sleep until it (a caller that may go out late calls `late`)."""

    def try_acquire(self) -> bool:
        """Take a slot only if one is free now; never waits."""

    def push(self, seconds: float) -> None:
        """Move the slots not yet handed out back by `seconds` (a send went out that late)."""


def _check(rate: float, burst: float | None, headroom: float) -> float:
    if not rate or rate <= 0:
        raise ValueError(f"the send rate must be a positive number of sends per second, got {rate!r}")
    capacity = 1.0 if burst is None else float(burst)
    if capacity < 1:
        raise ValueError(f"burst must be at least 1, got {burst!r}")
    if not 0 <= headroom < 0.5:
        raise ValueError(f"headroom must be a fraction of the rate from 0 to 0.5, got {headroom!r}")
    return capacity


class _Schedule:
    """What both limiters share: the interval between slots, the burst tolerance, the slack."""

    rate: float
    interval: float
    tolerance: float
    slack: float

    def _setup(self, rate: float, burst: float | None, headroom: float) -> None:
        self.capacity = _check(rate, burst, headroom)
        self.rate = float(rate)
        self.headroom = float(headroom)
        self.interval = 1.0 / (self.rate * (1.0 - self.headroom))
        self.tolerance = (self.capacity - 1.0) * self.interval
        # Per second's worth of sends, how late one may go out without crowding the provider's second.
        self.slack = self.rate * self.interval - 1.0 if self.capacity == 1 else 0.0

    def late(self, seconds: float) -> None:
        """A send went out `seconds` after its slot: move the rest back by what the slack can't hold."""
        if seconds > self.slack + _EPSILON:
            self.push(seconds - self.slack)

    def push(self, seconds: float) -> None:  # pragma: no cover - each limiter has its own
        raise NotImplementedError


class LocalRateLimiter(_Schedule):
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        headroom: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._setup(rate, burst, headroom)
        self._clock, self._sleep = clock, sleep
        self._tat = clock()  # the theoretical arrival time of the next send
        self._lock = threading.Lock()

    def _reserve(self, only_now: bool) -> float | None:
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            slot = max(now, tat - self.tolerance)
            if only_now and slot > now + _EPSILON:
                return None
            self._tat = tat + self.interval
            return slot - now

    def reserve(self) -> float:
        return self._reserve(False) or 0.0

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

    def try_acquire(self) -> bool:
        return self._reserve(True) is not None

    def _take(self) -> float:
        """Take a slot if one is free now (0.0), or say how long until one is (nothing taken)."""
        if self._reserve(True) is not None:
            return 0.0
        with self._lock:
            return max(self._tat, self._clock()) - self.tolerance - self._clock()

    def push(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._tat = max(self._tat, self._clock()) + seconds


# KEYS[1] the schedule; ARGV interval, tolerance, mode ("reserve" | "try" | "push"), amount[, now].
# Time comes from Redis so every worker shares one clock (the last ARGV lets tests drive it).
# reserve: the seconds until the caller's slot; try: 0 and the slot taken, or the seconds until one is
# free and nothing taken; push: moves the slots not yet handed out back by `amount`.
_SCRIPT = """
local now
if ARGV[5] then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local mode = ARGV[3]
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local result = 0
if mode == 'push' then
  tat = tat + tonumber(ARGV[4])
else
  local slot = math.max(now, tat - tolerance)
  if mode == 'try' and slot > now + 1e-9 then
    return string.format('%.17g', slot - now)
  end
  tat = tat + interval
  result = slot - now
end
redis.call('SET', KEYS[1], string.format('%.17g', tat), 'EX', 60)
return string.format('%.17g', result)
"""


class RedisRateLimiter(_Schedule):
    def __init__(self, url: str, rate: float, key: str | None = None, burst: float | None = None, *,
                 headroom: float = 0.0) -> None:
        import redis

        from groupsms.messaging import notify

        self._setup(rate, burst, headroom)
        self._client = redis.Redis.from_url(url)
        self._script = self._client.register_script(_SCRIPT)  # Script objects are thread-safe
        self._key = key or f"{notify.redis_prefix()}:sms-rate"

    def _call(self, mode: str, amount: float = 0.0, now: float | None = None) -> float:
        args = [repr(self.interval), repr(self.tolerance), mode, repr(amount)] + ([repr(now)] if now is not None else [])
        return float(self._script(keys=[self._key], args=args))

    def _try(self, now: float | None = None) -> float:
        """Take a slot if one is free now (0.0), or say how long until one is (nothing taken)."""
        return self._call("try", now=now)

    def reserve(self, now: float | None = None) -> float:
        return self._call("reserve", now=now)

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)

    def try_acquire(self) -> bool:
        return self._try() == 0.0

    def push(self, seconds: float, now: float | None = None) -> None:
        if seconds > 0:
            self._call("push", seconds, now=now)
