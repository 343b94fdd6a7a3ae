"""The install owner's number inventory (R1, R14): which provider numbers exist and which location
each one is given to.

These are install-wide operations, used by the `groupsms numbers ...` commands and the load file: the
install owner is whoever runs them against the database. No page calls them, and no location admin
can reach them: admins only label, default and assign the numbers their location was given
(services/numbers.py). A number gets into a location in two steps: `sync` stores the numbers the
provider account owns, `give_to_location` makes one of them a business number of a location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from groupsms import db
from groupsms.domain.phones import PhoneError, format_display, is_us_ca, normalize, region_of
from groupsms.errors import ValidationError
from groupsms.messaging.numbers import SIMULATOR, ProviderNumbers
from groupsms.models import (
    BusinessNumber,
    Group,
    Location,
    Message,
    NumberAssignment,
    ProviderNumber,
    utcnow,
)
from groupsms.services._base import audit

__all__ = [
    "InventoryRow", "SyncReport", "clean_business_e164", "give_to_location", "inventory_problem",
    "list_inventory", "provision_simulator_number", "simulator_provisioned", "sync", "take_from_location",
]


@dataclass(frozen=True)
class InventoryRow:
    e164: str
    display: str
    source: str
    country: str
    sms_capable: bool
    location_ref: str | None  # None: not given to any location yet
    location_name: str | None
    label: str | None


@dataclass
class SyncReport:
    source: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    # Numbers the account no longer owns but a location still has: (e164, location ref).
    still_given: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"Synced {self.source} numbers: {len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.removed)} removed, {self.unchanged} unchanged")


def clean_business_e164(value: object) -> str:
    """A US/Canada number (R1) in any format, as E.164; a ValidationError on field "number" if not."""
    if not isinstance(value, str):
        raise ValidationError("Number must be text", "number")
    try:
        e164 = normalize(value)
    except PhoneError as exc:
        raise ValidationError(str(exc), "number") from exc
    if not is_us_ca(e164):
        region = region_of(e164) or "unknown region"
        raise ValidationError(f"{e164} is a {region} number; a business number must be a US or Canada number",
                              "number")
    return e164


def sync(provider: ProviderNumbers) -> SyncReport:
    """Store the numbers the provider account owns; forget the ones of that source it no longer owns."""
    owned = {n.e164: n for n in provider.owned_numbers()}  # asked before any transaction: it is I/O
    report = SyncReport(provider.source)
    now = utcnow()
    with db.transaction() as s:
        stored = {row.e164: row for row in s.exec(select(ProviderNumber))}
        for e164, number in sorted(owned.items()):
            row = stored.get(e164)
            wanted = {"source": provider.source, "country": number.country or (region_of(e164) or "")[:2],
                      "sms_capable": number.sms_capable}
            if row is None:
                s.add(ProviderNumber(e164=e164, synced_at=now, **wanted))
                report.added.append(e164)
                continue
            changed = [k for k, v in wanted.items() if getattr(row, k) != v]
            for key in changed:
                setattr(row, key, wanted[key])
            row.synced_at = now
            s.add(row)
            if changed:
                report.updated.append(e164)
            else:
                report.unchanged += 1
        for e164, row in sorted(stored.items()):
            if e164 in owned or row.source != provider.source:
                continue
            s.delete(row)
            report.removed.append(e164)
            given = _given(s, e164)
            if given is not None:
                report.still_given.append((e164, given[1].ref))
        audit(s, None, "numbers.synced", "provider_number", None, source=provider.source,
              added=report.added, updated=report.updated, removed=report.removed)
    return report


def _given(s: Session, e164: str) -> tuple[BusinessNumber, Location] | None:
    row = s.exec(select(BusinessNumber, Location).join(Location, Location.id == BusinessNumber.location_id)
                 .where(BusinessNumber.e164 == e164)).first()
    return tuple(row) if row is not None else None


def list_inventory() -> list[InventoryRow]:
    with db.read() as s:
        query = (
            select(ProviderNumber, BusinessNumber, Location)
            .join(BusinessNumber, BusinessNumber.e164 == ProviderNumber.e164, isouter=True)
            .join(Location, Location.id == BusinessNumber.location_id, isouter=True)
            .order_by(ProviderNumber.e164)
        )
        return [
            InventoryRow(p.e164, format_display(p.e164), p.source, p.country, p.sms_capable,
                         loc.ref if loc else None, loc.name if loc else None, b.label if b else None)
            for p, b, loc in s.exec(query)
        ]


def simulator_provisioned(s: Session) -> list[str]:
    """Numbers provisioned into the built-in simulator's inventory (they outlive its process)."""
    return list(s.exec(select(ProviderNumber.e164).where(ProviderNumber.source == SIMULATOR)))


def provision_simulator_number(s: Session, e164: str) -> ProviderNumber:
    """Simulator mode only: the simulated account acquires the number (in the caller's transaction)."""
    row = s.exec(select(ProviderNumber).where(ProviderNumber.e164 == e164)).first()
    if row is None:
        row = ProviderNumber(e164=e164, source=SIMULATOR, country=(region_of(e164) or "")[:2], sms_capable=True)
        s.add(row)
        s.flush()  # not audited: a simulated purchase, recorded by the row's source and created_at
    return row


def inventory_problem(s: Session, e164: str, *, provision: bool) -> str | None:
    """Why `e164` cannot be given to a location now (R1: owned by the account, SMS-capable), or None.
    With `provision` (simulator mode) a number the inventory lacks is acquired when it is given."""
    row = s.exec(select(ProviderNumber).where(ProviderNumber.e164 == e164)).first()
    if row is None:
        if provision:
            return None
        return (f"{e164} is not a number of the provider account: buy it in the Vonage dashboard, "
                "then run `groupsms numbers sync`")
    if not row.sms_capable:
        return f"{e164} cannot send SMS (the provider account lists it without the SMS feature)"
    return None


def give_to_location(e164: object, location_ref: object, *, label: object = None, default: bool = False,
                     provision: bool = False) -> int:
    """Make a provider number a business number of a location; returns its id. Giving it again to the
    same location changes nothing; giving a number another location has is refused."""
    number = clean_business_e164(e164)
    if not isinstance(location_ref, str) or not location_ref.strip():
        raise ValidationError("Location must be a location ref", "location")
    if label is not None and (not isinstance(label, str) or len(label.strip()) > 100):
        raise ValidationError("Label must be text of at most 100 characters", "label")
    with db.transaction() as s:
        location = s.exec(select(Location).where(Location.ref == location_ref.strip())).first()
        if location is None:
            raise ValidationError(f'No location "{location_ref.strip()}"', "location")
        given = _given(s, number)
        if given is not None:
            row, holder = given
            if holder.id != location.id:
                raise ValidationError(f'{number} is already given to location "{holder.ref}"; '
                                      "unassign it there first", "number")
            return row.id
        problem = inventory_problem(s, number, provision=provision)
        if problem:
            raise ValidationError(problem, "number")
        provider = provision_simulator_number(s, number)
        if default:
            for other in s.exec(select(BusinessNumber).where(BusinessNumber.location_id == location.id,
                                                             BusinessNumber.is_default.is_(True))):
                other.is_default = False
                s.add(other)
        row = BusinessNumber(location_id=location.id, ref=_free_ref(s, location.id, number), e164=number,
                             label=" ".join((label or "").split()) or format_display(number),
                             is_default=bool(default), sms_capable=provider.sms_capable)
        s.add(row)
        s.flush()
        audit(s, None, "number.given", "business_number", row.id, location_id=location.id, e164=number,
              default=bool(default))
        return row.id


def _free_ref(s: Session, location_id: int, e164: str) -> str:
    base = "num-" + re.sub(r"\D", "", e164)
    taken = set(s.exec(select(BusinessNumber.ref).where(BusinessNumber.location_id == location_id,
                                                        BusinessNumber.ref.startswith(base))))
    return next(ref for ref in (base, *(f"{base}-{i}" for i in range(2, 1000))) if ref not in taken)


def take_from_location(e164: object) -> str:
    """Take a number back from its location (it stays in the inventory); returns the location's ref.
    Refused while a group or a message uses it: they are sent from and kept with that number."""
    number = clean_business_e164(e164)
    with db.transaction() as s:
        given = _given(s, number)
        if given is None:
            raise ValidationError(f"{number} is not given to any location", "number")
        row, location = given
        groups = s.exec(select(func.count()).select_from(Group).where(Group.business_number_id == row.id)).one()
        used = groups or s.exec(select(Message.id).where(Message.business_number_id == row.id).limit(1)).first()
        if used:
            raise ValidationError(
                f'{number} is used by {groups} group{"" if groups == 1 else "s"} of location "{location.ref}"'
                if groups else f'{number} has messages in location "{location.ref}"', "number")
        audit(s, None, "number.taken_back", "business_number", row.id, location_id=location.id, e164=number)
        for assignment in s.exec(select(NumberAssignment).where(NumberAssignment.number_id == row.id)):
            s.delete(assignment)
        s.flush()
        s.delete(row)
        return location.ref
