"""Messages of a group: send (R4, R13), read a page of history, delivery details (E3), and the
"needs routing" queue (E2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import access_group, clean_id
from groupsms.domain import routing as routes
from groupsms.domain.attribution import short_labels
from groupsms.domain.phones import format_display
from groupsms.domain.segments import check_message_text, count_segments
from groupsms.errors import Forbidden, NotFound, ValidationError
from groupsms.messaging import notify, outbox, relay
from groupsms.models import (
    BusinessNumber,
    Contact,
    Delivery,
    Group,
    Message,
    Participant,
    User,
    utcnow,
)
from groupsms.services._base import Actor, acting_user, audit, clean_limit, require
from groupsms.services._dnd import active_group_clause, number_opted_out
from groupsms.services.groups import _send_block_reason

__all__ = [
    "MessageView", "DeliveryView", "RoutingItem",
    "send_message", "list_messages", "message_deliveries", "list_needs_routing", "assign_inbound",
]


@dataclass(frozen=True)
class MessageView:
    id: int
    group_id: int
    direction: str  # outbound | inbound
    body: str
    sender: str  # the user's name, or the participant's label
    created_at: datetime
    status: str  # E3 aggregate
    relayed: bool


@dataclass(frozen=True)
class DeliveryView:
    participant: str
    display: str
    status: str
    error: str | None
    updated_at: datetime


@dataclass(frozen=True)
class RoutingItem:
    message_id: int
    from_name: str  # the contact (of those the actor may see) with this number, else ""
    from_display: str
    number_display: str
    body: str
    received_at: datetime
    candidate_group_ids: tuple[int, ...]


def send_message(actor: Actor | None, group_id: Any, text: Any) -> int:
    """R4: one SMS per participant from the group's business number, queued in this transaction."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        group = access_group(s, user, group_id)
        blocked = _send_block_reason(s, user, group)
        if blocked:
            raise Forbidden(blocked)
        if not isinstance(text, str):
            raise ValidationError("Message must be text", "message")
        text = text.strip()
        problem = check_message_text(text)
        if problem:
            raise ValidationError(problem, "message")
        message = Message(
            location_id=group.location_id, group_id=group.id, business_number_id=group.business_number_id,
            direction="outbound", body=text, sender_user_id=user.id,
        )
        s.add(message)
        s.flush()
        recipients = [
            (p.id, p.e164) for p in relay.participants_of(s, group.id)
            if not number_opted_out(s, group.location_id, p.e164)
        ]
        outbox.queue(s, message, recipients)
        group.last_activity_at = utcnow()
        s.add(group)
        audit(s, user, "message.sent", "message", message.id, group=group.id,
              segments=count_segments(text).segments, recipients=len(recipients))
        notify.publish(s, notify.Change(notify.NEW_MESSAGE, group.location_id, group.id, message.id))
        return message.id


def _views(s: Session, group: Group, messages: list[Message]) -> list[MessageView]:
    participants = relay.participants_of(s, group.id)
    labels = short_labels({p.id: p.name for p in participants})
    user_ids = {m.sender_user_id for m in messages if m.sender_user_id}
    names = {u.id: u.name for u in s.exec(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    out = []
    for m in messages:
        if m.direction == "outbound":
            sender = names.get(m.sender_user_id, "Automatic reply")
        else:
            sender = labels.get(m.sender_participant_id) or format_display(m.from_e164 or "")
        out.append(MessageView(m.id, group.id, m.direction, m.body, sender, m.created_at, m.status,
                               m.direction == "inbound" and m.sms_text is not None))
    return out


def list_messages(actor: Actor | None, group_id: Any, before_id: Any = None, limit: Any = 30) -> list[MessageView]:
    """One page of a group's history, oldest first; pass the oldest id shown to get the page before."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        group = access_group(s, user, group_id)
        query = select(Message).where(Message.group_id == group.id)
        if before_id is not None:
            query = query.where(Message.id < clean_id(before_id, "Message"))
        rows = s.exec(query.order_by(Message.id.desc()).limit(clean_limit(limit, 30, 100))).all()
        return _views(s, group, list(reversed(rows)))


def message_deliveries(actor: Actor | None, message_id: Any) -> list[DeliveryView]:
    """E3: each participant's status for one message."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        message = s.get(Message, clean_id(message_id, "Message"))
        if message is None or message.group_id is None:
            raise NotFound("Message")
        try:
            access_group(s, user, message.group_id)
        except NotFound:
            raise NotFound("Message") from None
        rows = s.exec(
            select(Delivery, Participant)
            .join(Participant, Participant.id == Delivery.participant_id, isouter=True)
            .where(Delivery.message_id == message.id).order_by(Delivery.id)
        )
        return [
            DeliveryView(p.name if p else format_display(d.to_e164), format_display(d.to_e164), d.status,
                         " ".join(x for x in (d.error_code, d.error_text) if x) or None, d.updated_at)
            for d, p in rows
        ]


def _candidates(s: Session, message: Message) -> list[int]:
    return sorted(s.exec(
        select(Group.id).join(Participant, Participant.group_id == Group.id).where(
            Group.business_number_id == message.business_number_id,
            active_group_clause(), Participant.e164 == message.from_e164,
        ).distinct()
    ).all())


def list_needs_routing(actor: Actor | None, limit: Any = 50) -> list[RoutingItem]:
    """E2: inbound messages waiting for a person to pick their group, on numbers the actor can use."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        rows = s.exec(
            select(Message, BusinessNumber)
            .join(BusinessNumber, BusinessNumber.id == Message.business_number_id)
            .where(Message.routing == routes.NEEDS_ROUTING, scopes.number_access_clause(user))
            .order_by(Message.id.desc()).limit(clean_limit(limit))
        ).all()
        visible = set(s.exec(select(Group.id).where(scopes.group_visibility_clause(user))).all())
        senders = {m.from_e164 for m, _ in rows}
        names = {}
        for c in s.exec(scopes.contacts_for(user).where(or_(Contact.primary_phone.in_(senders),
                                                           Contact.secondary_phone.in_(senders)))):
            for e164 in (c.primary_phone, c.secondary_phone):
                names.setdefault(e164, c.name)
        return [
            RoutingItem(m.id, names.get(m.from_e164, ""), format_display(m.from_e164 or ""), format_display(n.e164),
                        m.body, m.created_at, tuple(g for g in _candidates(s, m) if g in visible))
            for m, n in rows
        ]


def assign_inbound(actor: Actor | None, message_id: Any, group_id: Any) -> None:
    """E2: put a needs-routing message into one of its candidate groups, then store and relay it."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        message = s.exec(
            select(Message).join(BusinessNumber, BusinessNumber.id == Message.business_number_id).where(
                Message.id == clean_id(message_id, "Message"), Message.routing == routes.NEEDS_ROUTING,
                scopes.number_access_clause(user),
            ).with_for_update()
        ).first()
        if message is None:
            raise NotFound("Message")
        group = access_group(s, user, group_id)
        if group.id not in _candidates(s, message):
            raise ValidationError("That group does not have this sender on this number", "group")
        relay.attach_and_relay(s, group, message)
        audit(s, user, "message.routed", "message", message.id, group=group.id)
