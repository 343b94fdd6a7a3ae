"""The audit log (E8): who created groups, sent messages, and changed contacts, numbers, users and
permissions, and when. Read by admins (`audit:read`), one location at a time.

Each event reads as a sentence (`domain/audit_text.py`); the log is filtered by person, kind and
local date (the viewer's days, `Clock.day_bounds`), paged by event id (newest first, 50 a page),
and exported as CSV with the same filters.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from groupsms import db
from groupsms.access.policy import PERMISSIONS
from groupsms.domain import audit_text
from groupsms.domain.audit_text import KINDS, QUIET_KINDS, SYSTEM, Names, csv_cell, kind_of
from groupsms.domain.phones import format_display
from groupsms.errors import ValidationError
from groupsms.models import AuditEvent, BusinessNumber, Contact, Group, User
from groupsms.services._base import Actor, acting_user, clean_limit, participant_names, require

__all__ = ["AuditEntry", "AuditFilter", "AuditPage", "list_audit_events", "audit_page", "audit_csv",
           "PAGE_SIZE", "CSV_LIMIT"]

PAGE_SIZE = 50
CSV_LIMIT = 10_000  # rows in one export; narrow the filters for more
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str  # the user's name, or "groupsms" for loads and automatic changes
    action: str  # e.g. "user.role_changed"
    object: str  # e.g. "user 12"
    detail: str  # the recorded detail as "key: value" pairs
    sentence: str = ""  # "Ada changed Bo Broker's role from User to Admin"
    kind: str = ""  # "users" (a key of audit_text.KINDS)


@dataclass(frozen=True)
class AuditFilter:
    """What the log shows: one person's events (a user id, "system" for groupsms itself, None for
    everyone), one kind (a key of `KINDS`; "" is every kind but sign-ins), local dates inclusive."""

    person: int | str | None = None
    kind: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    has_older: bool
    has_newer: bool


def _detail(data: dict) -> str:
    return ", ".join(f"{key}: {value}" for key, value in sorted(data.items()))[:300]


def _loads(raw: str) -> dict:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _clean_date(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"{field.capitalize()} must be a date like 2026-12-01, got {str(value)[:20]!r}", field)


def _clean_filter(person: Any = None, kind: Any = "", date_from: Any = None, date_to: Any = None) -> AuditFilter:
    """The filters as the page sends them, checked: a clear error names the one that is wrong."""
    if person in (None, ""):
        who: int | str | None = None
    elif person == "system":
        who = "system"
    elif isinstance(person, int) and not isinstance(person, bool) and person > 0:
        who = person
    elif isinstance(person, str) and person.isdigit() and len(person) < 12:
        who = int(person)
    else:
        raise ValidationError("Person must be a user of this location", "person")
    if kind in (None, ""):
        kind = ""
    elif kind not in KINDS:
        raise ValidationError(f"Kind must be one of {', '.join(KINDS)}, got {str(kind)[:20]!r}", "kind")
    start, end = _clean_date(date_from, "from date"), _clean_date(date_to, "to date")
    if start and end and end < start:
        raise ValidationError("The to date is before the from date", "to date")
    return AuditFilter(who, kind, start, end)


def _where(user: User, actor: Actor, f: AuditFilter) -> list:
    clauses = [AuditEvent.location_id == user.location_id]
    if f.person == "system":
        clauses.append(AuditEvent.actor_user_id.is_(None))
    elif f.person is not None:
        clauses.append(AuditEvent.actor_user_id == f.person)
    if f.kind:
        clauses.append(or_(*(AuditEvent.action.startswith(p, autoescape=True) for p in KINDS[f.kind][1])))
    else:
        quiet = [p for k in QUIET_KINDS for p in KINDS[k][1]]
        clauses.extend(~AuditEvent.action.startswith(p, autoescape=True) for p in quiet)
    if f.date_from:
        clauses.append(AuditEvent.created_at >= actor.clock.day_bounds(f.date_from)[0])
    if f.date_to:
        clauses.append(AuditEvent.created_at < actor.clock.day_bounds(f.date_to)[1])
    return clauses


def _names(s: Session, user: User, events: list[tuple[AuditEvent, dict]]) -> Names:
    """The names the events mention, a statement per kind of object (all of this location)."""
    wanted: dict[str, set[int]] = {}
    user_ids: set[int] = set()
    for e, d in events:
        if e.object_id is not None:
            wanted.setdefault(e.object_type, set()).add(e.object_id)
        if isinstance(d.get("group"), int):
            wanted.setdefault("group", set()).add(d["group"])
        for key in ("old", "new"):
            if e.action == "number.assigned" and isinstance(d.get(key), list):
                user_ids.update(i for i in d[key] if isinstance(i, int))
        for key in ("for_user", "assigned_user_id"):
            if isinstance(d.get(key), int):
                user_ids.add(d[key])
        for side in ("before", "after"):
            if isinstance(d.get(side), dict) and isinstance(d[side].get("assigned_user_id"), int):
                user_ids.add(d[side]["assigned_user_id"])
    objects: dict[tuple[str, int], str] = {}
    loc = user.location_id
    if ids := wanted.get("contact"):
        for cid, name in s.exec(select(Contact.id, Contact.name).where(Contact.id.in_(ids), Contact.location_id == loc)):
            objects[("contact", cid)] = name
    user_ids |= wanted.get("user", set())
    users: dict[int, str] = {}
    if user_ids:
        for uid, name in s.exec(select(User.id, User.name).where(User.id.in_(user_ids), User.location_id == loc)):
            users[uid] = name
            objects[("user", uid)] = name
    if ids := wanted.get("group"):
        found = dict(s.exec(select(Group.id, Group.name).where(Group.id.in_(ids), Group.location_id == loc)).all())
        people = participant_names(s, found)
        for gid, name in found.items():
            objects[("group", gid)] = f"'{name}'" if name else ", ".join(people.get(gid, [])) or f"group #{gid}"
    if ids := wanted.get("business_number"):
        for nid, label, e164 in s.exec(select(BusinessNumber.id, BusinessNumber.label, BusinessNumber.e164)
                                       .where(BusinessNumber.id.in_(ids), BusinessNumber.location_id == loc)):
            shown = format_display(e164)
            objects[("business_number", nid)] = f"{label} {shown}" if label and label != shown else shown
            objects[("number_display", nid)] = shown
    permissions = {f"{obj}:{act}": text for (obj, act), text in PERMISSIONS.items()}
    return Names(objects, users, permissions)


def _entries(s: Session, user: User, rows) -> list[AuditEntry]:
    events = [(e, _loads(e.detail), u) for e, u in rows]
    names = _names(s, user, [(e, d) for e, d, _ in events])
    out = []
    for e, d, u in events:
        who = u.name if u else SYSTEM
        out.append(AuditEntry(
            e.id, e.created_at, who, e.action,
            f"{e.object_type} {e.object_id}" if e.object_id is not None else e.object_type, _detail(d),
            audit_text.sentence(who, e.action, e.object_type, e.object_id, d, names), kind_of(e.action),
        ))
    return out


def _query(clauses: list):
    return (select(AuditEvent, User).join(User, User.id == AuditEvent.actor_user_id, isouter=True)
            .where(*clauses))


def _cursor(value: Any, field: str) -> int | None:
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{field.capitalize()} must be an event number", field)
    return value


def audit_page(actor: Actor | None, person: Any = None, kind: Any = "", date_from: Any = None,
               date_to: Any = None, *, before_id: Any = None, after_id: Any = None,
               limit: Any = PAGE_SIZE) -> AuditPage:
    """One page of the log, newest first: the newest events (no cursor), those older than
    `before_id` ("Older"), or those just newer than `after_id` ("Newer"). Filters: `person` (a
    user id, "system" for groupsms itself), `kind` (a key of `KINDS`; "" is everything but
    sign-ins), `date_from`/`date_to` ("2026-12-01", days in the viewer's zone, inclusive)."""
    f = _clean_filter(person, kind, date_from, date_to)
    before, after = _cursor(before_id, "before"), _cursor(after_id, "after")
    size = clean_limit(limit, PAGE_SIZE, 200)
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "audit", "read")
        clauses = _where(user, actor, f)
        if after is not None:
            rows = s.exec(_query([*clauses, AuditEvent.id > after]).order_by(AuditEvent.id.asc()).limit(size)).all()
            rows = list(reversed(rows))
        else:
            extra = [AuditEvent.id < before] if before is not None else []
            rows = s.exec(_query([*clauses, *extra]).order_by(AuditEvent.id.desc()).limit(size)).all()
        entries = _entries(s, user, rows)

        def exists(*extra) -> bool:
            return s.exec(select(AuditEvent.id).where(*clauses, *extra).limit(1)).first() is not None

        if not entries:  # past either end: the way back is what is left
            return AuditPage([], after is not None and exists(AuditEvent.id <= after),
                             before is not None and exists(AuditEvent.id >= before))
        newest, oldest = entries[0].id, entries[-1].id
        return AuditPage(entries, exists(AuditEvent.id < oldest), exists(AuditEvent.id > newest))


def list_audit_events(actor: Actor | None, limit: Any = 50) -> list[AuditEntry]:
    """The newest changes in the actor's location (sign-ins left out)."""
    return audit_page(actor, limit=limit).entries


def audit_csv(actor: Actor | None, person: Any = None, kind: Any = "", date_from: Any = None,
              date_to: Any = None) -> str:
    """The log with `audit_page`'s filters as CSV (newest first, at most CSV_LIMIT rows), times in
    the viewer's zone (its name in the header), every cell safe to open in a spreadsheet."""
    f = _clean_filter(person, kind, date_from, date_to)
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "audit", "read")
        rows = s.exec(_query(_where(user, actor, f)).order_by(AuditEvent.id.desc()).limit(CSV_LIMIT)).all()
        entries = _entries(s, user, rows)
    clock = actor.clock
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"When ({clock.zone_name})", "Who", "Kind", "What", "Action", "Object", "Detail"])
    for e in entries:
        kind = KINDS.get(e.kind, ("Other",))[0]
        writer.writerow([csv_cell(v) for v in (clock.iso(e.at), e.actor, kind, e.sentence, e.action, e.object,
                                               e.detail)])
    return out.getvalue()
