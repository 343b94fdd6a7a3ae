"""Bearer tokens, scopes and the per-token rate limit.

`Authorization: Bearer <token>` is looked up (hashed) on every request: no token or an unknown,
revoked or deactivated one is 401; a token without the scope an endpoint needs is 403 (the user's own
role and data access still apply inside the services). Past GROUPSMS_API_RATE_PER_MINUTE requests
(default 300) in a minute a token gets 429 with `Retry-After`. The budget is kept per process: with
several backend workers each grants it.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from groupsms.api.problems import Problem
from groupsms.services import api_tokens
from groupsms.services.api_tokens import TokenGrant

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer gsm_...`")
DEFAULT_RATE_PER_MINUTE = 300


def rate_per_minute() -> int:
    return int(os.environ.get("GROUPSMS_API_RATE_PER_MINUTE", DEFAULT_RATE_PER_MINUTE))


class RateLimiter:
    """A sliding window of request times per token."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[int, deque[float]] = {}

    def check(self, token_id: int, limit: int, *, window: float = 60.0, now: float | None = None) -> float:
        """0 when the request may go ahead (and is counted), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.setdefault(token_id, deque())
            while seen and seen[0] <= now - window:
                seen.popleft()
            if len(seen) >= limit:
                return max(seen[0] + window - now, 0.001)
            seen.append(now)
            return 0.0

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


LIMITER = RateLimiter()


def _grant(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> TokenGrant:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "Send an API token as 'Authorization: Bearer <token>'",
                      headers={"WWW-Authenticate": "Bearer"})
    grant = api_tokens.authenticate(credentials.credentials)
    if grant is None:
        raise Problem(401, "The token is not valid (unknown, revoked, or its user is deactivated)",
                      headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    wait = LIMITER.check(grant.token_id, rate_per_minute())
    if wait:
        raise Problem(429, f"More than {rate_per_minute()} requests a minute with this token",
                      headers={"Retry-After": str(max(1, math.ceil(wait)))})
    return grant


def scope(name: str) -> Callable[..., TokenGrant]:
    """A dependency: the request's grant, which must carry scope `name` (403 otherwise)."""

    def needs(grant: TokenGrant = Depends(_grant)) -> TokenGrant:
        if not grant.allows(name):
            raise Problem(403, f"This token lacks the {name!r} scope", slug="missing-scope", scope=name)
        return grant

    needs.__name__ = f"scope_{name.replace(':', '_')}"
    return needs
