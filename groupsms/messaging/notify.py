"""One notifier for everything the browsers should see live (E4) and for waking the outbox worker.

Writers call `publish(session, change)`; listeners run only after that transaction commits, so
nobody is told about a message that was rolled back. Listeners must be quick and must not raise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from groupsms import db

log = logging.getLogger(__name__)

NEW_MESSAGE, STATUS, ROUTING = "message", "status", "routing"


@dataclass(frozen=True)
class Change:
    kind: str  # message | status | routing
    location_id: int
    group_id: int | None
    message_id: int


_listeners: list[Callable[[Change], None]] = []
_lock = threading.Lock()
# Set when deliveries were queued: the in-process worker wakes up instead of waiting for its poll.
outbox_ready = threading.Event()


def subscribe(listener: Callable[[Change], None]) -> Callable[[], None]:
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def _dispatch(change: Change) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(change)
        except Exception:  # a broken listener must not break the write that already committed
            log.exception("change listener failed for %s", change)


def publish(session: Session, change: Change) -> None:
    db.on_commit(session, lambda: _dispatch(change))


def wake_outbox(session: Session) -> None:
    db.on_commit(session, outbox_ready.set)
