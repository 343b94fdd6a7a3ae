"""What the REST API needs beyond the pages' services: a CRM names contacts by its own id (the load
file's `ref`, called `external_id` in the API) and numbers by E.164, and reads lists page by page
with a cursor (keyset: the last id seen), so a list does not skip or repeat rows while it changes.

Writes go through the other services wherever they can; creating a contact with its external id is
the one write of its own here (the pages' `contacts.create_contact` has no external id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import clean_id
from groupsms.domain.phones import PhoneError, normalize
from groupsms.errors import NotFound, ValidationError
from groupsms.messaging import events, notify
from groupsms.models import BusinessNumber, Contact, Group, Participant, User, utcnow
from groupsms.access.search import contact_search_clause
from groupsms.services._base import (
    Actor,
    acting_user,
    audit,
    clean_assignee,
    clean_bool,
    clean_limit,
    clean_phone,
    clean_query,
    clean_text,
    require,
)
from groupsms.messaging.optout import opted_out_notes, set_dnd

__all__ = [
    "ContactRecord", "GroupRecord", "list_contacts", "get_contact", "put_contact",
    "contact_id_for", "resolve_group_request", "list_groups", "group_facts",
]

_UNSET = object()


@dataclass(frozen=True)
class ContactRecord:
    id: int
    external_id: str | None
    name: str
    primary_phone: str | None
    secondary_phone: str | None
    dnd: bool
    assigned_to: str | None  # the assigned user's email
    primary_opted_out: bool
    secondary_opted_out: bool
    updated_at: datetime


@dataclass(frozen=True)
class GroupRecord:
    id: int
    from_e164: str
    participant_names: tuple[str, ...]
    locked_reason: str | None
    created_at: datetime
    last_activity_at: datetime


def _clean_external_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("External id is required", "external_id")
    value = value.strip()
    if len(value) > 64:
        raise ValidationError("External id must be at most 64 characters", "external_id")
    return value


def _after(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("Cursor is not one this API gave", "cursor")
    return value


def _records(s: Session, location_id: int, rows: list[Contact]) -> list[ContactRecord]:
    notes = opted_out_notes(s, location_id, {e for c in rows for e in (c.primary_phone, c.secondary_phone) if e})
    emails = dict(s.exec(select(User.id, User.email).where(
        User.id.in_({c.assigned_user_id for c in rows if c.assigned_user_id}))).all()) if rows else {}
    return [
        ContactRecord(c.id, c.ref, c.name, c.primary_phone, c.secondary_phone, c.dnd_sms,
                      emails.get(c.assigned_user_id), c.primary_phone in notes, c.secondary_phone in notes,
                      c.updated_at)
        for c in rows
    ]


def list_contacts(actor: Actor | None, search: Any = None, after: Any = None, limit: Any = 50) -> list[ContactRecord]:
    """Contacts the actor may see (R11), by id, after the cursor's id."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "read")
        query = scopes.contacts_for(user)
        text = clean_query(search)
        if text:
            query = query.where(contact_search_clause(text))
        start = _after(after)
        if start is not None:
            query = query.where(Contact.id > start)
        rows = list(s.exec(query.order_by(Contact.id).limit(clean_limit(limit))))
        return _records(s, user.location_id, rows)


def _by_ref(s: Session, user: User, ref: str, *, include_deleted: bool = True) -> Contact | None:
    """The contact with this external id, if the user may see it (else None, as if missing)."""
    return s.exec(scopes.contacts_for(user, include_deleted=include_deleted).where(Contact.ref == ref)).first()


def _visible_contact(s: Session, actor: Actor | None, external_id: Any) -> tuple[User, Contact]:
    """The reader and the (not deleted) contact with this external id they may see, else NotFound."""
    user = acting_user(s, actor)
    require(s, user, "contact", "read")
    contact = _by_ref(s, user, _clean_external_id(external_id), include_deleted=False)
    if contact is None:
        raise NotFound("Contact")
    return user, contact


def get_contact(actor: Actor | None, external_id: Any) -> ContactRecord:
    with db.read() as s:
        user, contact = _visible_contact(s, actor, external_id)
        return _records(s, user.location_id, [contact])[0]


def contact_id_for(actor: Actor | None, external_id: Any) -> int:
    """The id of the (not deleted) contact with this external id that the actor may see."""
    with db.read() as s:
        return _visible_contact(s, actor, external_id)[1].id


def _assignee_by_email(s: Session, user: User, email: Any) -> int | None:
    if email is None or email == "":
        return None
    if not isinstance(email, str):
        raise ValidationError("Assigned to must be a user's email", "assigned_to")
    found = s.exec(select(User.id).where(User.location_id == user.location_id,
                                         func.lower(User.email) == email.strip().lower())).first()
    if found is None:
        raise ValidationError(f"No user of this location has the email {email.strip()[:254]}", "assigned_to")
    return found


def put_contact(
    actor: Actor | None, external_id: Any, *, name: Any, primary_phone: Any, secondary_phone: Any = None,
    dnd: Any = False, assigned_to: Any = _UNSET,
) -> tuple[int, bool]:
    """Create or update the contact with this external id (the load file's `ref`); a deleted one is
    restored. Returns (contact id, created). Groups keep their captured numbers (R8); DND on locks
    the contact's groups (R10). Assigned-only users create and keep contacts assigned to themselves."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "write")
        ref = _clean_external_id(external_id)
        fields = {
            "name": clean_text(name, "name", max_length=200),
            "primary_phone": clean_phone(primary_phone, "primary_phone", required=True),
            "secondary_phone": clean_phone(secondary_phone, "secondary_phone", required=False),
        }
        dnd = clean_bool(dnd, "dnd")
        if fields["primary_phone"] == fields["secondary_phone"]:
            raise ValidationError("Secondary phone is the same as the primary phone", "secondary_phone")
        contact = _by_ref(s, user, ref)
        if contact is None:
            taken = s.exec(select(Contact.id).where(Contact.location_id == user.location_id,
                                                    Contact.ref == ref)).first()
            if taken is not None:  # someone else's contact: the same "not found" as for any (R14)
                raise NotFound("Contact")
            if assigned_to is _UNSET:
                assignee = None if scopes.has_full_data_access(user) else user.id
            else:
                assignee = _assignee_by_email(s, user, assigned_to)
            contact = Contact(location_id=user.location_id, ref=ref, dnd_sms=dnd,
                              assigned_user_id=clean_assignee(s, user, assignee), **fields)
            s.add(contact)
            s.flush()
            audit(s, user, "contact.created", "contact", contact.id, name=contact.name, via="api")
            notify.publish(s, events.ContactChanged(user.location_id, contact.id))
            return contact.id, True
        changes = {k: v for k, v in fields.items() if getattr(contact, k) != v}
        if assigned_to is not _UNSET:
            assignee = clean_assignee(s, user, _assignee_by_email(s, user, assigned_to))
            if assignee != contact.assigned_user_id:
                changes["assigned_user_id"] = assignee
        restored = contact.deleted_at is not None
        for key, value in changes.items():
            setattr(contact, key, value)
        if restored:
            contact.deleted_at = None
        dnd_changed = contact.dnd_sms != dnd
        locked = set_dnd(s, contact, dnd) if dnd_changed else []
        if changes or restored or dnd_changed:
            contact.updated_at = utcnow()
            s.add(contact)
            audit(s, user, "contact.updated", "contact", contact.id, fields=sorted(changes), restored=restored,
                  dnd=dnd, locked_groups=locked, via="api")
            groups = tuple(s.exec(select(Participant.group_id).where(Participant.contact_id == contact.id)).all())
            notify.publish(s, events.ContactChanged(user.location_id, contact.id, tuple(sorted(set(groups)))))
        return contact.id, False


def resolve_group_request(actor: Actor | None, from_number: Any, participants: Any) -> tuple[int, list[tuple[int, str]]]:
    """A group request in the CRM's words ({"from": E.164, participants: [{"contact": external id,
    "number": "primary"|"secondary"}]}) as a number id and (contact id, which) pairs. A number or
    contact of another location, or one the actor may not see, is the same "not found"; the group
    service then checks everything else (R1–R3, R9, R11, R12, E11)."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        if not isinstance(from_number, str):
            raise ValidationError("From must be a business number in E.164 form", "from")
        try:
            e164 = normalize(from_number)
        except PhoneError as exc:
            raise ValidationError(f"From: {exc}", "from") from exc
        number_id = s.exec(select(BusinessNumber.id).where(
            BusinessNumber.location_id == user.location_id, BusinessNumber.e164 == e164)).first()
        if number_id is None:
            raise NotFound("Number")
        if not isinstance(participants, list):
            raise ValidationError("Participants must be a list", "participants")
        pairs = []
        for i, item in enumerate(participants[:50]):
            ref = _clean_external_id(item.get("contact") if isinstance(item, dict) else None)
            which = item.get("number", "primary")
            contact = _by_ref(s, user, ref, include_deleted=False)
            if contact is None:
                raise ValidationError(f"Participant {i + 1}: contact {ref!r} not found", f"participants[{i}].contact")
            pairs.append((contact.id, which))
        return number_id, pairs


def list_groups(actor: Actor | None, after: Any = None, limit: Any = 50) -> list[GroupRecord]:
    """Groups the actor may see (R11), newest first, before the cursor's id."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        query = scopes.groups_for(user)
        start = _after(after)
        if start is not None:
            query = query.where(Group.id < start)
        rows = list(s.exec(query.order_by(Group.id.desc()).limit(clean_limit(limit))))
        names: dict[int, list[str]] = {}
        for gid, pname in s.exec(select(Participant.group_id, Participant.name)
                                 .where(Participant.group_id.in_([g.id for g in rows])).order_by(Participant.position)):
            names.setdefault(gid, []).append(pname)
        numbers = dict(s.exec(select(BusinessNumber.id, BusinessNumber.e164).where(
            BusinessNumber.id.in_({g.business_number_id for g in rows}))).all()) if rows else {}
        return [GroupRecord(g.id, numbers[g.business_number_id], tuple(names.get(g.id, [])), g.locked_reason,
                            g.created_at, g.last_activity_at) for g in rows]


def group_facts(actor: Actor | None, group_id: Any) -> tuple[str, dict[int, str | None]]:
    """A group's business number as E.164 and its participants' external ids (contact id → ref), for
    a group the actor may see (R11; else "not found"), whatever the contacts' assignment now."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        group = s.exec(scopes.groups_for(user).where(Group.id == clean_id(group_id, "Group"))).first()
        if group is None:
            raise NotFound("Group")
        number = s.get(BusinessNumber, group.business_number_id)
        refs = dict(s.exec(select(Contact.id, Contact.ref).join(Participant, Participant.contact_id == Contact.id)
                           .where(Participant.group_id == group.id)).all())
        return number.e164, refs
