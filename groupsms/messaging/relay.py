"""Storing a participant's reply in its group and relaying it to the others (R5, R10, E1)."""

from __future__ import annotations

from sqlmodel import Session, select

from groupsms.domain.attribution import relay_labels, relay_text
from groupsms.domain.segments import check_relay_text
from groupsms.messaging import notify, outbox
from groupsms.models import Group, Message, Participant, utcnow
from groupsms.services._dnd import effective_lock, number_opted_out


def participants_of(s: Session, group_id: int) -> list[Participant]:
    return list(s.exec(select(Participant).where(Participant.group_id == group_id).order_by(Participant.position)))


def sender_in(participants: list[Participant], e164: str | None) -> Participant | None:
    return next((p for p in participants if p.e164 == e164), None)


def attach_and_relay(s: Session, group: Group, message: Message, *, relay: bool = True) -> None:
    """Put an inbound message into `group`; unless the group is locked, relay it to the others."""
    participants = participants_of(s, group.id)
    sender = sender_in(participants, message.from_e164)
    message.group_id = group.id
    message.routing = "routed"
    message.sender_participant_id = sender.id if sender else None
    group.last_activity_at = utcnow()
    s.add(group)
    recipients = []
    if relay and sender is not None and effective_lock(s, group) is None:
        label = relay_labels({p.id: p.name for p in participants})[sender.id]
        sms_text = relay_text(label, message.body)
        refused = check_relay_text(sms_text)
        if refused:  # stored and shown to the business with why; nothing goes out
            message.notice = refused
        else:
            message.sms_text = sms_text
            recipients = [
                (p.id, p.e164) for p in participants
                if p.id != sender.id and not number_opted_out(s, group.location_id, p.e164)
            ]
    s.add(message)
    s.flush()
    outbox.queue(s, message, recipients)
    notify.publish(s, notify.Change(notify.NEW_MESSAGE, message.location_id, group.id, message.id))
