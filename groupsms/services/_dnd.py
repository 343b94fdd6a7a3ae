"""R10: when a contact turns DND on, every unlocked group with that contact is locked for good."""

from __future__ import annotations

from sqlmodel import Session, select

from groupsms.domain.groups import lock_reason
from groupsms.models import Contact, Group, Participant, utcnow


def lock_groups_of_contact(s: Session, contact: Contact) -> list[int]:
    """Lock the contact's unlocked groups; returns their ids. Inbound messages are still stored."""
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
