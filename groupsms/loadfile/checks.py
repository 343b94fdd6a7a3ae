"""Phase 1 of a load: the whole document is checked, against itself and the database, and every
error is collected with its file, entry and field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from groupsms.loadfile.fields import CHILD_FIELDS, LOCATION_FIELDS, _got, _Invalid
from groupsms.models import BusinessNumber, Location, User
from groupsms.services.inventory import inventory_problem

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


def _check_database(s: Session, plans: list[_LocationPlan], errors: _Errors, *, provision: bool = False) -> None:
    """What only the database can tell: new users need a password, refs to users already stored,
    emails and business numbers already used by another user or number, business numbers the
    provider account does not own (with `provision`, simulator mode, they are acquired instead)."""
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
    for e164, key in by_e164.items():
        problem = inventory_problem(s, e164, provision=provision)
        if problem:
            errors.add(numbers[key].label, "e164", problem)


def _location_ids(s: Session, refs: list[str]) -> dict[str, int]:
    return dict(s.exec(select(Location.ref, Location.id).where(Location.ref.in_(refs))).all())


def _user_ids(s: Session, location_id: int) -> dict[str, int]:
    return dict(s.exec(select(User.ref, User.id).where(User.location_id == location_id)).all())
