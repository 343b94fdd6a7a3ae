"""Webhook events whose processing gave up after its retries: shown to the location's admins, who
may try one again once the cause is fixed. (`groupsms inbound failed` lists every location's.)"""

from __future__ import annotations

from typing import Any

from groupsms import db
from groupsms.errors import NotFound, ValidationError
from groupsms.messaging.inbound_failures import FailedEvent, location_of, newest
from groupsms.models import InboundEvent, utcnow
from groupsms.services._base import Actor, acting_user, clean_limit, require

__all__ = ["FailedEvent", "list_failed_inbound_events", "retry_inbound_event"]

# Given-up events are rare (each is a bug or an outage past the retries): scanning the newest few
# hundred and keeping the location's is enough.
_SCAN = 500


def list_failed_inbound_events(actor: Actor | None, limit: Any = 50) -> list[FailedEvent]:
    """The location's webhook events that could not be processed, newest first (admins)."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "audit", "read")
        wanted = clean_limit(limit, 50, 200)
        return [e for e in newest(s, _SCAN) if e.location_id == user.location_id][:wanted]


def retry_inbound_event(actor: Actor | None, event_id: Any) -> None:
    """Give a failed event a fresh set of retries (after the cause was fixed)."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "audit", "read")
        if isinstance(event_id, bool) or not isinstance(event_id, int):
            raise ValidationError("Event id must be a whole number", "event_id")
        event = s.get(InboundEvent, event_id)
        if event is None or event.gave_up_at is None or location_of(s, event) != user.location_id:
            raise NotFound("No such failed event")
        event.gave_up_at, event.attempts, event.next_attempt_at = None, 0, utcnow()
        s.add(event)
