"""Webhook events whose processing gave up after its retries, as stored, with the location each
belongs to (an SMS: the number it came to; a receipt: the delivery it is about). No access checks:
`services/inbound_events.py` filters by location for admins; `groupsms inbound failed` shows all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from groupsms import db
from groupsms.messaging import inbound
from groupsms.messaging.transport import InboundText, Receipt
from groupsms.models import BusinessNumber, Delivery, InboundEvent, Message


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


def _decoded(event: InboundEvent) -> InboundText | Receipt | None:
    try:
        return inbound.decode(event)
    except (ValueError, KeyError, TypeError):  # BadEvent included: stored before a stricter check
        return None


def location_of(s: Session, event: InboundEvent) -> int | None:
    item = _decoded(event)
    if isinstance(item, InboundText):
        return s.exec(select(BusinessNumber.location_id).where(BusinessNumber.e164 == item.to)).first()
    ref = item.client_ref if isinstance(item, Receipt) else None
    if ref and ref.startswith("d") and ref[1:].isdigit():
        delivery = s.get(Delivery, int(ref[1:]))
        if delivery is not None:
            return s.exec(select(Message.location_id).where(Message.id == delivery.message_id)).first()
    return None


def _summary(event: InboundEvent) -> str:
    item = _decoded(event)
    if isinstance(item, InboundText):
        return f"SMS from {item.sender} to {item.to}"
    if isinstance(item, Receipt):
        return f"Receipt {item.status} for {item.client_ref or item.provider_message_id}"
    return f"{'SMS' if event.kind == inbound.INBOUND else 'Receipt'} that can no longer be read"


def newest(s: Session, limit: int) -> list[FailedEvent]:
    events = s.exec(select(InboundEvent).where(InboundEvent.gave_up_at.is_not(None))
                    .order_by(InboundEvent.gave_up_at.desc(), InboundEvent.id.desc()).limit(limit)).all()
    return [FailedEvent(e.id, e.kind, e.received_at, e.gave_up_at, e.attempts, e.error or "", _summary(e),
                        location_of(s, e)) for e in events]


def failed_events(limit: int = 100) -> list[FailedEvent]:
    """Every location's, newest first (the install owner's command line)."""
    with db.transaction() as s:
        return newest(s, limit)
