"""Sign-in, sessions and sign-out. The browser keeps a random token; the database keeps its hash.

Signing in takes three steps so that the slow part holds nothing another request needs:

1. a short transaction checks the throttles and reads the user's password hash;
2. argon2 verifies the password with no transaction open (on SQLite a transaction holds the write
   lock), on a small thread pool of its own (`sign_in_async`), so a flood of sign-ins can neither
   stall the event loop nor use up the threads every other handler relies on;
3. a second short transaction records the failure, or creates the session.

Every lookup asks the database, but a caller may accept an answer of the last few seconds
(`actor_for_token(token, cached=True)`, `SESSION_CACHE_SECONDS`): the page handlers that neither
read nor write anything (the composer's counter, one event per keystroke) do, so typing costs no
transaction. Any write in this process to a user or to a session (sign-out, deactivation, a role,
data access or password change, an expired session deleted) empties the cache when it commits;
another process of the same install sees such a change in its cached answers at the latest when
their few seconds run out, and in every other lookup at once.

Throttles are delays, never locks: after a few failures, each key (the email, the client address,
the whole install) must wait before its next try, and the wait doubles with every further failure
up to a cap. A stranger who knows an email can make its owner wait at most `EMAIL.cap` seconds,
and only from their own failures: refused tries are not counted, so they cannot grow the wait.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, event, func
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, select

from groupsms import config, db
from groupsms.domain.clock import valid_zone
from groupsms.errors import AuthError
from groupsms.models import AuthSession, LoginAttempt, User, utcnow
from groupsms.security import new_token, token_hash, verify_password
from groupsms.services._base import Actor, acting_user, audit

# Failures older than this are forgotten by every throttle.
THROTTLE_WINDOW = timedelta(minutes=15)
# A session's last-seen time is written at most this often (a write per request would be wasteful).
TOUCH_EVERY = timedelta(minutes=1)
DEFAULT_IDLE_HOURS = 12.0
# Sign-ins verifying at once, and waiting for a verifier, per process. Argon2 is CPU- and
# memory-heavy by design: half the cores at most, so webhooks and pages keep the rest
# (bench/signin_flood.py: on 2 cores, 1 verifier served webhooks faster than 2, and signed in more).
HASH_WORKERS = max(1, (os.cpu_count() or 2) // 2)
MAX_WAITING_SIGN_INS = 64

# How long a looked-up session is trusted without asking the database again (see the module doc).
SESSION_CACHE_SECONDS = 5.0

__all__ = ["sign_in", "sign_in_async", "actor_for_token", "sign_out", "SignInThrottled", "SESSION_CACHE"]


@dataclass(frozen=True)
class Throttle:
    """`free` failures in the window cost nothing; then the wait after the latest failure is
    `base * 2 ** (failures - free)` seconds, at most `cap`."""

    what: str
    free: int
    base: float
    cap: float

    def wait(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap, self.base * 2 ** min(failures - self.free, 30))


EMAIL = Throttle("this email", free=5, base=2.0, cap=120.0)
CLIENT = Throttle("this device", free=10, base=2.0, cap=900.0)
# Only a flood from many places at once reaches this; it bounds the hashing work of the install.
GLOBAL = Throttle("this site", free=500, base=0.25, cap=5.0)


class SignInThrottled(AuthError):
    """Too many recent failures for the email, the client or the install: try again later."""

    def __init__(self, throttle: Throttle, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        self.throttle = throttle
        unit = "second" if self.retry_after == 1 else "seconds"
        super().__init__(f"Too many failed sign-ins from {throttle.what}. Try again in {self.retry_after} {unit}.")


class SignInBusy(AuthError):
    def __init__(self) -> None:
        super().__init__("Too many sign-ins at once right now. Try again in a few seconds.")


def _idle_limit() -> timedelta:
    """How long a session may go unused (GROUPSMS_SESSION_IDLE_HOURS, default 12)."""
    raw = os.environ.get("GROUPSMS_SESSION_IDLE_HOURS", "")
    if not raw.strip():
        return timedelta(hours=DEFAULT_IDLE_HOURS)
    try:
        hours = float(raw)
    except ValueError:
        raise SystemExit(f"GROUPSMS_SESSION_IDLE_HOURS must be a number of hours, got {raw!r}") from None
    if not math.isfinite(hours) or hours <= 0:
        raise SystemExit(f"GROUPSMS_SESSION_IDLE_HOURS must be a positive number of hours, got {raw!r}")
    return timedelta(hours=hours)


# -- sign-in --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attempt:
    email: str
    password: str
    client: str | None
    password_hash: str | None  # None: no such user (a dummy hash is verified, for equal timing)
    browser_zone: str = ""  # what the sign-in form read from the browser (see `_browser`)
    browser_locale: str = ""


_MAX_LOCALE = 35  # the column's width
_LOCALE = re.compile(r"[A-Za-z0-9]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def _browser(zone: object, locale: object) -> tuple[str, str]:
    """The browser's IANA zone and BCP 47 locale as reported by the sign-in page; anything that is
    not one (an unknown zone, a malformed or overlong locale) is dropped, never stored."""
    clean_zone = zone.strip() if isinstance(zone, str) else ""
    if not clean_zone or not valid_zone(clean_zone):
        clean_zone = ""
    clean_locale = locale.strip() if isinstance(locale, str) else ""
    if len(clean_locale) > _MAX_LOCALE or not _LOCALE.fullmatch(clean_locale):
        clean_locale = ""
    return clean_zone, clean_locale


def _clean(email: object, password: object, client: object) -> tuple[str, str, str | None]:
    if not isinstance(email, str) or not isinstance(password, str) or not email.strip() or not password:
        raise AuthError("Enter your email and password")
    clean_client = client.strip()[:64] if isinstance(client, str) and client.strip() else None
    return email.strip().lower()[:254], password[:256], clean_client


def _enforce(s: Session, throttle: Throttle, now: datetime, *where) -> None:
    """Refuse (without counting it) a try made before the throttle's wait is over."""
    count, latest = s.exec(
        select(func.count(), func.max(LoginAttempt.at)).select_from(LoginAttempt)
        .where(LoginAttempt.at > now - THROTTLE_WINDOW, *where)
    ).one()
    wait = throttle.wait(count)
    if wait and latest is not None:
        left = (latest + timedelta(seconds=wait) - now).total_seconds()
        if left > 0:
            raise SignInThrottled(throttle, left)


def _check_throttles(s: Session, email: str, client: str | None, now: datetime) -> None:
    _enforce(s, GLOBAL, now)
    if client is not None:
        _enforce(s, CLIENT, now, LoginAttempt.client == client)
    _enforce(s, EMAIL, now, LoginAttempt.email == email)


def _check_email_throttle(s: Session, email: str) -> None:
    """The email's throttle alone (for checks of a password outside signing in)."""
    _enforce(s, EMAIL, utcnow(), LoginAttempt.email == email.lower())


def _prepare(email: object, password: object, client: object, zone: object = "",
             locale: object = "") -> _Attempt:
    """Step 1 (short transaction): throttles, then the stored hash."""
    email, password, client = _clean(email, password, client)
    zone, locale = _browser(zone, locale)
    with db.transaction() as s:
        _check_throttles(s, email, client, utcnow())
        user = s.exec(select(User).where(func.lower(User.email) == email)).first()
        return _Attempt(email, password, client, user.password_hash if user else None, zone, locale)


def _finish(attempt: _Attempt, ok: bool) -> tuple[str, Actor]:
    """Step 3 (short transaction): a session, or a recorded failure."""
    now = utcnow()
    with db.transaction() as s:
        user = s.exec(select(User).where(func.lower(User.email) == attempt.email)).first()
        # The hash must still be the one verified: a password changed meanwhile wins.
        if ok and user is not None and user.password_hash == attempt.password_hash:
            if not user.is_active:
                raise AuthError("This account is deactivated. Ask an admin of your location.")
            token = new_token()
            days = config.load().session_days
            row = AuthSession(user_id=user.id, token_hash=token_hash(token), expires_at=now + timedelta(days=days),
                              last_seen_at=now, browser_zone=attempt.browser_zone,
                              browser_locale=attempt.browser_locale)
            s.add(row)
            s.exec(delete(LoginAttempt).where(LoginAttempt.email == attempt.email))
            audit(s, user, "session.signed_in", "user", user.id)
            return token, Actor.of(user, row)
        s.add(LoginAttempt(email=attempt.email, client=attempt.client, at=now))
    raise AuthError("Wrong email or password")


def sign_in(email: object, password: object, client: object = None, browser_zone: object = "",
            browser_locale: object = "") -> tuple[str, Actor]:
    """Check the credentials; return a new session token and the actor. `client` is the address
    the attempt came from (throttled on its own); `browser_zone` and `browser_locale` are what the
    browser reported (its IANA zone, its locale with the hour cycle), kept on the session for the
    times it shows when the profile sets none. Runs in the calling thread (CLI, tests)."""
    attempt = _prepare(email, password, client, browser_zone, browser_locale)
    ok = verify_password(attempt.password_hash, attempt.password)
    return _finish(attempt, ok)


_hash_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_waiting = 0


def _pool() -> ThreadPoolExecutor:
    global _hash_pool
    with _pool_lock:
        if _hash_pool is None:
            _hash_pool = ThreadPoolExecutor(HASH_WORKERS, thread_name_prefix="groupsms-password")
        return _hash_pool


async def sign_in_async(email: object, password: object, client: object = None, browser_zone: object = "",
                        browser_locale: object = "") -> tuple[str, Actor]:
    """`sign_in` for the web app: the database steps on the default thread pool, the hash on a
    pool of its own, and at most MAX_WAITING_SIGN_INS waiting for it (the rest are refused)."""
    global _waiting
    attempt = await asyncio.to_thread(_prepare, email, password, client, browser_zone, browser_locale)
    with _pool_lock:
        if _waiting >= MAX_WAITING_SIGN_INS:
            raise SignInBusy()
        _waiting += 1
    try:
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(_pool(), verify_password, attempt.password_hash, attempt.password)
    finally:
        with _pool_lock:
            _waiting -= 1
    return await asyncio.to_thread(_finish, attempt, ok)


# -- sessions -------------------------------------------------------------------------------------


class _SessionCache:
    """token hash -> (actor, trusted until). A generation number, bumped by every invalidation,
    keeps a lookup that raced a sign-out from storing what it read before the sign-out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Actor, datetime]] = {}
        self.generation = 0

    def get(self, key: str, now: datetime) -> Actor | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if now >= entry[1]:
                del self._entries[key]
                return None
            return entry[0]

    def put(self, key: str, actor: Actor, until: datetime, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= 10_000:  # stale entries of many browsers: start again
                self._entries.clear()
            self._entries[key] = (actor, until)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()


# `SESSION_CACHE.clear()`: ask the database again on the next lookup of every session. Writes to
# users and sessions through the ORM clear it on commit (below); code that changes them some other
# way (raw SQL) calls it.
SESSION_CACHE = _SessionCache()


_CHANGED = "groupsms_sessions_changed"
_WATCHED_TABLES = (User.__table__, AuthSession.__table__)


def _changes_what_a_lookup_answers(obj: object) -> bool:
    if isinstance(obj, User):
        return True
    # A session's last-seen touch (every lookup, once a minute) changes nothing a lookup answers.
    return isinstance(obj, AuthSession) and any(
        attr.history.has_changes() for attr in sa_inspect(obj).attrs if attr.key != "last_seen_at"
    )


@event.listens_for(Session, "after_flush")
def _note_user_or_session_changes(session: Session, _context) -> None:  # noqa: ANN001
    if any(isinstance(o, (User, AuthSession)) for o in session.deleted) or any(
        _changes_what_a_lookup_answers(o) for o in session.dirty
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state) -> None:  # noqa: ANN001
    if state.is_update or state.is_delete:
        mapper = state.bind_arguments.get("mapper")
        table = getattr(state.statement, "table", None)
        if (mapper is not None and mapper.class_ in (User, AuthSession)) or table in _WATCHED_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _forget_on_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        SESSION_CACHE.clear()


@event.listens_for(Session, "after_rollback")
def _keep_on_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def actor_for_token(token: object, *, cached: bool = False) -> Actor | None:
    """The actor of a live session, or None for a missing, unknown, expired or idle token.
    `cached`: an answer of the last `SESSION_CACHE_SECONDS` will do (see the module doc)."""
    if not isinstance(token, str) or not (20 <= len(token) <= 100):
        return None
    key = token_hash(token)
    now = utcnow()
    if cached and (actor := SESSION_CACHE.get(key, now)) is not None:
        return actor
    generation = SESSION_CACHE.generation
    with db.transaction() as s:
        row = s.exec(select(AuthSession).where(AuthSession.token_hash == key)).first()
        if row is None:
            return None
        if row.expires_at <= now or now - row.last_seen_at > _idle_limit():
            s.delete(row)  # gone for good: an idle session does not come back
            return None
        user = s.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
            s.add(row)
        actor = Actor.of(user, row)
        until = min(now + timedelta(seconds=SESSION_CACHE_SECONDS), row.expires_at)
    SESSION_CACHE.put(key, actor, until, generation)
    return actor


def sign_out(actor: Actor | None, token: object) -> None:
    """End the actor's session identified by `token` (other sessions of theirs stay)."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        if isinstance(token, str):
            s.exec(
                delete(AuthSession).where(
                    AuthSession.token_hash == token_hash(token), AuthSession.user_id == user.id
                )
            )
        audit(s, user, "session.signed_out", "user", user.id)
