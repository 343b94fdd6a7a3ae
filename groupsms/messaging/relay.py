"""Storing a participant's reply in its group and relaying it to the others (R5, R10, E1)."""

from __future__ import annotations

import functools
import os
from datetime import timedelta

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from groupsms.domain.attribution import relay_labels, relay_text
from groupsms.domain.segments import check_relay_text
from groupsms.messaging import events, notify, outbox
from groupsms.messaging.optout import effective_lock, numbers_not_to_text
from groupsms.models import Group, Message, Participant, utcnow


def participants_of(s: Session, group_id: int) -> list[Participant]:
    return list(s.exec(_participants_statement(), params={"group_id": group_id}))


@functools.cache
def _participants_statement():
    """Built once, as the other statements every relay runs: building one costs more than running it."""
    return select(Participant).where(Participant.group_id == bindparam("group_id")).order_by(Participant.position)


def sender_in(participants: list[Participant], e164: str | None) -> Participant | None:
    return next((p for p in participants if p.e164 == e164), None)


DEFAULT_RELAY_LIMIT_PER_MINUTE = 20


def relay_limit_per_minute() -> int:
    return int(os.environ.get("GROUPSMS_RELAY_LIMIT_PER_MINUTE", DEFAULT_RELAY_LIMIT_PER_MINUTE))


def _held_for_rate(s: Session, message: Message) -> bool:
    """Past the relay limit for its sender the text is stored and shown but not relayed, with a
    notice: two automatic responders in one group would otherwise text each other for ever."""
    limit = relay_limit_per_minute()
    relayed = s.execute(_relayed_statement(), {
        "location_id": message.location_id, "from_e164": message.from_e164, "message_id": message.id,
        "since": utcnow() - timedelta(minutes=1)}).scalar_one()
    if relayed < limit:
        return False
    message.notice = f"Not relayed: more than {limit} texts a minute from this number (an automatic responder?)"
    return True


@functools.cache
def _relayed_statement():
    """How many texts of a sender were relayed in the last minute (`_held_for_rate`), built once."""
    return select(func.count(Message.id)).where(
        Message.location_id == bindparam("location_id"), Message.direction == "inbound",
        Message.from_e164 == bindparam("from_e164"), Message.sms_text.is_not(None),
        Message.id != bindparam("message_id"), Message.created_at >= bindparam("since"))


def attach_and_relay(s: Session, group: Group, message: Message, *, relay: bool = True) -> None:
    """Put an inbound message into `group`; unless the group is locked, relay it to the others
    (every participant but the sender's contact, whichever of its numbers it texted from)."""
    participants = participants_of(s, group.id)
    sender = sender_in(participants, message.from_e164)
    message.group_id = group.id
    message.routing = "routed"
    message.sender_participant_id = sender.id if sender else None
    group.last_activity_at = utcnow()
    s.add(group)
    recipients = []
    if relay and sender is not None and effective_lock(s, group) is None and not _held_for_rate(s, message):
        label = relay_labels({p.id: p.name for p in participants})[sender.id]
        sms_text = relay_text(label, message.body)
        refused = check_relay_text(sms_text)
        if refused:  # stored and shown to the business with why; nothing goes out
            message.notice = refused
        else:
            message.sms_text = sms_text
            others = [p for p in participants if p.contact_id != sender.contact_id]
            blocked = numbers_not_to_text(s, group.location_id, (p.e164 for p in others))
            recipients = [(p.id, p.e164) for p in others if p.e164 not in blocked]
    s.add(message)
    s.flush()
    outbox.queue(s, message, recipients, checked=True)  # the lock and opt-outs were asked above
    notify.publish(s, events.MessageAdded(message.location_id, group.id, message.id, inbound=True))
