"""Contacts from a CSV file (E9): good rows are imported, bad rows are skipped and reported.

Choices, so a newcomer need not guess:
- One transaction for the whole file, not one `contacts.create_contact` call per row: a 5000-row
  file then costs one commit (and one lock on SQLite) instead of 5000, and a crash half-way leaves
  nothing half-imported. Row validation reuses the contact service's own helpers, so a row is
  accepted exactly when the contacts page would accept it.
- A row whose primary phone matches a contact the importer can see (same location, not deleted)
  updates that contact instead of adding a duplicate. Contacts the importer cannot see are never
  matched (R11/R14: an import must not reveal or change them); a new contact is created instead,
  as the contacts page would.
- Empty cells (and missing optional columns) leave an existing contact's value as it is.
- DND can be turned on by an import, never off: a contact who texted STOP stays opted out until
  someone lifts it on the contacts page (E1).
- Row numbers are the ones a spreadsheet shows: the header is row 1.
- A row whose number another contact of the location also holds is imported with a warning
  (duplicate CRM records are common; a reply from such a number may need routing by hand).
- Every contact created or changed publishes `ContactChanged` (with its groups) on commit, as the
  contacts page's edits do.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.access import scopes
from groupsms.errors import GroupsmsError, ValidationError
from groupsms.messaging import events, notify
from groupsms.messaging.optout import set_dnd
from groupsms.models import Contact, Participant, User, utcnow
from groupsms.services._base import (
    Actor,
    acting_user,
    audit,
    clean_assignee,
    clean_phone,
    clean_text,
    require,
)
from groupsms.services._duplicates import shared_number_warnings

__all__ = ["ImportReport", "import_contacts_csv", "MAX_CSV_BYTES", "MAX_CSV_ROWS"]

MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 5000
_MAX_ROW_ERRORS = 200  # more than this and the report lists the first ones and a count

# Accepted header spellings (compared lower-cased, with spaces and dashes as underscores).
_COLUMNS = {
    "name": "name", "full_name": "name",
    "primary_phone": "primary_phone", "phone": "primary_phone", "primary": "primary_phone",
    "secondary_phone": "secondary_phone", "secondary": "secondary_phone",
    "dnd": "dnd",
    "assigned_to": "assigned_to", "assigned_user": "assigned_to", "assigned_to_email": "assigned_to",
}
_REQUIRED = ("name", "primary_phone")
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"", "0", "false", "no", "n", "off"}


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    errors: tuple[str, ...]  # "Row 3: primary phone: '555-12' is not a valid phone number"
    skipped: int = 0  # rows not imported because of an error
    unchanged: int = 0  # rows matching an existing contact that already had these values
    ignored_columns: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # "Row 4: (512) 555-0111 is also the number of Carla Client: …"


def _header_key(raw: str) -> str:
    return "_".join(raw.strip().lower().replace("-", " ").split())


def _read(csv_text: Any) -> tuple[dict[str, int], list[str], list[list[str]]]:
    """Column positions by field, unknown headers, data rows. Refuses what is not a usable CSV."""
    if not isinstance(csv_text, str):
        raise ValidationError("The CSV must be text", "csv")
    if len(csv_text.encode("utf-8", "surrogatepass")) > MAX_CSV_BYTES:
        raise ValidationError(
            f"The file is too large: import at most {MAX_CSV_BYTES // 1_000_000} MB "
            f"({MAX_CSV_ROWS} rows) at a time", "csv",
        )
    text = csv_text.lstrip("\ufeff")  # spreadsheets often start UTF-8 files with a BOM
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ValidationError(f"The file is not a readable CSV: {exc}", "csv") from exc
    if not rows:
        raise ValidationError("The file is empty: it needs a header row and one row per contact", "csv")
    header, data = rows[0], rows[1:]
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, raw in enumerate(header):
        field = _COLUMNS.get(_header_key(raw))
        if field is None or field in positions:
            if raw.strip():
                ignored.append(raw.strip()[:40])
            continue
        positions[field] = index
    missing = [f for f in _REQUIRED if f not in positions]
    if missing:
        raise ValidationError(
            "The header row needs the columns name and primary_phone "
            f"(missing: {', '.join(missing)}); optional: secondary_phone, dnd, assigned_to", "csv",
        )
    if not data:
        raise ValidationError("The file has a header row but no contacts", "csv")
    if len(data) > MAX_CSV_ROWS:
        raise ValidationError(f"The file has {len(data)} rows: import at most {MAX_CSV_ROWS} at a time", "csv")
    return positions, ignored, data


def _cell(row: list[str], positions: dict[str, int], field: str) -> str | None:
    """The cell's text, or None when the column is missing or the cell empty."""
    index = positions.get(field)
    if index is None or index >= len(row):
        return None
    value = row[index].strip()
    return value or None


def _dnd(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValidationError(f"DND: {value[:40]!r} is not yes/no (use true, false, yes, no, 1 or 0)", "dnd")


def _row_message(row_number: int, exc: GroupsmsError) -> str:
    text = str(exc)
    if text[1:2].islower():  # "Primary phone: …" reads "Row 3: primary phone: …"; "DND" stays
        text = text[:1].lower() + text[1:]
    return f"Row {row_number}: {text}"


def import_contacts_csv(actor: Actor | None, csv_text: Any) -> ImportReport:
    """Create or update contacts from CSV text: name, primary_phone, secondary_phone, dnd, assigned_to."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "write")
        positions, ignored, data = _read(csv_text)
        emails = {
            email: uid
            for uid, email in s.exec(
                select(User.id, func.lower(User.email)).where(User.location_id == user.location_id)
            )
        }
        visible = {c.primary_phone: c for c in s.exec(scopes.contacts_for(user).order_by(Contact.id))}
        created = updated = unchanged = skipped = 0
        errors: list[str] = []
        saved: dict[int, tuple[int, Contact]] = {}  # contact id → (its last row, the contact)
        dnd_turned_on: set[int] = set()  # their ContactChanged is published by set_dnd
        for offset, row in enumerate(data):
            row_number = offset + 2  # the header is row 1
            try:
                outcome = _import_row(s, user, row, positions, emails, visible, dnd_turned_on)
            except GroupsmsError as exc:
                skipped += 1
                if len(errors) < _MAX_ROW_ERRORS:
                    errors.append(_row_message(row_number, exc))
                continue
            status, contact = outcome
            created += status == "created"
            updated += status == "updated"
            unchanged += status == "unchanged"
            if status != "unchanged":
                saved[contact.id] = (row_number, contact)
        if skipped > len(errors):
            errors.append(f"… and {skipped - len(errors)} more rows with errors")
        warnings = _warnings(s, user, saved)
        audit(s, user, "contacts.imported", "contact", None, created=created, updated=updated,
              unchanged=unchanged, skipped=skipped)
        _publish(s, user, [cid for cid in saved if cid not in dnd_turned_on])
        return ImportReport(created, updated, tuple(errors), skipped, unchanged, tuple(ignored), warnings)


def _publish(s, user: User, contact_ids: list[int]) -> None:
    """ContactChanged for each contact, with the groups it is in (one statement for them all)."""
    if not contact_ids:
        return
    groups: dict[int, set[int]] = {}
    for cid, gid in s.exec(select(Participant.contact_id, Participant.group_id)
                           .where(Participant.contact_id.in_(sorted(contact_ids)))):
        groups.setdefault(cid, set()).add(gid)
    for cid in contact_ids:
        notify.publish(s, events.ContactChanged(user.location_id, cid, tuple(sorted(groups.get(cid, ())))))


def _warnings(s, user: User, saved: dict[int, tuple[int, Contact]]) -> tuple[str, ...]:
    by_contact = shared_number_warnings(s, user, [c for _, c in saved.values()])
    lines = [f"Row {saved[cid][0]}: {w}" for cid in sorted(by_contact, key=lambda c: saved[c][0])
             for w in by_contact[cid]]
    if len(lines) > _MAX_ROW_ERRORS:
        lines = [*lines[:_MAX_ROW_ERRORS], f"… and {len(lines) - _MAX_ROW_ERRORS} more rows with a shared number"]
    return tuple(lines)


def _import_row(
    s, user: User, row: list[str], positions, emails: dict[str, int], visible, dnd_turned_on: set[int]
) -> tuple[str, Contact]:
    """Validate one row completely, then write it: ('created' | 'updated' | 'unchanged', the contact)."""
    name = clean_text(_cell(row, positions, "name"), "name", max_length=200)
    primary = clean_phone(_cell(row, positions, "primary_phone"), "primary phone", required=True)
    secondary = clean_phone(_cell(row, positions, "secondary_phone"), "secondary phone", required=False)
    if secondary and secondary == primary:
        raise ValidationError("Secondary phone is the same as the primary phone", "secondary phone")
    dnd = _dnd(_cell(row, positions, "dnd"))
    email = _cell(row, positions, "assigned_to")
    assignee: Any = None
    if email is not None:
        assignee = emails.get(email.lower())
        if assignee is None:
            raise ValidationError(f"Assigned to: no user with the email {email[:80]!r} in this location", "assigned to")
    existing = visible.get(primary)
    if existing is None:
        if email is None and not scopes.has_full_data_access(user):
            assignee = user.id  # assigned-only users create contacts assigned to themselves
        contact = Contact(
            location_id=user.location_id, name=name, primary_phone=primary, secondary_phone=secondary,
            dnd_sms=bool(dnd), assigned_user_id=clean_assignee(s, user, assignee),
        )
        s.add(contact)
        s.flush()
        visible[primary] = contact
        audit(s, user, "contact.created", "contact", contact.id, name=contact.name, source="csv import")
        return "created", contact
    changes: dict[str, Any] = {"name": name}
    if secondary is not None:
        changes["secondary_phone"] = secondary
    if email is not None:
        changes["assigned_user_id"] = clean_assignee(s, user, assignee)
    changes = {k: v for k, v in changes.items() if getattr(existing, k) != v}
    turn_dnd_on = bool(dnd) and not existing.dnd_sms
    if not changes and not turn_dnd_on:
        return "unchanged", existing
    for key, value in changes.items():
        setattr(existing, key, value)
    existing.updated_at = utcnow()
    s.add(existing)
    fields = sorted(changes)
    if turn_dnd_on:
        locked = set_dnd(s, existing, True)
        dnd_turned_on.add(existing.id)
        fields.append("dnd")
        audit(s, user, "contact.dnd_changed", "contact", existing.id, dnd=True, locked_groups=locked,
              source="csv import")
    audit(s, user, "contact.updated", "contact", existing.id, fields=fields, source="csv import")
    s.flush()
    return "updated", existing
