"""Webhook events whose processing gave up after its retries: shown to the location's admins
(who may also try one again once the cause is fixed), and to the install owner by
`groupsms inbound failed`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from groupsms import db
from groupsms.errors import NotFound, ValidationError
from groupsms.messaging import inbound
from groupsms.models import BusinessNumber, Delivery, InboundEvent, Message, utcnow
from groupsms.services._base import Actor, acting_user, clean_limit, require

__all__ = ["FailedEvent", "list_failed_inbound_events", "failed_inbound_events", "retry_inbound_event"]


@dataclass(frozen=True)
class FailedEvent:
    id: int
    kind: str  # "inbound" (an SMS) or "status" (a delivery receipt)
    received_at: datetime
    gave_up_at: datetime
    attempts: int
    error: str
    summary: str  # "SMS from +15125550111 to +15125550100" / "Receipt delivered for d12"
    location_id: int | None


def _location_of(s: Session, event: InboundEvent, params: dict[str, str]) -> int | None:
    if event.kind == inbound.INBOUND:
        try:
            to = inbound._e164(params.get("to", ""), "to")
        except inbound.BadEvent:
            return None
        return s.exec(select(BusinessNumber.location_id).where(BusinessNumber.e164 == to)).first()
    ref = params.get("client-ref", "")
    if ref.startswith("d") and ref[1:].isdigit():
        delivery = s.get(Delivery, int(ref[1:]))
        if delivery is not None:
            return s.exec(select(Message.location_id).where(Message.id == delivery.message_id)).first()
    return None


def _summary(event: InboundEvent, params: dict[str, str]) -> str:
    if event.kind == inbound.INBOUND:
        return f"SMS from +{params.get('msisdn', '?').lstrip('+')} to +{params.get('to', '?').lstrip('+')}"
    return f"Receipt {params.get('status', '?')} for {params.get('client-ref') or params.get('messageId', '?')}"


def _failed(s: Session, limit: int) -> list[FailedEvent]:
    events = s.exec(select(InboundEvent).where(InboundEvent.gave_up_at.is_not(None))
                    .order_by(InboundEvent.gave_up_at.desc(), InboundEvent.id.desc()).limit(limit)).all()
    out = []
    for event in events:
        params = json.loads(event.payload)
        out.append(FailedEvent(event.id, event.kind, event.received_at, event.gave_up_at, event.attempts,
                               event.error or "", _summary(event, params), _location_of(s, event, params)))
    return out


# Given-up events are rare (each is a bug or an outage past the retries): scanning the newest few
# hundred and keeping the location's is enough.
_SCAN = 500


def list_failed_inbound_events(actor: Actor | None, limit: Any = 50) -> list[FailedEvent]:
    """The location's webhook events that could not be processed, newest first (admins)."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "audit", "read")
        wanted = clean_limit(limit, 50, 200)
        return [e for e in _failed(s, _SCAN) if e.location_id == user.location_id][:wanted]


def failed_inbound_events(limit: int = 100) -> list[FailedEvent]:
    """Every location's (the install owner's command line)."""
    with db.transaction() as s:
        return _failed(s, limit)


def retry_inbound_event(actor: Actor | None, event_id: Any) -> None:
    """Give a failed event a fresh set of retries (after the cause was fixed)."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "audit", "read")
        if isinstance(event_id, bool) or not isinstance(event_id, int):
            raise ValidationError("Event id must be a whole number", "event_id")
        event = s.get(InboundEvent, event_id)
        if event is None or event.gave_up_at is None or _location_of(
                s, event, json.loads(event.payload)) != user.location_id:
            raise NotFound("No such failed event")
        event.gave_up_at, event.attempts, event.next_attempt_at = None, 0, utcnow()
        s.add(event)
