"""Contacts: list, create, edit, soft delete and DND (R8, R10, R11).

Every change publishes `ContactChanged` on commit with the groups the contact is in (their pages
show its tags and locks); turning DND on also publishes `GroupLocked` for each group it locks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import access_contact
from groupsms.access.search import contact_search_clause
from groupsms.domain.phones import format_display, is_us_ca
from groupsms.errors import FieldError, ValidationError
from groupsms.messaging import events, notify
from groupsms.messaging.optout import groups_of_contact, opted_out_notes, set_dnd
from groupsms.guards import CONTACT_MERGE
from groupsms.models import Contact, Group, Participant, utcnow
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
    "merge_contacts",
    "MERGE_FIELDS",
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


def _checked(*checks: tuple[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run every field's check; one ValidationError naming every wrong field (a form shows each
    under its field), else the cleaned values by column."""
    values: dict[str, Any] = {}
    problems: list[FieldError] = []
    for key, check in checks:
        try:
            values[key] = check()
        except ValidationError as exc:
            problems.extend(exc.errors)
    if problems:
        raise ValidationError(problems)
    return values


def _name(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError("Name: enter a name", "name")
    return clean_text(value, "name", max_length=200)


def _phone(value: Any, field: str, *, required: bool) -> str | None:
    """`clean_phone`, saying what to do: an empty required number, and a +1 (or no country code)
    number that is not a real US or Canada number, which is what most typos are."""
    label = field.capitalize()
    if required and (value is None or (isinstance(value, str) and not value.strip())):
        raise ValidationError(f"{label}: enter a phone number", field)
    try:
        return clean_phone(value, field, required=required)
    except ValidationError as exc:
        text = value.strip() if isinstance(value, str) else ""
        if "is not a valid phone number" in str(exc):
            if text.startswith("+1") or not text.startswith("+"):
                raise ValidationError(f"{label}: this isn't a valid US or Canada number", field) from exc
            raise ValidationError(f"{label}: this isn't a valid phone number", field) from exc
        raise


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
        values = _checked(
            ("name", lambda: _name(name)),
            ("primary_phone", lambda: _phone(primary_phone, "primary phone", required=True)),
            ("secondary_phone", lambda: _phone(secondary_phone, "secondary phone", required=False)),
            ("dnd_sms", lambda: clean_bool(dnd, "DND")),
            ("assigned_user_id", lambda: clean_assignee(s, user, assigned_user_id)),
        )
        contact = Contact(location_id=user.location_id, **values)
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
        checks = []
        if name is not _UNSET:
            checks.append(("name", lambda: _name(name)))
        if primary_phone is not _UNSET:
            checks.append(("primary_phone", lambda: _phone(primary_phone, "primary phone", required=True)))
        if secondary_phone is not _UNSET:
            checks.append(("secondary_phone", lambda: _phone(secondary_phone, "secondary phone", required=False)))
        if assigned_user_id is not _UNSET:
            checks.append(("assigned_user_id", lambda: clean_assignee(s, user, assigned_user_id)))
        changes: dict[str, Any] = _checked(*checks)
        changes = {k: v for k, v in changes.items() if getattr(contact, k) != v}
        if not changes:
            return
        before = {key: getattr(contact, key) for key in changes}  # the audit's "from … to …"
        for key, value in changes.items():
            setattr(contact, key, value)
        if contact.secondary_phone and contact.primary_phone == contact.secondary_phone:
            raise ValidationError("Secondary phone is the same as the primary phone", "secondary phone")
        contact.updated_at = utcnow()
        s.add(contact)
        audit(s, user, "contact.updated", "contact", contact.id, fields=sorted(changes), before=before,
              after=changes)
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


# What a merge lets the user pick from either contact ("keep" or "other"); the rest is combined.
MERGE_FIELDS = ("name", "primary_phone", "secondary_phone")


def _merge_choices(choices: Any) -> dict[str, str]:
    if choices is None:
        return {}
    if not isinstance(choices, dict):
        raise ValidationError("Merge choices must map name, primary_phone or secondary_phone to keep or other",
                              "choices")
    problems = [FieldError(str(k)[:40], f"{str(k)[:40]}: choose keep or other") for k, v in choices.items()
                if k not in MERGE_FIELDS or v not in ("keep", "other")]
    if problems:
        raise ValidationError(problems)
    return dict(choices)


def _merged_values(keep: Contact, other: Contact, picks: dict[str, str]) -> dict[str, Any]:
    """The kept contact's values after the merge: each picked field from the contact picked; by
    default its own value, and a number it lacks from the other contact."""
    chosen = lambda field: getattr(other if picks.get(field) == "other" else keep, field)  # noqa: E731
    primary = chosen("primary_phone")
    if "secondary_phone" in picks:
        secondary = chosen("secondary_phone")
    else:
        spare = [n for n in (keep.secondary_phone, keep.primary_phone, other.primary_phone, other.secondary_phone)
                 if n and n != primary]
        secondary = spare[0] if spare else None
    if primary is None:
        primary, secondary = secondary, None
    return {
        "name": chosen("name"),
        "primary_phone": primary,
        "secondary_phone": None if secondary == primary else secondary,
        "assigned_user_id": keep.assigned_user_id if keep.assigned_user_id is not None else other.assigned_user_id,
    }


def merge_contacts(actor: Actor | None, keep_id: Any, other_id: Any, choices: Any = None) -> int:
    """Merge a duplicate into the contact to keep, in one transaction; returns the kept id.

    The kept contact takes the picked fields (`choices`: MERGE_FIELDS → "keep" | "other"; by default
    its own values, and the other's numbers where its own are empty), the other's assignment when
    it has none, and DND when either has it. Groups keep the name and number each participant
    captured (R8): the other's participants now belong to the kept contact, so its tags, DND and
    access apply to them (a DND locks every group that had either contact, R10). The other contact
    is soft-deleted and remembers whom it was merged into. Merging removes a contact: it needs the
    role's edit and delete permissions, and both contacts must be ones the user may see (R11)."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "write")
        require(s, user, "contact", "delete")
        keep = access_contact(s, user, keep_id)
        other = access_contact(s, user, other_id)
        if keep.id == other.id:
            raise ValidationError("Choose two different contacts: a contact cannot be merged into itself",
                                  "other contact")
        values = _merged_values(keep, other, _merge_choices(choices))
        before = {k: getattr(keep, k) for k in values}
        dnd = keep.dnd_sms or other.dnd_sms
        now = utcnow()
        other.deleted_at = other.updated_at = now
        other.merged_into_id = keep.id
        ref = other.ref if keep.ref is None else None
        if ref is not None:
            other.ref = None  # the CRM's id now names the kept contact (refs are unique per location)
        s.add(other)
        s.flush()
        for key, value in values.items():
            setattr(keep, key, value)
        if ref is not None:
            keep.ref = ref
        keep.updated_at = now
        s.add(keep)
        moved = s.exec(select(Participant).where(Participant.contact_id == other.id)).all()
        s.info[CONTACT_MERGE] = {other.id: keep.id}
        try:
            for p in moved:
                p.contact_id = keep.id
                # Which of the kept contact's numbers it is, when it holds it (else its tag says Updated).
                p.which = ("primary" if p.e164 == keep.primary_phone
                           else "secondary" if p.e164 == keep.secondary_phone else p.which)
                s.add(p)
            s.flush()
        finally:
            s.info.pop(CONTACT_MERGE, None)
        locked = set_dnd(s, keep, True) if dnd else []
        audit(s, user, "contact.merged", "contact", keep.id,
              summary=f"{user.name} merged {other.name} into {keep.name}", merged_id=other.id,
              merged_name=other.name, before=before, after=values, moved_participants=len(moved),
              locked_groups=locked)
        _changed(s, keep)
        notify.publish(s, events.ContactChanged(other.location_id, other.id))
        return keep.id
