"""Contacts from a CSV file (E9): good rows are imported, bad rows are skipped and reported.

Choices, so a newcomer need not guess:
- One transaction for the whole file, not one `contacts.create_contact` call per row: a 5000-row
  file then costs one commit (and one lock on SQLite) instead of 5000, and a crash half-way leaves
  nothing half-imported. Row validation reuses the contact service's own helpers, so a row is
  accepted exactly when the contacts page would accept it.
- A row is matched to a contact the importer can see (same location, not deleted) by its external
  id (the CRM's id, an optional `external_id` column), else by its primary phone, and updates that
  contact instead of adding a duplicate. A row matched by external id may change the primary
  phone; one matched by phone gives the contact its external id if it has none. Contacts the importer cannot see are never
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
from groupsms.domain.phones import format_display
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

__all__ = [
    "ImportPreview", "ImportReport", "PreviewRow", "import_contacts_csv", "preview_contacts_csv",
    "MATCH_RULE", "MAX_CSV_BYTES", "MAX_CSV_ROWS",
]

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
    "external_id": "external_id", "ref": "external_id", "crm_id": "external_id",
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
            f"(missing: {', '.join(missing)}); optional: secondary_phone, dnd, assigned_to, external_id", "csv",
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


def _location_emails(s, user: User) -> dict[str, int]:
    """The lower-cased email → id of every user of the location (the `assigned_to` column)."""
    return {
        email: uid
        for uid, email in s.exec(select(User.id, func.lower(User.email)).where(User.location_id == user.location_id))
    }


def import_contacts_csv(actor: Actor | None, csv_text: Any) -> ImportReport:
    """Create or update contacts from CSV text: name, primary_phone, secondary_phone, dnd, assigned_to."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "write")
        positions, ignored, data = _read(csv_text)
        emails = _location_emails(s, user)
        visible = _known(s, user)
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


@dataclass
class _Known:
    """What rows are matched against: the importer's visible contacts by primary phone and by
    external id, and every external id the location uses (unique per location, seen or not)."""

    by_phone: dict[str, Contact]
    by_ref: dict[str, Contact]
    refs: set[str]

    def remember(self, contact: Contact, was: Contact | None = None) -> None:
        """Later rows match `contact` as this row leaves it (`was`: what it matched before)."""
        if was is not None and self.by_phone.get(was.primary_phone) is was:
            del self.by_phone[was.primary_phone]
        self.by_phone[contact.primary_phone] = contact
        if contact.ref:
            self.by_ref[contact.ref] = contact
            self.refs.add(contact.ref)


def _known(s, user: User) -> _Known:
    visible = list(s.exec(scopes.contacts_for(user).order_by(Contact.id)))
    refs = set(s.exec(select(Contact.ref).where(Contact.location_id == user.location_id,
                                                Contact.ref.is_not(None))).all())
    return _Known({c.primary_phone: c for c in visible}, {c.ref: c for c in visible if c.ref}, refs)


@dataclass
class _RowPlan:
    """What one valid row will do, worked out without writing anything."""

    name: str
    primary: str
    secondary: str | None
    dnd: bool | None
    assignee: int | None
    existing: Contact | None  # the contact it updates; None: a new contact
    changes: dict[str, Any]
    turn_dnd_on: bool
    ref: str | None = None  # the row's external id
    matched_by: str = ""  # "external id" | "primary phone" ("" for a new contact)


def _plan_row(s, user: User, row: list[str], positions, emails: dict[str, int], visible: _Known) -> _RowPlan:
    """Validate one row completely and match it (by external id, then by primary phone, among the
    contacts the importer may see): raises the row's error, writes nothing."""
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
    ref = _cell(row, positions, "external_id")
    if ref is not None and len(ref) > 64:
        raise ValidationError("External id: at most 64 characters", "external id")
    existing, matched_by = None, ""
    if ref is not None and ref in visible.by_ref:
        existing, matched_by = visible.by_ref[ref], "external id"
    elif primary in visible.by_phone:
        existing, matched_by = visible.by_phone[primary], "primary phone"
        if ref is not None and existing.ref not in (None, ref):
            raise ValidationError(
                f"External id: the contact with this primary phone has another external id ({existing.ref!r})",
                "external id")
    if ref is not None and (existing is None or existing.ref is None) and ref in visible.refs:
        raise ValidationError(f"External id: {ref[:64]!r} is already used by another contact", "external id")
    if existing is None:
        if email is None and not scopes.has_full_data_access(user):
            assignee = user.id  # assigned-only users create contacts assigned to themselves
        return _RowPlan(name, primary, secondary, dnd, clean_assignee(s, user, assignee), None, {}, False, ref)
    changes: dict[str, Any] = {"name": name, "primary_phone": primary}
    if ref is not None:
        changes["ref"] = ref
    if secondary is not None:
        changes["secondary_phone"] = secondary
    if email is not None:
        changes["assigned_user_id"] = clean_assignee(s, user, assignee)
    changes = {k: v for k, v in changes.items() if getattr(existing, k) != v}
    if changes.get("secondary_phone", existing.secondary_phone) == primary:
        raise ValidationError("Secondary phone is the same as the primary phone", "secondary phone")
    return _RowPlan(name, primary, secondary, dnd, None, existing, changes, bool(dnd) and not existing.dnd_sms,
                    ref, matched_by)


def _import_row(
    s, user: User, row: list[str], positions, emails: dict[str, int], visible, dnd_turned_on: set[int]
) -> tuple[str, Contact]:
    """Validate one row completely, then write it: ('created' | 'updated' | 'unchanged', the contact)."""
    plan = _plan_row(s, user, row, positions, emails, visible)
    if plan.existing is None:
        contact = Contact(
            location_id=user.location_id, name=plan.name, primary_phone=plan.primary,
            secondary_phone=plan.secondary, dnd_sms=bool(plan.dnd), assigned_user_id=plan.assignee, ref=plan.ref,
        )
        s.add(contact)
        s.flush()
        visible.remember(contact)
        audit(s, user, "contact.created", "contact", contact.id, name=contact.name, source="csv import")
        return "created", contact
    existing, changes, turn_dnd_on = plan.existing, plan.changes, plan.turn_dnd_on
    if not changes and not turn_dnd_on:
        return "unchanged", existing
    before = {key: getattr(existing, key) for key in changes}  # the audit's "from … to …"
    old_primary = existing.primary_phone
    for key, value in changes.items():
        setattr(existing, key, value)
    existing.updated_at = utcnow()
    s.add(existing)
    if existing.primary_phone != old_primary:
        visible.by_phone.pop(old_primary, None)
    visible.remember(existing)
    fields = sorted(changes)
    if turn_dnd_on:
        locked = set_dnd(s, existing, True)
        dnd_turned_on.add(existing.id)
        fields.append("dnd")
        audit(s, user, "contact.dnd_changed", "contact", existing.id, dnd=True, locked_groups=locked,
              source="csv import")
    audit(s, user, "contact.updated", "contact", existing.id, fields=fields, source="csv import",
          before=before, after=dict(changes))
    s.flush()
    return "updated", existing


# -- preview: what an import of this file would do, row by row, before anything is written --------

MATCH_RULE = ("Rows are matched to existing contacts you can see by external id (an external_id column), "
              "then by primary phone number (a later row updates the contact an earlier row adds)")
_FIELD_WORDS = {"name": "name", "primary_phone": "primary phone", "secondary_phone": "secondary phone",
                "assigned_user_id": "assignment", "ref": "external id", "dnd": "DND on"}


@dataclass(frozen=True)
class PreviewRow:
    row: int  # as a spreadsheet numbers it: the header is row 1
    outcome: str  # "new" | "update" | "unchanged" | "skip"
    text: str  # "Row 3: matched by primary phone (512) 555-0111 (Carla Client): updates name"


@dataclass(frozen=True)
class ImportPreview:
    summary: str  # MATCH_RULE, then "12 update existing contacts, 30 are new, 2 skipped (row 4: …)"
    new: int
    update: int
    unchanged: int
    skipped: int
    rows: tuple[PreviewRow, ...]  # at most MAX_PREVIEW_ROWS; `summary` counts them all
    ignored_columns: tuple[str, ...] = ()


MAX_PREVIEW_ROWS = 200


def preview_contacts_csv(actor: Actor | None, csv_text: Any) -> ImportPreview:
    """What `import_contacts_csv` would do with this text, row by row, writing nothing: the same
    checks and the same matching, so the preview and the import never disagree."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "write")
        positions, ignored, data = _read(csv_text)
        emails = _location_emails(s, user)
        visible = _known(s, user)
        added: dict[str, int] = {}  # primary phone → the row that adds that contact
        rows: list[PreviewRow] = []
        counts = {"new": 0, "update": 0, "unchanged": 0, "skip": 0}
        reasons: list[str] = []
        for offset, row in enumerate(data):
            number = offset + 2
            try:
                plan = _plan_row(s, user, row, positions, emails, visible)
            except GroupsmsError as exc:
                message = _row_message(number, exc)
                entry = PreviewRow(number, "skip", f"{message} (skipped)")
                if len(reasons) < 3:
                    reasons.append(message[:1].lower() + message[1:])
            else:
                entry = _preview_entry(number, plan, added)
                # Later rows are matched as the import would match them: against this row's result.
                visible.remember(_after(user, plan), plan.existing)
                if plan.existing is None:
                    added.setdefault(plan.primary, number)
                    if plan.ref:
                        added.setdefault(plan.ref, number)
            counts[entry.outcome] += 1
            if len(rows) < MAX_PREVIEW_ROWS:
                rows.append(entry)
        return ImportPreview(_summary(counts, reasons), counts["new"], counts["update"], counts["unchanged"],
                             counts["skip"], tuple(rows), tuple(ignored))


def _preview_entry(number: int, plan: _RowPlan, added: dict[str, int]) -> PreviewRow:
    if plan.existing is None:
        return PreviewRow(number, "new", f"Row {number}: new contact {plan.name}")
    key = plan.ref if plan.matched_by == "external id" else plan.primary
    who = f"the contact row {added[key]} adds" if key in added else plan.existing.name
    how = f"external id {plan.ref}" if plan.matched_by == "external id" else f"primary phone {format_display(plan.primary)}"
    matched = f"Row {number}: matched by {how} ({who})"
    fields = [_FIELD_WORDS.get(k, k) for k in sorted(plan.changes)] + (["DND on"] if plan.turn_dnd_on else [])
    if not fields:
        return PreviewRow(number, "unchanged", f"{matched}: already up to date")
    return PreviewRow(number, "update", f"{matched}: updates {', '.join(fields)}")


def _after(user: User, plan: _RowPlan) -> Contact:
    """A detached copy of the contact as the row leaves it (the preview changes nothing stored)."""
    base = plan.existing
    values = {
        "name": plan.name, "primary_phone": plan.primary, "secondary_phone": plan.secondary,
        "dnd_sms": bool(plan.dnd), "assigned_user_id": plan.assignee,
    } if base is None else {
        "name": base.name, "primary_phone": base.primary_phone, "secondary_phone": base.secondary_phone,
        "dnd_sms": base.dnd_sms or plan.turn_dnd_on, "assigned_user_id": base.assigned_user_id, **plan.changes,
    }
    return Contact(id=base.id if base else None, location_id=user.location_id, ref=plan.ref or (base.ref if base else None),
                   **{k: v for k, v in values.items() if k != "ref"})


def _summary(counts: dict[str, int], reasons: list[str]) -> str:
    parts = [
        f"{counts['update']} update{'s an existing contact' if counts['update'] == 1 else ' existing contacts'}",
        f"{counts['new']} {'is' if counts['new'] == 1 else 'are'} new",
    ]
    if counts["unchanged"]:
        parts.append(f"{counts['unchanged']} already up to date")
    skipped = f"{counts['skip']} skipped"
    if reasons:
        more = counts["skip"] - len(reasons)
        skipped += f" ({'; '.join(reasons)}{f'; and {more} more' if more > 0 else ''})"
    parts.append(skipped)
    return f"{MATCH_RULE}: {', '.join(parts)}."
