"""Load file (DESIGN §4): locations, users, business numbers and contacts, upserted by `ref`.

Two phases. First the whole document is validated, against itself and against the database, and
every error is collected, each naming the file, the entry and the field. Only a fully valid document
is then applied, in one transaction: a row is created or updated by its ref (the location by its ref,
the others by (location, ref)); rows not in the file are left as they are, and so are the fields an
entry leaves out (but for the required ones). One audit event is written per created or updated row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, select

from groupsms import db
from groupsms.domain import phones
from groupsms.errors import GroupsmsError
from groupsms.models import (
    DATA_ACCESS,
    ROLES,
    AuditEvent,
    BusinessNumber,
    Contact,
    Location,
    NumberAssignment,
    User,
    utcnow,
)
from groupsms.services._dnd import lock_groups_of_contact
from groupsms.security import check_password_strength, hash_password, verify_password

KINDS = {"location": "locations", "user": "users", "number": "numbers", "contact": "contacts"}
# Refs appear in commands such as `--participant carla:primary`, hence no colon, no spaces.
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


class LoadError(GroupsmsError):
    """The file was refused; nothing was written. `errors` holds one readable line per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass
class LoadReport:
    source: str
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def summary(self) -> str:
        def part(counts: dict[str, int]) -> str:
            items = [f"{n} {kind if n == 1 else KINDS[kind]}" for kind, n in counts.items() if n]
            return ", ".join(items) or "nothing"

        same = sum(self.unchanged.values())
        return (
            f"Loaded {self.source}: created {part(self.created)}; updated {part(self.updated)}; "
            f"{same} row{'' if same == 1 else 's'} already up to date"
        )


# ---------------------------------------------------------------------------------------------
# Field checks: each returns the normalized value or raises _Invalid with the reason.


class _Invalid(ValueError):
    pass


def _got(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(max_len: int, *, allow_empty: bool = False) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _Invalid(f"must be a string, got {_got(value)}")
        text = value.strip()
        if not text and not allow_empty:
            raise _Invalid("must not be empty")
        if len(text) > max_len:
            raise _Invalid(f"must be at most {max_len} characters, got {len(text)}")
        return text

    return check


def _ref(value: Any) -> str:
    text = _text(64)(value)
    if not _REF.match(text):
        raise _Invalid(f"must be letters, digits, '-', '_' or '.', got {_got(value)}")
    return text


def _email(value: Any) -> str:
    text = _text(254)(value).lower()
    local, at, domain = text.partition("@")
    if not at or not local or "." not in domain or "@" in domain or " " in text:
        raise _Invalid(f"is not an email address: {_got(value)}")
    return text


def _password(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"must be a string, got {_got(value)}")
    problem = check_password_strength(value)
    if problem:
        raise _Invalid(problem)
    return value


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            wanted = " or ".join(f'"{o}"' for o in options)
            raise _Invalid(f"must be {wanted}, got {_got(value)}")
        return value

    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, got {_got(value)}")
    return value


def _phone(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"must be a string, got {_got(value)}")
    try:
        return phones.normalize(value)
    except phones.PhoneError as err:
        raise _Invalid(str(err)) from None


def _business_phone(value: Any) -> str:
    e164 = _phone(value)
    if not phones.is_us_ca(e164):
        region = phones.region_of(e164) or "unknown region"
        raise _Invalid(f"{e164} is a {region} number; a business number must be a US or Canada number")
    return e164


def _nullable(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _ref_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _Invalid(f"must be a list of user refs, got {_got(value)}")
    refs: list[str] = []
    for item in value:
        ref = _ref(item)
        if ref not in refs:
            refs.append(ref)
    return refs


def _array(value: Any) -> list:
    if not isinstance(value, list):
        raise _Invalid(f"must be a list, got {_got(value)}")
    return value


# key -> (check, required). Entries leave out optional keys to keep the stored value.
LOCATION_FIELDS = {
    "ref": (_ref, True), "name": (_text(200), True),
    "users": (_array, False), "numbers": (_array, False), "contacts": (_array, False),
}
USER_FIELDS = {
    "ref": (_ref, True), "email": (_email, True), "name": (_text(200), True),
    "password": (_password, False),  # required for a new user, checked against the database
    "role": (_choice(ROLES), False), "data_access": (_choice(DATA_ACCESS), False),
}
NUMBER_FIELDS = {
    "ref": (_ref, True), "e164": (_business_phone, True), "label": (_text(100, allow_empty=True), False),
    "default": (_bool, False), "assigned_to": (_ref_list, False),
}
CONTACT_FIELDS = {
    "ref": (_ref, True), "name": (_text(200), True), "primary_phone": (_phone, True),
    "secondary_phone": (_nullable(_phone), False), "dnd": (_bool, False),
    "assigned_to": (_nullable(_ref), False), "deleted": (_bool, False),
}
CHILD_FIELDS = {"users": USER_FIELDS, "numbers": NUMBER_FIELDS, "contacts": CONTACT_FIELDS}


# ---------------------------------------------------------------------------------------------
# Phase 1: validation.


@dataclass
class _Entry:
    label: str  # 'locations[0].users[1] (ref "bo")'
    ref: str | None  # None when the ref itself is missing or invalid
    fields: dict[str, Any]


@dataclass
class _LocationPlan:
    entry: _Entry
    children: dict[str, list[_Entry]]  # "users" / "numbers" / "contacts" -> entries with a valid ref


class _Errors:
    """Every problem found, reported in document order: "FILE: ENTRY: FIELD: reason"."""

    _STEP = re.compile(r"(\w+)\[(\d+)\]")
    _LISTS = ("locations", *CHILD_FIELDS)

    def __init__(self, source: str) -> None:
        self.source = source
        self._found: list[tuple[tuple, str]] = []

    def add(self, label: str, key: str | None, message: str) -> None:
        where = f"{label}: {key}" if key else label
        position = tuple((self._LISTS.index(name), int(i)) for name, i in self._STEP.findall(label))
        self._found.append((position, f"{self.source}: {where}: {message}"))

    @property
    def lines(self) -> list[str]:
        return [line for _, line in sorted(self._found, key=lambda found: found[0])]


def _check_entry(raw: Any, path: str, spec: dict, errors: _Errors) -> _Entry | None:
    if not isinstance(raw, dict):
        errors.add(path, None, f"must be an object, got {_got(raw)}")
        return None
    ref = raw.get("ref")
    label = f'{path} (ref "{ref}")' if isinstance(ref, str) and ref.strip() else path
    for key in raw:
        if key not in spec:
            errors.add(label, key, f"unknown field (known fields: {', '.join(spec)})")
    values: dict[str, Any] = {}
    for key, (check, required) in spec.items():
        if key not in raw:
            if required:
                errors.add(label, key, "is required")
            continue
        try:
            values[key] = check(raw[key])
        except _Invalid as err:
            errors.add(label, key, str(err))
    return _Entry(label, values.get("ref"), values)


def _check_document(data: Any, errors: _Errors) -> list[_LocationPlan]:
    if not isinstance(data, dict):
        errors.add("document", None, f'must be an object with "locations", got {_got(data)[:20]}')
        return []
    for key in data:
        if key != "locations":
            errors.add("document", key, 'unknown field (known fields: locations)')
    raw_locations = data.get("locations")
    if not isinstance(raw_locations, list):
        errors.add("document", "locations", "is required" if raw_locations is None else "must be a list")
        return []

    plans: list[_LocationPlan] = []
    first_location: dict[str, str] = {}
    first_email: dict[str, str] = {}
    first_e164: dict[str, str] = {}
    for i, raw in enumerate(raw_locations):
        path = f"locations[{i}]"
        entry = _check_entry(raw, path, LOCATION_FIELDS, errors)
        if entry is None:
            continue
        children: dict[str, list[_Entry]] = {}
        for list_name, spec in CHILD_FIELDS.items():
            children[list_name] = []
            first_ref: dict[str, str] = {}
            for j, raw_child in enumerate(entry.fields.get(list_name, [])):
                child = _check_entry(raw_child, f"{path}.{list_name}[{j}]", spec, errors)
                if child is None or child.ref is None:
                    continue
                if child.ref in first_ref:
                    errors.add(child.label, "ref", f"duplicate of {first_ref[child.ref]}")
                    continue
                first_ref[child.ref] = f"{list_name}[{j}]"
                children[list_name].append(child)
        if entry.ref is None:
            continue
        if entry.ref in first_location:
            errors.add(entry.label, "ref", f"duplicate of {first_location[entry.ref]}")
            continue
        first_location[entry.ref] = path
        plan = _LocationPlan(entry, children)
        _check_within_file(plan, first_email, first_e164, errors)
        plans.append(plan)
    return plans


def _check_within_file(plan: _LocationPlan, first_email: dict, first_e164: dict, errors: _Errors) -> None:
    """Uniqueness the whole file must respect: emails, business numbers, one default per location."""
    for user in plan.children["users"]:
        email = user.fields.get("email")
        if email in first_email:
            errors.add(user.label, "email", f'"{email}" is also used by {first_email[email]}')
        elif email:
            first_email[email] = user.label
    default_at = None
    for number in plan.children["numbers"]:
        e164 = number.fields.get("e164")
        if e164 in first_e164:
            errors.add(number.label, "e164", f"{e164} is also used by {first_e164[e164]}")
        elif e164:
            first_e164[e164] = number.label
        if number.fields.get("default"):
            if default_at:
                why = f"only one number of a location can be the default; {default_at} already is"
                errors.add(number.label, "default", why)
            else:
                default_at = number.label
    for contact in plan.children["contacts"]:
        primary = contact.fields.get("primary_phone")
        if primary and primary == contact.fields.get("secondary_phone"):
            errors.add(contact.label, "secondary_phone", "is the same number as primary_phone")


def _check_database(s: Session, plans: list[_LocationPlan], errors: _Errors) -> None:
    """What only the database can tell: new users need a password, refs to users already stored,
    emails and business numbers already used by another user or number."""
    location_ids = _location_ids(s, [p.entry.ref for p in plans])
    for plan in plans:
        location_id = location_ids.get(plan.entry.ref)
        stored = set(_user_ids(s, location_id)) if location_id else set()
        known = stored | {u.ref for u in plan.children["users"]}
        for user in plan.children["users"]:
            if user.ref not in stored and "password" not in user.fields:
                errors.add(user.label, "password", "is required for a new user")
        for entry in plan.children["numbers"] + plan.children["contacts"]:
            wanted = entry.fields.get("assigned_to") or []
            for ref in [wanted] if isinstance(wanted, str) else wanted:
                if ref not in known:
                    errors.add(entry.label, "assigned_to", f'no user "{ref}" in location "{plan.entry.ref}"')

    owners = {(p.entry.ref, u.ref): u for p in plans for u in p.children["users"] if "email" in u.fields}
    by_email = {u.fields["email"]: key for key, u in owners.items()}
    if by_email:
        query = (
            select(User.email, User.ref, Location.ref)
            .join(Location, Location.id == User.location_id)
            .where(func.lower(User.email).in_(list(by_email)))
        )
        for email, user_ref, location_ref in s.exec(query):
            key = by_email.get(email.lower())
            if key and key != (location_ref, user_ref):
                why = f'"{email}" is already used by user "{user_ref}" of location "{location_ref}"'
                errors.add(owners[key].label, "email", why)

    numbers = {(p.entry.ref, n.ref): n for p in plans for n in p.children["numbers"] if "e164" in n.fields}
    by_e164 = {n.fields["e164"]: key for key, n in numbers.items()}
    if by_e164:
        query = (
            select(BusinessNumber.e164, BusinessNumber.ref, Location.ref)
            .join(Location, Location.id == BusinessNumber.location_id)
            .where(BusinessNumber.e164.in_(list(by_e164)))
        )
        for e164, number_ref, location_ref in s.exec(query):
            key = by_e164[e164]
            if key != (location_ref, number_ref):
                why = f'{e164} is already number "{number_ref}" of location "{location_ref}"'
                errors.add(numbers[key].label, "e164", why)


def _location_ids(s: Session, refs: list[str]) -> dict[str, int]:
    return dict(s.exec(select(Location.ref, Location.id).where(Location.ref.in_(refs))).all())


def _user_ids(s: Session, location_id: int) -> dict[str, int]:
    return dict(s.exec(select(User.ref, User.id).where(User.location_id == location_id)).all())


# ---------------------------------------------------------------------------------------------
# Phase 2: apply, in the caller's transaction.


class _Applier:
    """Upserts the entries of valid location plans; every created or updated row is audited."""

    def __init__(self, s: Session, report: LoadReport) -> None:
        self.s = s
        self.report = report

    def location(self, plan: _LocationPlan) -> None:
        entry = plan.entry
        location = self.s.exec(select(Location).where(Location.ref == entry.ref)).first()
        location, created, changed = self._save(location, Location, entry, {"name": entry.fields["name"]})
        self._record("location", location.id, location, entry.ref, created, changed)
        for user in plan.children["users"]:
            self.user(location.id, user)
        user_ids = _user_ids(self.s, location.id)
        for number in plan.children["numbers"]:
            self.number(location.id, number, user_ids)
        for contact in plan.children["contacts"]:
            self.contact(location.id, contact, user_ids)

    def user(self, location_id: int, entry: _Entry) -> None:
        f = entry.fields
        row = self._find(User, location_id, entry.ref)
        wanted = {k: f[k] for k in ("email", "name", "role", "data_access") if k in f}
        if row is None:
            wanted["password_hash"] = hash_password(f["password"])
        elif "password" in f and not verify_password(row.password_hash, f["password"]):
            # Argon2 salts every hash: a new hash only when the stored one does not match.
            wanted["password_hash"] = hash_password(f["password"])
        row, created, changed = self._save(row, User, entry, wanted, location_id=location_id)
        changed = ["password" if name == "password_hash" else name for name in changed]
        self._record("user", location_id, row, entry.ref, created, changed)

    def number(self, location_id: int, entry: _Entry, user_ids: dict[str, int]) -> None:
        f = entry.fields
        wanted = {"e164": f["e164"]}
        if "label" in f:
            wanted["label"] = f["label"]
        if "default" in f:
            wanted["is_default"] = f["default"]
        row = self._find(BusinessNumber, location_id, entry.ref)
        row, created, changed = self._save(row, BusinessNumber, entry, wanted, location_id=location_id)
        if "assigned_to" in f and self._replace_assignments(row.id, {user_ids[r] for r in f["assigned_to"]}):
            changed.append("assigned_to")
        self._flush(entry.label)
        self._record("number", location_id, row, entry.ref, created, changed)
        if f.get("default"):  # one default per location: the others stop being it
            others = self.s.exec(select(BusinessNumber).where(
                BusinessNumber.location_id == location_id, BusinessNumber.id != row.id,
                BusinessNumber.is_default.is_(True),
            )).all()
            for other in others:
                other.is_default = False
                self._flush(entry.label)
                self._record("number", location_id, other, other.ref, False, ["is_default"], count=False)

    def _replace_assignments(self, number_id: int, user_ids: set[int]) -> bool:
        query = select(NumberAssignment).where(NumberAssignment.number_id == number_id)
        current = self.s.exec(query).all()
        if {a.user_id for a in current} == user_ids:
            return False
        for assignment in current:
            self.s.delete(assignment)
        self.s.flush()
        self.s.add_all(NumberAssignment(number_id=number_id, user_id=uid) for uid in sorted(user_ids))
        return True

    def contact(self, location_id: int, entry: _Entry, user_ids: dict[str, int]) -> None:
        f = entry.fields
        row = self._find(Contact, location_id, entry.ref)
        wanted: dict[str, Any] = {"name": f["name"], "primary_phone": f["primary_phone"]}
        if "secondary_phone" in f:
            wanted["secondary_phone"] = f["secondary_phone"]
        if "dnd" in f:
            wanted["dnd_sms"] = f["dnd"]
        if "assigned_to" in f:
            wanted["assigned_user_id"] = user_ids[f["assigned_to"]] if f["assigned_to"] else None
        if "deleted" in f:
            # Keep the first deletion time: re-loading a deleted contact must not move it.
            already = row.deleted_at if row is not None else None
            wanted["deleted_at"] = (already or utcnow()) if f["deleted"] else None
        if row is not None and row.dnd_sms and wanted.get("dnd_sms") is False:
            lock_groups_of_contact(self.s, row)  # R10: lifting DND never reopens a group
        row, created, changed = self._save(row, Contact, entry, wanted, location_id=location_id)
        if "dnd_sms" in changed and row.dnd_sms and not created:
            lock_groups_of_contact(self.s, row)
        if changed and not created:
            row.updated_at = utcnow()
            self._flush(entry.label)
        self._record("contact", location_id, row, entry.ref, created, changed)

    def _find(self, model: type, location_id: int, ref: str) -> Any:
        return self.s.exec(select(model).where(model.location_id == location_id, model.ref == ref)).first()

    def _save(self, row: Any, model: type, entry: _Entry, wanted: dict[str, Any], **parent: int) -> tuple:
        """Create the row (None) or set its fields that differ: (row, created, changed field names)."""
        if row is None:
            row = model(ref=entry.ref, **parent, **wanted)
            self.s.add(row)
            changed, created = ["ref", *wanted], True
        else:
            changed = [key for key, value in wanted.items() if getattr(row, key) != value]
            for key in changed:
                setattr(row, key, wanted[key])
            created = False
        self._flush(entry.label)
        return row, created, changed

    def _flush(self, label: str) -> None:
        """Flush now, so a row the database refuses is reported with its entry."""
        try:
            self.s.flush()
        except (IntegrityError, DataError) as err:
            message = f"{self.report.source}: {label}: the database refused it: {_db_reason(err)}"
            raise LoadError([message]) from err

    def _record(self, kind: str, location_id: int, row: Any, ref: str, created: bool, changed: list[str],
                *, count: bool = True) -> None:
        if count:
            report = self.report
            tally = report.created if created else report.updated if changed else report.unchanged
            tally[kind] += 1
        if not created and not changed:
            return
        detail = {"source": self.report.source, "ref": ref, "fields": changed}
        self.s.add(AuditEvent(
            location_id=location_id, actor_user_id=None,
            action=f"load.{kind}.{'created' if created else 'updated'}",
            object_type=kind, object_id=row.id, detail=json.dumps(detail),
        ))


def _db_reason(err: Exception) -> str:
    orig = getattr(err, "orig", None) or err
    return " ".join(str(orig).split())[:300]


# ---------------------------------------------------------------------------------------------
# Entry points.


def load_data(data: Any, source: str) -> LoadReport:
    """Validate `data` (a parsed load file) fully, then apply it in one transaction."""
    errors = _Errors(source)
    plans = _check_document(data, errors)
    report = LoadReport(source)
    try:
        with db.transaction() as s:
            _check_database(s, plans, errors)
            if errors.lines:
                raise LoadError(errors.lines)
            applier = _Applier(s, report)
            for plan in plans:
                applier.location(plan)
    except (IntegrityError, DataError) as err:  # at commit; flushes are caught per entry
        raise LoadError([f"{source}: the database refused the file: {_db_reason(err)}"]) from err
    return report


def load_file(path: str | Path) -> LoadReport:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LoadError([f"{source}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise LoadError([f"{source}: cannot read the file: {err}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        where = f"line {err.lineno}, column {err.colno}"
        raise LoadError([f"{source}: invalid JSON at {where}: {err.msg}"]) from None
    return load_data(data, source)
