"""One notifier for everything the browsers should see live (E4) and for waking the outbox worker.

Writers call `publish(session, event)` with a typed event (`messaging.events`); listeners run only
after that transaction commits, so nobody is told about a message that was rolled back. Listeners
must be quick and must not raise. Listeners that must write with the change (an integration's outbox)
subscribe with `subscribe_in_transaction` and run inside the writer's transaction.

With REFLEX_REDIS_URL set (several web workers, separate `groupsms worker` processes), changes go
through a Redis channel, so a receipt processed in one process reaches browsers served by another.
The channel (and the shared send-rate schedule) is named by GROUPSMS_REDIS_PREFIX, by default one
derived from the database URL: two installs, or two test runs, on one Redis don't hear each other.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable

from sqlmodel import Session

from groupsms import db
from groupsms.messaging.events import ChangeEvent, from_json

log = logging.getLogger(__name__)

_listeners: list[Callable[[ChangeEvent], None]] = []
_in_transaction: list[Callable[[Session, ChangeEvent], None]] = []
_lock = threading.Lock()
# Set when deliveries were queued: the in-process worker wakes up instead of waiting for its poll.
outbox_ready = threading.Event()
# Events of the in-process workers' loops, set with `outbox_ready` (a loop also wakes on its answers).
outbox_waiters: list[threading.Event] = []


def outbox_queued() -> None:
    """Deliveries were queued: wake the in-process workers."""
    outbox_ready.set()
    for waiter in list(outbox_waiters):
        waiter.set()


def redis_prefix() -> str:
    """What this install's Redis names start with: GROUPSMS_REDIS_PREFIX, else "groupsms:" and a hash
    of the database URL (every process of one install shares its database, so they agree)."""
    configured = os.environ.get("GROUPSMS_REDIS_PREFIX", "").strip()
    if configured:
        return configured
    from groupsms import config

    url = config.load().database_url  # as configured, so every process derives the same name
    return "groupsms:" + hashlib.sha256(url.encode()).hexdigest()[:12]


def channel() -> str:
    """The Redis channel this install's changes go through."""
    return f"{redis_prefix()}:changes"


class _RedisBus:
    """Publishes changes to a Redis channel; a daemon thread hands what arrives to local listeners."""

    def __init__(self, url: str, channel_name: str | None = None) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._listening = False
        self.channel = channel_name or channel()

    def publish(self, change: ChangeEvent) -> None:
        self._client.publish(self.channel, json.dumps(change.to_json()))

    def listen(self) -> None:
        if self._listening:
            return
        self._listening = True
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        threading.Thread(target=self._run, args=(pubsub,), name="groupsms-changes", daemon=True).start()

    def _run(self, pubsub) -> None:  # noqa: ANN001
        while True:
            try:
                for item in pubsub.listen():
                    try:
                        change = from_json(json.loads(item["data"]))
                    except (ValueError, TypeError):  # another version's event, or not ours
                        log.warning("change bus: ignored %.200r", item.get("data"))
                        continue
                    _dispatch(change)
            except Exception:  # a dropped connection: resubscribe and carry on
                log.exception("change bus: reconnecting")
                try:
                    pubsub.subscribe(self.channel)
                except Exception:
                    threading.Event().wait(1.0)


_bus: _RedisBus | None = None


def _get_bus() -> _RedisBus | None:
    global _bus
    url = os.environ.get("REFLEX_REDIS_URL")
    if url and _bus is None:
        with _lock:
            if _bus is None:
                _bus = _RedisBus(url)
    return _bus if url else None


def subscribe(listener: Callable[[ChangeEvent], None]) -> Callable[[], None]:
    with _lock:
        _listeners.append(listener)
    bus = _get_bus()
    if bus is not None:
        bus.listen()

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def _dispatch(change: ChangeEvent) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(change)
        except Exception:  # a broken listener must not break the write that already committed
            log.exception("change listener failed for %s", change)


def _fan_out(change: ChangeEvent) -> None:
    bus = _get_bus()
    if bus is None:
        _dispatch(change)
        return
    try:
        bus.publish(change)
    except Exception:  # Redis away: at least this process's browsers hear about it
        log.exception("change bus: publish failed")
        _dispatch(change)


def subscribe_in_transaction(listener: Callable[[Session, ChangeEvent], None]) -> Callable[[], None]:
    """`listener(session, event)` runs inside the writer's transaction, at `publish`: what it writes
    commits or rolls back with the change; an exception it raises fails the write."""
    with _lock:
        _in_transaction.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _in_transaction:
                _in_transaction.remove(listener)

    return unsubscribe


def publish(session: Session, change: ChangeEvent) -> None:
    if not isinstance(change, ChangeEvent):
        raise TypeError(f"publish needs a ChangeEvent, got {type(change).__name__}")
    with _lock:
        writers = list(_in_transaction)
    for writer in writers:
        writer(session, change)
    db.on_commit(session, lambda: _fan_out(change))


def wake_outbox(session: Session) -> None:
    db.on_commit(session, outbox_queued)
