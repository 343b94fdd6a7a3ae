"""Writing to the outbox: a message's deliveries are rows in the same transaction as the message.

The worker (`messaging/worker.py`) drains them; nothing here talks to the provider.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from groupsms.domain import delivery as states
from groupsms.messaging import notify
from groupsms.models import Delivery, Message, utcnow


def queue(
    s: Session,
    message: Message,
    recipients: Iterable[tuple[int | None, str]],
    *,
    opt_out_confirmation: bool = False,
) -> list[Delivery]:
    """One delivery row per (participant id, E.164) recipient, due now.

    Relays and automatic replies (to an inbound text) go ahead of sends typed in the app; each row's
    lane is its (business number, recipient) pair, which the worker sends one at a time, in order.
    """
    now = utcnow()
    priority = states.PRIORITY_TYPED if message.direction == "outbound" and message.routing != "system" else states.PRIORITY_REPLY
    rows = [
        Delivery(
            message_id=message.id, participant_id=pid, to_e164=e164, status=states.QUEUED,
            next_attempt_at=now, opt_out_confirmation=opt_out_confirmation,
            lane=lane(message.business_number_id, e164), priority=priority,
        )
        for pid, e164 in recipients
    ]
    s.add_all(rows)
    message.status = states.QUEUED if rows else states.NONE
    s.add(message)
    s.flush()
    notify.wake_outbox(s)
    return rows


def lane(business_number_id: int, to_e164: str) -> str:
    return f"{business_number_id}:{to_e164}"


def refresh_status(s: Session, message_id: int) -> str:
    """Recompute a message's aggregate from its deliveries (E3).

    The message row is locked first: two deliveries settling at once would otherwise each see the
    other still queued and both store a stale aggregate.
    """
    message = s.exec(select(Message).where(Message.id == message_id).with_for_update()).one()
    statuses = s.exec(select(Delivery.status).where(Delivery.message_id == message_id)).all()
    status = states.aggregate(statuses)
    if message.status != status:
        message.status = status
        s.add(message)
        notify.publish(s, notify.Change(notify.STATUS, message.location_id, message.group_id, message.id))
    return status
