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
rate), which leaves room for a send that goes out a little late (a database turn, a thread that
woke late). Right before a send leaves, `sending()` counts it, and waits first in the rare case
where sends that left late would otherwise put more than `rate` into the second ending with it: only
that send waits, and the schedule stays where it was, so the time lost is what the window needs.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Protocol


_EPSILON = 1e-9


class RateLimiter(Protocol):
    rate: float

    def reserve(self) -> float:
        """Take the next slot; returns the seconds until it (0.0: now). The slot is the caller's."""

    def acquire(self) -> None:
        """Take the next slot and sleep until it."""

    def try_acquire(self) -> bool:
        """Take a slot only if one is free now; never waits."""

    def sending(self) -> None:
        """Right before a send leaves: wait until no second would hold more than `rate`, count it."""

    def push(self, seconds: float) -> None:
        """Move the slots not yet handed out back by `seconds`."""


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
    """What both limiters share: the interval between slots, the burst tolerance, the window."""

    rate: float
    interval: float
    tolerance: float
    window: int

    def _setup(self, rate: float, burst: float | None, headroom: float) -> None:
        self.capacity = _check(rate, burst, headroom)
        self.rate = float(rate)
        self.headroom = float(headroom)
        self.interval = 1.0 / (self.rate * (1.0 - self.headroom))
        self.tolerance = (self.capacity - 1.0) * self.interval
        # No second may hold more sends than this: a send leaves 1 s + `guard` after the one this many
        # before it. The guard is the room the headroom leaves (for the time a request takes to reach
        # the provider, which varies); without headroom, none.
        self.window = max(1, int(self.rate + _EPSILON))
        self.guard = max(0.0, self.window * self.interval - 1.0)

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
        self._sent: deque[float] = deque(maxlen=self.window)  # when the last `window` sends left
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

    def sending(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                sent = self._sent
                if len(sent) < self.window or now >= sent[0] + 1.0 + self.guard - _EPSILON:
                    sent.append(now)
                    return
                wait = sent[0] + 1.0 + self.guard - now
            self._sleep(wait)

    def push(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._tat = max(self._tat, self._clock()) + seconds


# KEYS[1] the schedule, KEYS[2] when the last sends left (a sorted set); ARGV interval, tolerance,
# mode, amount, now ("": Redis's clock, which every worker shares; tests drive their own), member.
# reserve: the seconds until the caller's slot; try: 0 and the slot taken, or the seconds until one is
# free and nothing taken; push: moves the slots not yet handed out back by `amount`; send: 0 and the
# send counted, or the seconds until the second ending then holds fewer than `amount` sends.
_SCRIPT = """
local now
if ARGV[5] ~= '' then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local mode = ARGV[3]
if mode == 'send' then
  local window = tonumber(ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 2)
  if redis.call('ZCARD', KEYS[2]) >= window then
    local nth = redis.call('ZREVRANGE', KEYS[2], window - 1, window - 1, 'WITHSCORES')
    local clear = tonumber(nth[2]) + 1 + tonumber(ARGV[7])
    if now < clear - 1e-9 then
      return string.format('%.17g', clear - now)
    end
  end
  redis.call('ZADD', KEYS[2], now, ARGV[6])
  redis.call('EXPIRE', KEYS[2], 60)
  return '0'
end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
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
        args = [repr(self.interval), repr(self.tolerance), mode, repr(amount), "" if now is None else repr(now),
                uuid.uuid4().hex, repr(self.guard)]
        return float(self._script(keys=[self._key, f"{self._key}:sent"], args=args))

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

    def _send(self, now: float | None = None) -> float:
        """Count a send leaving now (0.0), or say how long it must wait (nothing counted)."""
        return self._call("send", self.window, now=now)

    def sending(self) -> None:
        while (wait := self._send()) > 0:
            time.sleep(wait)

    def push(self, seconds: float, now: float | None = None) -> None:
        if seconds > 0:
            self._call("push", seconds, now=now)
