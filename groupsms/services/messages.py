"""Messages of a group: send (R4, R13), read a page of history, delivery details (E3), the
"needs routing" queue and the "Other texts" list (E2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, not_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import access_group, access_message, clean_id, usable_number
from groupsms.access.sending import send_block_reason
from groupsms.domain import keywords
from groupsms.domain import routing as routes
from groupsms.domain.attribution import short_labels
from groupsms.domain.groups import group_title
from groupsms.domain.delivery import parts_note
from groupsms.domain.phones import format_display
from groupsms.domain.encoding import smart_encode
from groupsms.domain.segments import check_message_text, sms_segments
from groupsms.errors import Forbidden, NotFound, ValidationError
from groupsms.messaging import events, notify, outbox, relay
from groupsms.messaging.optout import active_group_clause, active_opt_outs, lock_of, numbers_not_to_text
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

__all__ = [
    "MessageView", "DeliveryView", "RoutingItem", "RoutingCandidate", "RecentMessage",
    "send_message", "list_messages", "message_deliveries", "list_needs_routing", "assign_inbound",
    "count_needs_routing_for_others", "OtherText", "list_other_texts", "get_other_text", "dismiss_other_text",
]

# Replies waiting for routing looked at per call: the queue is short (a person empties it).
_ROUTING_SCAN = 500


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
    notice: str = ""  # why it was not relayed, shown to the business
    kind: str = "text"  # text | intro (the text every participant got when the group was created)


@dataclass(frozen=True)
class DeliveryView:
    participant: str
    display: str
    status: str
    error: str | None
    updated_at: datetime
    parts: str | None = None  # a long SMS only partly accepted: "2 of 3 parts accepted"


@dataclass(frozen=True)
class RecentMessage:
    """One of the last messages of a candidate group, to recognise the conversation by."""

    sender: str  # the user's name, or the participant's label
    body: str
    at: datetime
    direction: str  # outbound | inbound


@dataclass(frozen=True)
class RoutingCandidate:
    """A group a waiting reply may be routed to, as the person choosing needs to see it."""

    group_id: int
    name: str  # the group's own name, "" when it has none
    title: str  # its name, else its participants' names
    participants: tuple[str, ...]  # every participant's name, in order
    sender: str  # the sender's label in this group ("Carla")
    # Who gets the reply by SMS if it is routed here: the other participants, less numbers that
    # opted out or that a contact with DND holds (what the relay leaves out).
    recipients: tuple[str, ...]
    recent: tuple[RecentMessage, ...]  # its last messages, oldest first


@dataclass(frozen=True)
class RoutingItem:
    message_id: int
    from_name: str  # the contact (of those the actor may see) with this number, else ""
    from_display: str
    number_display: str
    body: str
    received_at: datetime
    candidate_group_ids: tuple[int, ...]
    # Each candidate's title (its name, else its participants' names), in the order of `candidate_group_ids`.
    candidate_titles: tuple[str, ...] = ()
    candidates: tuple[RoutingCandidate, ...] = ()  # the same groups, with what identifies them


@dataclass(frozen=True)
class OtherText:
    """An inbound text from a number in no group (E2 "Other texts")."""

    message_id: int
    from_name: str  # a contact (of those the actor may see) with this number, else ""
    from_display: str
    number_id: int
    number_display: str
    number_label: str
    body: str
    received_at: datetime
    contact_id: int | None  # that contact, for "Start a group"
    which: str | None  # which of its numbers texted: primary | secondary


# A compose's single-use key (the page makes a URL-safe random token per compose).
_CLIENT_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _clean_client_key(key: Any) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not _CLIENT_KEY.fullmatch(key):
        raise ValidationError("Compose key must be 16 to 64 letters, digits, '-' or '_'", "client_key")
    return key


def _composed(s: Session, user: User, group: Group, key: str | None) -> int | None:
    """The message this compose already sent (a double click, a retried event), else None."""
    if key is None:
        return None
    found = s.exec(select(Message).where(Message.sender_user_id == user.id, Message.client_key == key)).first()
    if found is None:
        return None
    if found.group_id != group.id:
        raise ValidationError("This compose key was already used in another conversation", "client_key")
    return found.id


def send_message(actor: Actor | None, group_id: Any, text: Any, client_key: Any = None) -> int:
    """R4: one SMS per participant from the group's business number, queued in this transaction.

    One compose sends one message: a call with the `client_key` of a message this user already
    sent returns that message's id and queues nothing (also when two such calls race: the unique
    (sender, key) index lets one through). Without a key (scripts) every call sends.
    """
    try:
        return _send_message(actor, group_id, text, client_key)
    except IntegrityError:
        if client_key is None:
            raise
        with db.read() as s:  # the racing call committed first: answer with its message
            user = acting_user(s, actor)
            existing = _composed(s, user, access_group(s, user, group_id), client_key)
        if existing is None:
            raise
        return existing


def _send_message(actor: Actor | None, group_id: Any, text: Any, client_key: Any) -> int:
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        group = access_group(s, user, group_id)
        key = _clean_client_key(client_key)
        already = _composed(s, user, group, key)
        if already is not None:
            return already
        rows = list(s.exec(
            select(Participant, Contact).join(Contact, Contact.id == Participant.contact_id)
            .where(Participant.group_id == group.id).order_by(Participant.position)
        ).all())
        locked = lock_of(group, rows, active_opt_outs(s, group.location_id, [p.e164 for p, _ in rows]))
        blocked = send_block_reason(s, user, group, locked=locked,
                                    number=usable_number(s, user, group.business_number_id))
        if blocked:
            raise Forbidden(blocked)
        if not isinstance(text, str):
            raise ValidationError("Message must be text", "message")
        text = text.strip()
        problem = check_message_text(text)
        if problem:
            raise ValidationError(problem, "message")
        sms_text = smart_encode(text)  # what goes out; the conversation shows what was typed
        message = Message(
            location_id=group.location_id, group_id=group.id, business_number_id=group.business_number_id,
            direction="outbound", body=text, sender_user_id=user.id, client_key=key,
            sms_text=sms_text if sms_text != text else None,
        )
        s.add(message)
        s.flush()
        recipients = _queue_to_participants(s, message, [p for p, _ in rows], checked=True)  # lock asked above
        group.last_activity_at = utcnow()
        s.add(group)
        audit(s, user, "message.sent", "message", message.id, group=group.id,
              segments=sms_segments(text).segments, recipients=len(recipients))
        notify.publish(s, events.MessageAdded(group.location_id, group.id, message.id))
        return message.id


def _queue_to_participants(s: Session, message: Message, participants: list[Participant], *,
                           checked: bool = False) -> list[outbox.Row]:
    """One SMS of `message` per participant, queued in the outbox (typed messages and the intro
    sent at creation): E1, none to a number that opted out or that a contact with DND holds (one
    statement). `checked`: the caller found the group not locked in this transaction."""
    not_to_text = numbers_not_to_text(s, message.location_id, [p.e164 for p in participants])
    return outbox.queue(s, message, [(p.id, p.e164) for p in participants if p.e164 not in not_to_text],
                        checked=checked)


def _reachable(s: Session, location_id: int, participants: list[Participant]) -> int:
    """How many of these participants a message sent now reaches: the count `send_message`
    queues (E1, one statement). The composer shows it as the cost of a message."""
    not_to_text = numbers_not_to_text(s, location_id, [p.e164 for p in participants])
    return sum(1 for p in participants if p.e164 not in not_to_text)


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
                               m.direction == "inbound" and m.sms_text is not None, m.notice or "", m.kind))
    return out


def list_messages(actor: Actor | None, group_id: Any, before_id: Any = None, limit: Any = 30) -> list[MessageView]:
    """One page of a group's history, oldest first; pass the oldest id shown to get the page before.
    A fixed number of statements however many messages or participants."""
    with db.read() as s:
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
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        message = access_message(s, user, message_id)
        rows = s.exec(
            select(Delivery, Participant)
            .join(Participant, Participant.id == Delivery.participant_id, isouter=True)
            .where(Delivery.message_id == message.id).order_by(Delivery.id)
        )
        return [
            DeliveryView(p.name if p else format_display(d.to_e164), format_display(d.to_e164), d.status,
                         " ".join(x for x in (d.error_code, d.error_text) if x) or None, d.updated_at,
                         parts_note(d.parts_accepted, d.parts_total))
            for d, p in rows
        ]


# -- replies waiting for a person (E2 "needs routing") ----------------------------------------------
#
# A reply from a number that sits in several active groups on the same business number is never
# guessed. Its text reveals what was said to one of those groups, so only a user who may see every
# group on that number holding the sender (locked ones too: it may have been meant for one of them)
# may read or route it. Anyone else who may use the number learns only that replies wait for an admin.

def _routability(
    s: Session, user: User, rows: list[tuple[Message, BusinessNumber | None]]
) -> dict[int, tuple[int, ...] | None]:
    """Message id → the active groups it may be routed to when the user may read it, None when
    they may not: they must see every group on the message's number that holds its sender. () when
    no such group is active any more (nobody can route it). A fixed number of queries however many
    messages wait."""
    if not rows:
        return {}
    holding: dict[tuple[int, str], set[int]] = {}
    for gid, number_id, e164 in s.exec(
        select(Group.id, Group.business_number_id, Participant.e164)
        .join(Participant, Participant.group_id == Group.id)
        .where(Group.location_id == user.location_id,
               Group.business_number_id.in_(sorted({m.business_number_id for m, _ in rows})),
               Participant.e164.in_(sorted({m.from_e164 for m, _ in rows if m.from_e164})))
    ):
        holding.setdefault((number_id, e164), set()).add(gid)
    every = set().union(*holding.values()) if holding else set()
    visible = every if scopes.has_full_data_access(user) else set(s.exec(
        select(Group.id).where(Group.id.in_(sorted(every)), scopes.group_visibility_clause(user))).all())
    active = set(s.exec(
        select(Group.id).where(Group.id.in_(sorted(every)), active_group_clause())).all()) if every else set()
    out: dict[int, tuple[int, ...] | None] = {}
    for m, _ in rows:
        groups_holding = holding.get((m.business_number_id, m.from_e164), set())
        candidates = tuple(sorted(groups_holding & active))
        out[m.id] = candidates if groups_holding and groups_holding <= visible else None
    return out


def _waiting(s: Session, user: User, limit: int | None = None) -> list[tuple[Message, BusinessNumber]]:
    query = (
        select(Message, BusinessNumber)
        .join(BusinessNumber, BusinessNumber.id == Message.business_number_id)
        .where(Message.routing == routes.NEEDS_ROUTING, Message.location_id == user.location_id,
               scopes.number_access_clause(user))
        .order_by(Message.id.desc())
    )
    return list(s.exec(query.limit(limit) if limit else query).all())


def _sender_names(s: Session, user: User, senders: set[str]) -> dict[str, str]:
    """E.164 → the name of a contact (of those the user may see) holding it."""
    senders.discard(None)
    if not senders:
        return {}
    names: dict[str, str] = {}
    query = scopes.contacts_for(user).where(
        or_(Contact.primary_phone.in_(senders), Contact.secondary_phone.in_(senders))
    ).order_by(Contact.id)
    for c in s.exec(query):
        for e164 in (c.primary_phone, c.secondary_phone):
            if e164 in senders:
                names.setdefault(e164, c.name)
    return names


# Messages each candidate shows to be recognised by (the person choosing reads them, then decides).
RECENT_PER_CANDIDATE = 3


def _candidates(
    s: Session, location_id: int, senders: dict[int, set[str | None]]
) -> dict[int, dict[str | None, RoutingCandidate]]:
    """Group id → sender's number → what the router sees of that group: name, participants, who
    the relay would reach, its last messages. Three statements for every group of every item
    (participants with the group's name, the numbers not to text, the last messages of each
    group); the caller has checked that the user may see all of these groups."""
    if not senders:
        return {}
    people: dict[int, list[Participant]] = {}
    names: dict[int, str] = {}
    for p, name in s.exec(
        select(Participant, Group.name).join(Group, Group.id == Participant.group_id)
        .where(Participant.group_id.in_(sorted(senders))).order_by(Participant.group_id, Participant.position)
    ):
        people.setdefault(p.group_id, []).append(p)
        names[p.group_id] = name or ""
    blocked = _numbers_not_to_text_of(s, location_id, people)
    ranked = (
        select(Message.id.label("mid"), func.row_number().over(
            partition_by=Message.group_id, order_by=Message.id.desc()).label("rank"))
        .where(Message.group_id.in_(sorted(senders))).subquery()
    )
    recent_rows = s.exec(
        select(Message, User.name).join(ranked, ranked.c.mid == Message.id)
        .join(User, User.id == Message.sender_user_id, isouter=True)
        .where(ranked.c.rank <= RECENT_PER_CANDIDATE).order_by(Message.group_id, Message.id)
    ).all()
    recent: dict[int, list[tuple[Message, str | None]]] = {}
    for m, user_name in recent_rows:
        recent.setdefault(m.group_id, []).append((m, user_name))
    out: dict[int, dict[str | None, RoutingCandidate]] = {}
    for gid, ps in people.items():
        labels = short_labels({p.id: p.name for p in ps})
        shown = tuple(
            RecentMessage(
                (user_name or "Automatic reply") if m.direction == "outbound"
                else labels.get(m.sender_participant_id) or format_display(m.from_e164 or ""),
                m.body, m.created_at, m.direction)
            for m, user_name in recent.get(gid, [])
        )
        title = names.get(gid) or group_title([p.name for p in ps])
        per_sender: dict[str | None, RoutingCandidate] = {}
        for e164 in senders[gid]:
            sender = relay.sender_in(ps, e164)
            others = [p for p in ps if sender is None or p.contact_id != sender.contact_id]
            per_sender[e164] = RoutingCandidate(
                gid, names.get(gid, ""), title, tuple(p.name for p in ps),
                labels[sender.id] if sender else format_display(e164 or ""),
                tuple(p.name for p in others if p.e164 not in blocked.get(gid, set())), shown)
        out[gid] = per_sender
    return out


def _numbers_not_to_text_of(s: Session, location_id: int, people: dict[int, list[Participant]]) -> dict[int, set[str]]:
    """Group id → its participants' numbers no SMS may go to (one statement)."""
    blocked = numbers_not_to_text(s, location_id, [p.e164 for ps in people.values() for p in ps])
    return {gid: {p.e164 for p in ps if p.e164 in blocked} for gid, ps in people.items()}


def list_needs_routing(actor: Actor | None, limit: Any = 50) -> list[RoutingItem]:
    """E2: replies waiting for a person to pick their group, that this user may read and route:
    on numbers they may use (R12), from a sender all of whose groups there they may see (R11).
    Each item shows its candidate groups (the user may see them all) with their names, their
    participants, who would get the reply, and their last messages, and preselects none. A fixed
    number of statements however many texts and candidates wait."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        wanted = clean_limit(limit)
        rows = _waiting(s, user, _ROUTING_SCAN)
        routable = _routability(s, user, rows)
        rows = [(m, n) for m, n in rows if routable[m.id]][:wanted]
        names = _sender_names(s, user, {m.from_e164 for m, _ in rows})
        senders: dict[int, set[str | None]] = {}
        for m, _ in rows:
            for g in routable[m.id]:
                senders.setdefault(g, set()).add(m.from_e164)
        candidates = _candidates(s, user.location_id, senders)
        items = []
        for m, n in rows:
            shown = tuple(candidates[g][m.from_e164] for g in routable[m.id] if g in candidates)
            items.append(RoutingItem(
                m.id, names.get(m.from_e164, ""), format_display(m.from_e164 or ""), format_display(n.e164),
                m.body, m.created_at, tuple(c.group_id for c in shown), tuple(c.title for c in shown), shown))
        return items


def count_needs_routing_for_others(actor: Actor | None) -> int:
    """E2: how many replies on numbers this user may use wait for someone who may see all their
    groups (an admin). A count only: no text, no sender."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        return sum(1 for candidates in _routability(s, user, _waiting(s, user, _ROUTING_SCAN)).values()
                   if candidates is None)


def assign_inbound(actor: Actor | None, message_id: Any, group_id: Any) -> None:
    """E2: put a needs-routing message into one of its candidate groups, then store and relay it.
    Only a user who may read it (see `list_needs_routing`) may route it; for anyone else it is
    not found."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        message = s.exec(
            select(Message).join(BusinessNumber, BusinessNumber.id == Message.business_number_id).where(
                Message.id == clean_id(message_id, "Message"), Message.routing == routes.NEEDS_ROUTING,
                Message.location_id == user.location_id, scopes.number_access_clause(user),
            ).with_for_update()
        ).first()
        candidates = _routability(s, user, [(message, None)]).get(message.id) if message else None
        if not candidates:
            raise NotFound("Message")
        group = access_group(s, user, group_id)
        if group.id not in candidates:
            raise ValidationError("That group does not have this sender on this number", "group")
        relay.attach_and_relay(s, group, message)  # publishes MessageAdded for the group
        audit(s, user, "message.routed", "message", message.id, group=group.id)
        notify.publish(s, events.RoutingChanged(message.location_id, message.id, "routed"))


# -- "Other texts": inbound texts from numbers in no group (E2) ------------------------------------
#
# Who sees one: users who may use the business number it came to (R12) and may see its sender.
# A sender held by a contact is seen by whoever may see that contact (R11); a number no contact
# holds (a new lead, a stranger; deleted contacts hold nothing) is seen by users with full data
# access only, since an assigned-only user sees nothing but their own contacts. A sender who is in
# groups on that number that are all locked (R10) is seen, as for "needs routing", only by users
# who may see every one of those groups: the text may be about any of them. STOP and HELP texts are not listed: they
# were answered automatically and are no conversation.

def _other_texts_query(user: User):
    query = (
        select(Message, BusinessNumber)
        .join(BusinessNumber, BusinessNumber.id == Message.business_number_id)
        .where(
            Message.location_id == user.location_id, Message.direction == "inbound",
            Message.routing == routes.UNROUTED, Message.group_id.is_(None), Message.dismissed_at.is_(None),
            scopes.number_access_clause(user),
        )
    )
    if not scopes.has_full_data_access(user):
        query = query.where(
            scopes.sender_visible_clause(user, Message.from_e164),
            not_(scopes.sender_in_hidden_group_clause(user, Message.business_number_id, Message.from_e164)),
        )
    return query


def _is_keyword(text: str) -> bool:
    return keywords.classify(text) in (keywords.STOP, keywords.HELP)


def _sender_contacts(s: Session, user: User, senders: set[str]) -> dict[str, tuple[Contact, str]]:
    """E.164 → (a contact the user may see holding it, which of its numbers it is)."""
    out: dict[str, tuple[Contact, str]] = {}
    senders.discard(None)
    if not senders:
        return out
    query = scopes.contacts_for(user).where(
        or_(Contact.primary_phone.in_(senders), Contact.secondary_phone.in_(senders))
    ).order_by(Contact.id)
    for c in s.exec(query):
        for which in ("primary", "secondary"):
            e164 = c.phone(which)
            if e164 in senders:
                out.setdefault(e164, (c, which))
    return out


def _other_views(s: Session, user: User, rows: list[tuple[Message, BusinessNumber]]) -> list[OtherText]:
    contacts = _sender_contacts(s, user, {m.from_e164 for m, _ in rows})
    out = []
    for m, n in rows:
        contact, which = contacts.get(m.from_e164, (None, None))
        out.append(OtherText(
            m.id, contact.name if contact else "", format_display(m.from_e164 or ""), n.id,
            format_display(n.e164), n.label, m.body, m.created_at, contact.id if contact else None, which,
        ))
    return out


def list_other_texts(actor: Actor | None, limit: Any = 50) -> list[OtherText]:
    """E2: texts that came from numbers in no group, newest first, that this user may see."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        wanted = clean_limit(limit)
        rows = s.exec(_other_texts_query(user).order_by(Message.id.desc()).limit(wanted * 2)).all()
        rows = [(m, n) for m, n in rows if not _is_keyword(m.body)][:wanted]
        return _other_views(s, user, rows)


def _access_other_text(
    s: Session, user: User, message_id: Any, *, for_update: bool = False
) -> tuple[Message, BusinessNumber]:
    query = _other_texts_query(user).where(Message.id == clean_id(message_id, "Message"))
    row = s.exec(query.with_for_update(of=Message) if for_update else query).first()
    if row is None or _is_keyword(row[0].body):
        raise NotFound("Message")
    return row[0], row[1]


def get_other_text(actor: Actor | None, message_id: Any) -> OtherText:
    """One of the user's "Other texts" ("Start a group" opens the group dialog from it)."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        return _other_views(s, user, [_access_other_text(s, user, message_id)])[0]


def dismiss_other_text(actor: Actor | None, message_id: Any) -> None:
    """Take a text off "Other texts" for everyone (it stays stored; the audit log says who)."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        message, _ = _access_other_text(s, user, message_id, for_update=True)
        message.dismissed_at = utcnow()
        s.add(message)
        audit(s, user, "message.dismissed", "message", message.id, number=message.business_number_id)
        notify.publish(s, events.RoutingChanged(message.location_id, message.id, "dismissed"))
