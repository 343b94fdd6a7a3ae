"""Contacts: list, create, edit, soft delete and DND (R8, R10, R11).

Every change publishes `ContactChanged` on commit with the groups the contact is in (their pages
show its tags and locks); turning DND on also publishes `GroupLocked` for each group it locks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import access_contact
from groupsms.access.search import contact_search_clause
from groupsms.domain.phones import format_display, is_us_ca
from groupsms.errors import ValidationError
from groupsms.messaging import events, notify
from groupsms.messaging.optout import groups_of_contact, opted_out_notes, set_dnd
from groupsms.models import Contact, Group, utcnow
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
from groupsms.services._duplicates import shared_number_warnings

__all__ = [
    "ContactView",
    "list_contacts",
    "get_contact",
    "create_contact",
    "update_contact",
    "delete_contact",
    "set_contact_dnd",
    "duplicate_number_warnings",
]

_UNSET = object()


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    primary_phone: str | None
    primary_display: str
    secondary_phone: str | None
    secondary_display: str
    dnd: bool
    assigned_user_id: int | None
    deleted: bool
    primary_is_us_ca: bool
    secondary_is_us_ca: bool
    # E1: "Opted out by text on <date>" when the number texted STOP, else "". Only the number's
    # own START lifts it: turning DND off here does not.
    primary_opted_out: str = ""
    secondary_opted_out: str = ""


def _view(c: Contact, opted_out: dict[str, str] | None = None) -> ContactView:
    notes = opted_out or {}
    return ContactView(
        c.id, c.name,
        c.primary_phone, format_display(c.primary_phone) if c.primary_phone else "",
        c.secondary_phone, format_display(c.secondary_phone) if c.secondary_phone else "",
        c.dnd_sms, c.assigned_user_id, c.deleted_at is not None,
        bool(c.primary_phone and is_us_ca(c.primary_phone)),
        bool(c.secondary_phone and is_us_ca(c.secondary_phone)),
        notes.get(c.primary_phone, ""), notes.get(c.secondary_phone, ""),
    )


def _views(s, location_id: int, contacts: list[Contact]) -> list[ContactView]:
    notes = opted_out_notes(s, location_id, {e for c in contacts for e in (c.primary_phone, c.secondary_phone)})
    return [_view(c, notes) for c in contacts]


def _changed(s, contact: Contact) -> None:
    notify.publish(s, events.ContactChanged(contact.location_id, contact.id, groups_of_contact(s, contact.id)))


def list_contacts(
    actor: Actor | None, search: Any = None, limit: Any = 100, include_deleted: Any = False
) -> list[ContactView]:
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "read")
        query = scopes.contacts_for(user, include_deleted=clean_bool(include_deleted, "include deleted"))
        text = clean_query(search)
        if text:
            query = query.where(contact_search_clause(text))
        rows = s.exec(query.order_by(Contact.name, Contact.id).limit(clean_limit(limit, 100, 500)))
        return _views(s, user.location_id, list(rows))


def get_contact(actor: Actor | None, contact_id: Any) -> ContactView:
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "read")
        return _views(s, user.location_id, [access_contact(s, user, contact_id, include_deleted=True)])[0]


def create_contact(
    actor: Actor | None,
    name: Any,
    primary_phone: Any,
    secondary_phone: Any = None,
    dnd: Any = False,
    assigned_user_id: Any = _UNSET,
) -> int:
    """A new contact. Assigned-only users create contacts assigned to themselves."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "write")
        if assigned_user_id is _UNSET:
            assigned_user_id = None if scopes.has_full_data_access(user) else user.id
        contact = Contact(
            location_id=user.location_id,
            name=clean_text(name, "name", max_length=200),
            primary_phone=clean_phone(primary_phone, "primary phone", required=True),
            secondary_phone=clean_phone(secondary_phone, "secondary phone", required=False),
            dnd_sms=clean_bool(dnd, "DND"),
            assigned_user_id=clean_assignee(s, user, assigned_user_id),
        )
        if contact.primary_phone == contact.secondary_phone:
            raise ValidationError("Secondary phone is the same as the primary phone", "secondary phone")
        s.add(contact)
        s.flush()
        audit(s, user, "contact.created", "contact", contact.id, name=contact.name)
        notify.publish(s, events.ContactChanged(contact.location_id, contact.id))
        return contact.id


def update_contact(
    actor: Actor | None,
    contact_id: Any,
    *,
    name: Any = _UNSET,
    primary_phone: Any = _UNSET,
    secondary_phone: Any = _UNSET,
    assigned_user_id: Any = _UNSET,
) -> None:
    """Edit a contact. Groups keep the captured numbers (R8): they show an Updated tag instead."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "write")
        contact = access_contact(s, user, contact_id)
        changes: dict[str, Any] = {}
        if name is not _UNSET:
            changes["name"] = clean_text(name, "name", max_length=200)
        if primary_phone is not _UNSET:
            changes["primary_phone"] = clean_phone(primary_phone, "primary phone", required=True)
        if secondary_phone is not _UNSET:
            changes["secondary_phone"] = clean_phone(secondary_phone, "secondary phone", required=False)
        if assigned_user_id is not _UNSET:
            changes["assigned_user_id"] = clean_assignee(s, user, assigned_user_id)
        changes = {k: v for k, v in changes.items() if getattr(contact, k) != v}
        if not changes:
            return
        for key, value in changes.items():
            setattr(contact, key, value)
        if contact.secondary_phone and contact.primary_phone == contact.secondary_phone:
            raise ValidationError("Secondary phone is the same as the primary phone", "secondary phone")
        contact.updated_at = utcnow()
        s.add(contact)
        audit(s, user, "contact.updated", "contact", contact.id, fields=sorted(changes))
        _changed(s, contact)


def duplicate_number_warnings(actor: Actor | None, contact_id: Any) -> list[str]:
    """Say so when another contact of the location holds one of this contact's numbers (shown
    after saving a contact: a warning, not a refusal)."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "read")
        contact = access_contact(s, user, contact_id)
        return shared_number_warnings(s, user, [contact]).get(contact.id, [])


def delete_contact(actor: Actor | None, contact_id: Any) -> None:
    """Soft delete: groups keep messaging the captured number and show a Deleted tag (R8)."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "delete")
        contact = access_contact(s, user, contact_id)
        contact.deleted_at = contact.updated_at = utcnow()
        s.add(contact)
        audit(s, user, "contact.deleted", "contact", contact.id, name=contact.name)
        _changed(s, contact)  # its groups keep texting the captured number and show a Deleted tag (R8)


def set_contact_dnd(actor: Actor | None, contact_id: Any, dnd: Any) -> list[int]:
    """Turn SMS DND on or off. Turning it on locks the contact's groups (R10); returns their ids.

    Turning it off never lifts an opt-out the contact's numbers made by texting STOP (E1): those
    stay until the number itself texts START, and the contact shows "Opted out by text on <date>"."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "write")
        contact = access_contact(s, user, contact_id)
        dnd = clean_bool(dnd, "DND")
        if contact.dnd_sms == dnd:
            return []
        locked = set_dnd(s, contact, dnd)  # publishes ContactChanged, and GroupLocked per group it locks
        audit(s, user, "contact.dnd_changed", "contact", contact.id, dnd=dnd, locked_groups=locked)
        # Only the groups the caller may see: the others' ids are none of their business (R11).
        visible = s.exec(select(Group.id).where(Group.id.in_(locked), scopes.group_visibility_clause(user)))
        return sorted(visible.all())
