"""Opt-outs (E1) and DND locks (R10): who may be texted, and the carrier keywords that change it.

Two things keep SMS from a number:
- the number opted out by text (STOP and its kin): recorded per (location, number) in `opt_out`,
  whatever contact holds the number now or later, or none (a stranger, a deleted contact, a number
  that was edited away while groups still text the captured one, R8). Only the number's own START
  lifts it; staff cannot (clearing DND in the app, a load file or a CSV never touches it).
- staff set DND on a contact in the CRM (`Contact.dnd_sms`). A START never lifts that.

Either way every group that texts the number is locked for good, and nothing is sent to it but the
one confirmation of a STOP. Keyword replies are limited so they cannot be pumped.

This module is the one home of both: the services (contacts, CSV imports), the load file, inbound
processing, the relay and the outbox worker all lock, check and record through it. Every change it
writes publishes its typed event on commit (`GroupLocked` per group it locks, `ContactChanged` for
a DND change, `OptOutChanged` for an opt-out or opt-in), whichever path made it, so open pages learn
of a lock at once.
"""

from __future__ import annotations

import functools
import os
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import and_, bindparam, func, not_, or_, union
from sqlmodel import Session, select

from groupsms.domain import keywords
from groupsms.domain.groups import lock_reason, opted_out_text
from groupsms.messaging import events, notify, outbox
from groupsms.models import (
    BusinessNumber,
    Contact,
    Delivery,
    Group,
    Location,
    Message,
    OptOut,
    Participant,
    utcnow,
)

STOP_REPLY = "{name}: you are unsubscribed and will receive no more messages from this number. Reply START to resubscribe."
START_REPLY = "{name}: you are resubscribed. Reply STOP to unsubscribe."
HELP_REPLY = "{name}: group texts from our team. Reply STOP to unsubscribe."

DEFAULT_KEYWORD_REPLY_WINDOW = 600.0  # seconds: at most one HELP/START reply per number in this time


def keyword_reply_window() -> timedelta:
    return timedelta(seconds=float(os.environ.get("GROUPSMS_KEYWORD_REPLY_WINDOW", DEFAULT_KEYWORD_REPLY_WINDOW)))


# -- the per-number registry ---------------------------------------------------------------------

def groups_texting(s: Session, location_id: int, e164: str) -> tuple[int, ...]:
    """Every group of the location with a participant at this number (locked or not)."""
    return tuple(sorted(set(s.exec(
        select(Participant.group_id).join(Group, Group.id == Participant.group_id)
        .where(Group.location_id == location_id, Participant.e164 == e164)
    ).all())))


def groups_of_contact(s: Session, contact_id: int) -> tuple[int, ...]:
    """Every group the contact is a participant of (by either number, locked or not)."""
    return tuple(sorted(set(s.exec(select(Participant.group_id).where(Participant.contact_id == contact_id)).all())))


def _publish_locks(s: Session, groups: list[Group]) -> None:
    for group in groups:
        notify.publish(s, events.GroupLocked(group.location_id, group.id, group.locked_reason or ""))


def active_opt_out(s: Session, location_id: int, e164: str) -> OptOut | None:
    return s.exec(select(OptOut).where(
        OptOut.location_id == location_id, OptOut.e164 == e164, OptOut.active)).first()


def is_opted_out(s: Session, location_id: int, e164: str) -> bool:
    """The number texted STOP to the location and has not texted START since."""
    return active_opt_out(s, location_id, e164) is not None


def active_opt_outs(s: Session, location_id: int, e164s) -> dict[str, OptOut]:
    """The registry's active row for each of these numbers that opted out (one statement)."""
    wanted = sorted({e for e in e164s if e})
    if not wanted:
        return {}
    rows = s.exec(select(OptOut).where(
        OptOut.location_id == location_id, OptOut.e164.in_(wanted), OptOut.active))
    return {row.e164: row for row in rows}


def opted_out_notes(s: Session, location_id: int, e164s) -> dict[str, str]:
    """"Opted out by text on <date>" for each of these numbers that is in the registry."""
    return {e164: opted_out_text(row.opted_out_at) for e164, row in active_opt_outs(s, location_id, e164s).items()}


def record_opt_out(
    s: Session, location_id: int, e164: str, keyword: str, *, via: str = "text", business_number_id: int | None = None,
) -> tuple[OptOut, bool]:
    """Opt the number out of the location and lock every group that texts it (R10).

    Returns (the registry row, whether it is new): an opt-out that is already active changes
    nothing, so a second STOP gets no second confirmation. A new one publishes `OptOutChanged`
    (with every group texting the number) and `GroupLocked` for each group it locked.
    """
    row = s.exec(select(OptOut).where(
        OptOut.location_id == location_id, OptOut.e164 == e164).with_for_update()).first()
    if row is not None and row.active:
        return row, False
    now = utcnow()
    if row is None:
        row = OptOut(location_id=location_id, e164=e164)
    row.active, row.keyword, row.via = True, keyword[:32], via
    row.opted_out_at, row.opted_in_at, row.confirmation_message_id = now, None, None
    # Two first STOPs at once: the second insert fails on (location, number), its event is retried
    # and then finds the first's row active.
    s.add(row)
    s.flush()
    lock_groups_texting(s, location_id, e164, now)
    notify.publish(s, events.OptOutChanged(location_id, e164, business_number_id, True,
                                           groups_texting(s, location_id, e164)))
    return row, True


def opt_in(s: Session, location_id: int, e164: str, *, business_number_id: int | None = None) -> bool:
    """The number's own START lifts its opt-out; True when there was one (and `OptOutChanged` is
    published). Groups stay locked (R10) and a DND staff set on a contact stays on."""
    row = s.exec(select(OptOut).where(
        OptOut.location_id == location_id, OptOut.e164 == e164, OptOut.active).with_for_update()).first()
    if row is None:
        return False
    row.active, row.opted_in_at = False, utcnow()
    s.add(row)
    s.flush()
    notify.publish(s, events.OptOutChanged(location_id, e164, business_number_id, False,
                                           groups_texting(s, location_id, e164)))
    return True


def lock_groups_texting(s: Session, location_id: int, e164: str, when: datetime) -> list[int]:
    """Lock for good every unlocked group of the location with a participant at this number
    (publishing `GroupLocked` for each); returns their ids."""
    rows = s.exec(
        select(Group, Participant)
        .join(Participant, Participant.group_id == Group.id)
        .where(Group.location_id == location_id, Participant.e164 == e164, Group.locked_reason.is_(None))
    ).all()
    locked: dict[int, Group] = {}
    for group, participant in rows:
        if group.id in locked:  # the number is in the group twice (one contact's two numbers are two numbers)
            continue
        group.locked_reason = lock_reason([], [(participant.name, when)])
        group.locked_at = when
        s.add(group)
        locked[group.id] = group
    _publish_locks(s, list(locked.values()))
    return sorted(locked)


# -- DND and the checks every send path makes ----------------------------------------------------

def lock_groups_of_contact(s: Session, contact: Contact) -> list[int]:
    """Lock the contact's unlocked groups for good (publishing `GroupLocked` for each); returns
    their ids. Inbound is still stored."""
    groups = s.exec(
        select(Group)
        .join(Participant, Participant.group_id == Group.id)
        .where(Participant.contact_id == contact.id, Group.locked_reason.is_(None))
        .distinct()
    ).all()
    now = utcnow()
    for group in groups:
        group.locked_reason = lock_reason([contact.name])
        group.locked_at = now
        s.add(group)
    _publish_locks(s, list(groups))
    return [g.id for g in groups]


def active_group_clause():
    """Groups that are not locked (R10): no stored lock, no participant's contact with DND and no
    participant number in the opt-out registry."""
    dnd_participant = (
        select(Participant.id)
        .join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.group_id == Group.id, Contact.dnd_sms)
        .exists()
    )
    opted_out_participant = (
        select(Participant.id)
        .join(OptOut, and_(OptOut.e164 == Participant.e164, OptOut.location_id == Group.location_id, OptOut.active))
        .where(Participant.group_id == Group.id)
        .exists()
    )
    return and_(Group.locked_reason.is_(None), not_(dnd_participant), not_(opted_out_participant))


def set_dnd(s: Session, contact: Contact, dnd: bool) -> list[int]:
    """Turn a contact's SMS DND on or off. On locks its groups for good (returns their ids); off
    first stores the locks its DND implied, so lifting DND never reopens a group (R10).

    Off never lifts an opt-out the contact's numbers made by text: only their START does. A change
    publishes `ContactChanged` with every group of the contact."""
    if contact.dnd_sms == dnd:
        return lock_groups_of_contact(s, contact) if dnd else []
    locked = lock_groups_of_contact(s, contact)
    contact.dnd_sms = dnd
    contact.updated_at = utcnow()
    s.add(contact)
    notify.publish(s, events.ContactChanged(contact.location_id, contact.id, groups_of_contact(s, contact.id)))
    return locked if dnd else []


def lock_of(group: Group, participants: list[tuple[Participant, Contact]], opt_outs: dict[str, OptOut]) -> str | None:
    """`effective_lock` from what the caller already loaded: the group's participants with their
    contacts, and the active opt-outs of their numbers (`active_opt_outs`)."""
    if group.locked_reason:
        return group.locked_reason
    return lock_reason([c.name for _, c in participants if c.dnd_sms],
                       [(p.name, opt_outs[p.e164].opted_out_at) for p, _ in participants if p.e164 in opt_outs])


def effective_lock(s: Session, group: Group) -> str | None:
    """The stored lock, or one derived from DND or an opt-out a path did not store (R10)."""
    if group.locked_reason:
        return group.locked_reason
    dnd_names, opted_out = _lock_statements()
    params = {"group_id": group.id, "location_id": group.location_id}
    return lock_reason(list(s.execute(dnd_names, params).scalars().all()),
                       [(name, at) for name, at in s.execute(opted_out, params).all()])


@functools.cache
def _lock_statements():
    """`effective_lock`'s two statements, built once: every relay and send asks them, and building
    a statement costs more than running it."""
    dnd_names = (select(Contact.name).join(Participant, Participant.contact_id == Contact.id)
                 .where(Participant.group_id == bindparam("group_id"), Contact.dnd_sms))
    opted_out = (select(Participant.name, OptOut.opted_out_at)
                 .join(OptOut, and_(OptOut.e164 == Participant.e164, OptOut.location_id == bindparam("location_id"),
                                    OptOut.active))
                 .where(Participant.group_id == bindparam("group_id")))
    return dnd_names, opted_out


def contacts_with_number(s: Session, location_id: int, e164: str) -> list[Contact]:
    return list(s.exec(
        select(Contact).where(
            Contact.location_id == location_id,
            or_(Contact.primary_phone == e164, Contact.secondary_phone == e164),
        )
    ))


def staff_dnd(s: Session, location_id: int, e164: str) -> bool:
    """A contact of the location that holds the number has DND set in the CRM."""
    return any(c.dnd_sms for c in contacts_with_number(s, location_id, e164))


def number_opted_out(s: Session, location_id: int, e164: str) -> bool:
    """E1: no SMS goes to a number that opted out by text, or that a contact with DND holds."""
    return is_opted_out(s, location_id, e164) or staff_dnd(s, location_id, e164)


def numbers_not_to_text(s: Session, location_id: int, e164s) -> set[str]:
    """`number_opted_out` for many numbers at once (a whole group): those of them no SMS may go
    to. One statement however many numbers."""
    wanted = sorted({e for e in e164s if e})
    if not wanted:
        return set()
    found = s.execute(_not_to_text_statement(), {"location_id": location_id, "wanted": wanted}).scalars().all()
    return set(found) & set(wanted)


@functools.cache
def _not_to_text_statement():
    """`numbers_not_to_text`'s statement, built once (the numbers are an expanding parameter)."""
    location_id, wanted = bindparam("location_id"), bindparam("wanted", expanding=True)
    opted_out = select(OptOut.e164).where(OptOut.location_id == location_id, OptOut.e164.in_(wanted), OptOut.active)
    dnd_primary = select(Contact.primary_phone).where(
        Contact.location_id == location_id, Contact.dnd_sms, Contact.primary_phone.in_(wanted))
    dnd_secondary = select(Contact.secondary_phone).where(
        Contact.location_id == location_id, Contact.dnd_sms, Contact.secondary_phone.in_(wanted))
    return union(opted_out, dnd_primary, dnd_secondary)


# -- carrier keywords in an inbound text ---------------------------------------------------------

def is_possible_sender(e164: str) -> bool:
    """Automatic replies only to numbers that can exist: never to a short code or garbage, which
    a pump would use to make the business text a number it does not own."""
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False


def _recent_keyword_reply(s: Session, location_id: int, e164: str) -> bool:
    """A HELP or START reply went to the number within the window (the STOP confirmations are
    counted apart: one per opt-out)."""
    since = utcnow() - keyword_reply_window()
    found = s.exec(
        select(func.count(Delivery.id))
        .join(Message, Message.id == Delivery.message_id)
        .where(
            Message.location_id == location_id, Message.routing == "system", Delivery.to_e164 == e164,
            not_(Delivery.opt_out_confirmation), Delivery.created_at >= since,
        )
    ).one()
    return bool(found)


def _reply(s: Session, number: BusinessNumber, to: str, template: str, *, confirmation: bool) -> Message:
    location = s.get(Location, number.location_id)
    reply = Message(
        location_id=number.location_id, business_number_id=number.id, direction="outbound",
        routing="system", body=template.format(name=location.name),
    )
    s.add(reply)
    s.flush()
    outbox.queue(s, reply, [(None, to)], opt_out_confirmation=confirmation)
    return reply


def handle_keyword(s: Session, number: BusinessNumber, message: Message) -> bool:
    """E1 for one stored inbound text. True when it was a keyword that must not be relayed.

    STOP opts the number out (one confirmation, groups locked); START/UNSTOP/YES opt it back in
    only while it is opted out by text, otherwise they are ordinary replies; HELP/INFO answer,
    at most once per number per window, and never to a number that may not be texted.
    """
    keyword = keywords.classify(message.body)
    if keyword is None:
        return False
    sender, location_id = message.from_e164, number.location_id
    # One keyword of the location at a time (PostgreSQL; SQLite writers queue anyway): two HELPs
    # processed at once would both find no recent reply.
    # NO KEY UPDATE, as the message just inserted holds a KEY SHARE lock on the same row.
    s.exec(select(Location.id).where(Location.id == location_id).with_for_update(key_share=True)).one()
    may_reply = is_possible_sender(sender)
    if keyword == keywords.STOP:
        row, new = record_opt_out(s, location_id, sender, keywords.keyword_word(message.body),
                                  business_number_id=number.id)
        if new and may_reply:
            row.confirmation_message_id = _reply(s, number, sender, STOP_REPLY, confirmation=True).id
            s.add(row)
        note = "Opt-out: not relayed"
    elif keyword == keywords.START:
        if not opt_in(s, location_id, sender, business_number_id=number.id):
            return False  # "Yes" from a number that is not opted out is a reply like any other
        if may_reply and not staff_dnd(s, location_id, sender) and not _recent_keyword_reply(s, location_id, sender):
            _reply(s, number, sender, START_REPLY, confirmation=False)
        note = "Opt-in: not relayed"
    else:
        if may_reply and not number_opted_out(s, location_id, sender) and not _recent_keyword_reply(s, location_id, sender):
            _reply(s, number, sender, HELP_REPLY, confirmation=False)
        note = "Help request: not relayed"
    if message.notice is None:
        message.notice = note
        s.add(message)
    return True
