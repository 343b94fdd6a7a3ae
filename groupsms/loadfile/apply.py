"""Phase 2 of a load: upsert the checked entries in the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, select

from groupsms.loadfile.checks import _Entry, _LocationPlan, _user_ids
from groupsms.loadfile.report import LoadError, LoadReport
from groupsms.messaging.optout import lock_groups_of_contact
from groupsms.models import (
    AuditEvent,
    BusinessNumber,
    Contact,
    Location,
    NumberAssignment,
    User,
    utcnow,
)
from groupsms.security import hash_password, verify_password
from groupsms.services.inventory import provision_simulator_number

# ---------------------------------------------------------------------------------------------
# Phase 2: apply, in the caller's transaction.


class _Applier:
    """Upserts the entries of valid location plans; every created or updated row is audited."""

    def __init__(self, s: Session, report: LoadReport, *, provision: bool = False) -> None:
        self.s = s
        self.report = report
        self.provision = provision  # simulator mode: acquire business numbers the inventory lacks

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
        elif "password" in f and row.password_changed_at is None and not verify_password(row.password_hash,
                                                                                          f["password"]):
            # Argon2 salts every hash: a new hash only when the stored one does not match. A password
            # changed in the app (`password_changed_at`) is kept: loading the demo again must not
            # put a published demo password back on an account someone secured.
            wanted["password_hash"] = hash_password(f["password"])
        row, created, changed = self._save(row, User, entry, wanted, location_id=location_id)
        changed = ["password" if name == "password_hash" else name for name in changed]
        self._record("user", location_id, row, entry.ref, created, changed)

    def number(self, location_id: int, entry: _Entry, user_ids: dict[str, int]) -> None:
        f = entry.fields
        if self.provision:
            provision_simulator_number(self.s, f["e164"])
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
