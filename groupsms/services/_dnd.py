"""DND (R10, E1): locking groups, and the checks every send path makes."""

from __future__ import annotations

from sqlalchemy import and_, not_, or_
from sqlmodel import Session, select

from groupsms.domain.groups import lock_reason
from groupsms.models import Contact, Group, Participant, utcnow


def lock_groups_of_contact(s: Session, contact: Contact) -> list[int]:
    """Lock the contact's unlocked groups for good; returns their ids. Inbound is still stored."""
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
    return [g.id for g in groups]


def active_group_clause():
    """Groups that are not locked (R10): no stored lock and no participant's contact with DND."""
    dnd_participant = (
        select(Participant.id)
        .join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.group_id == Group.id, Contact.dnd_sms)
        .exists()
    )
    return and_(Group.locked_reason.is_(None), not_(dnd_participant))


def set_dnd(s: Session, contact: Contact, dnd: bool) -> list[int]:
    """Turn a contact's SMS DND on or off. On locks its groups for good (returns their ids); off
    first stores the locks its DND implied, so lifting DND never reopens a group (R10)."""
    if contact.dnd_sms == dnd:
        return lock_groups_of_contact(s, contact) if dnd else []
    locked = lock_groups_of_contact(s, contact)
    contact.dnd_sms = dnd
    contact.updated_at = utcnow()
    s.add(contact)
    return locked if dnd else []


def effective_lock(s: Session, group: Group) -> str | None:
    """The stored lock, or one derived from DND set by a path that did not store it (R10)."""
    if group.locked_reason:
        return group.locked_reason
    dnd_names = s.exec(
        select(Contact.name)
        .join(Participant, Participant.contact_id == Contact.id)
        .where(Participant.group_id == group.id, Contact.dnd_sms)
    ).all()
    return lock_reason(list(dnd_names))


def contacts_with_number(s: Session, location_id: int, e164: str) -> list[Contact]:
    return list(s.exec(
        select(Contact).where(
            Contact.location_id == location_id,
            or_(Contact.primary_phone == e164, Contact.secondary_phone == e164),
        )
    ))


def number_opted_out(s: Session, location_id: int, e164: str) -> bool:
    """E1: no SMS goes to a number any contact of the location has DND on."""
    return any(c.dnd_sms for c in contacts_with_number(s, location_id, e164))
