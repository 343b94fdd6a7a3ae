"""Business numbers of a location: add, set the default, assign to users (R1, R12)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import location_number, location_user
from groupsms.domain.phones import PhoneError, format_display, is_us_ca, normalize
from groupsms.errors import ValidationError
from groupsms.models import BusinessNumber, NumberAssignment
from groupsms.services._base import (
    Actor,
    acting_user,
    audit,
    clean_bool,
    clean_text,
    require,
)

__all__ = ["NumberView", "list_numbers", "create_number", "set_default_number", "assign_number"]


@dataclass(frozen=True)
class NumberView:
    id: int
    e164: str
    display: str
    label: str
    is_default: bool
    assigned_user_ids: tuple[int, ...]


def _assignments(s, number_ids: list[int]) -> dict[int, tuple[int, ...]]:
    found: dict[int, list[int]] = {}
    if number_ids:
        rows = s.exec(select(NumberAssignment).where(NumberAssignment.number_id.in_(number_ids)))
        for row in rows:
            found.setdefault(row.number_id, []).append(row.user_id)
    return {nid: tuple(sorted(found.get(nid, []))) for nid in number_ids}


def _views(s, numbers: list[BusinessNumber]) -> list[NumberView]:
    assigned = _assignments(s, [n.id for n in numbers])
    return [
        NumberView(n.id, n.e164, format_display(n.e164), n.label, n.is_default, assigned[n.id])
        for n in numbers
    ]


def list_numbers(actor: Actor | None) -> list[NumberView]:
    """The numbers the actor may use (R12): all of the location for admins."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "number", "read")
        rows = s.exec(
            scopes.numbers_for(user).order_by(BusinessNumber.is_default.desc(), BusinessNumber.label)
        ).all()
        return _views(s, list(rows))


def _clean_business_e164(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("Number must be text", "number")
    try:
        e164 = normalize(value)
    except PhoneError as exc:
        raise ValidationError(str(exc), "number") from exc
    if not is_us_ca(e164):
        raise ValidationError("The business number must be a US or Canada number", "number")
    return e164


def create_number(actor: Actor | None, e164: Any, label: Any = "", default: Any = False) -> int:
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "number", "manage")
        number = _clean_business_e164(e164)
        label = clean_text(label, "label", max_length=100, required=False) or format_display(number)
        default = clean_bool(default, "default")
        if s.exec(select(BusinessNumber.id).where(BusinessNumber.e164 == number)).first():
            raise ValidationError(f"The number {format_display(number)} is already in use", "number")
        if default:
            _clear_default(s, admin.location_id)
        ref = "num-" + re.sub(r"\D", "", number)
        row = BusinessNumber(location_id=admin.location_id, ref=ref, e164=number, label=label, is_default=default)
        s.add(row)
        s.flush()
        audit(s, admin, "number.created", "business_number", row.id, e164=number, default=default)
        return row.id


def _clear_default(s, location_id: int) -> None:
    s.exec(
        update(BusinessNumber)
        .where(BusinessNumber.location_id == location_id, BusinessNumber.is_default)
        .values(is_default=False)
    )


def set_default_number(actor: Actor | None, number_id: Any) -> None:
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "number", "manage")
        number = location_number(s, admin, number_id)
        if number.is_default:
            return
        _clear_default(s, admin.location_id)
        s.refresh(number)
        number.is_default = True
        s.add(number)
        audit(s, admin, "number.default_set", "business_number", number.id)


def assign_number(actor: Actor | None, number_id: Any, user_ids: Any) -> None:
    """Replace the users a number is assigned to (an empty list makes it unassigned)."""
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "number", "manage")
        number = location_number(s, admin, number_id)
        if not isinstance(user_ids, (list, tuple)):
            raise ValidationError("Users must be a list", "users")
        wanted = sorted({location_user(s, admin, uid).id for uid in user_ids})
        current = _assignments(s, [number.id])[number.id]
        if tuple(wanted) == current:
            return
        for row in s.exec(select(NumberAssignment).where(NumberAssignment.number_id == number.id)):
            s.delete(row)
        s.flush()
        for uid in wanted:
            s.add(NumberAssignment(number_id=number.id, user_id=uid))
        audit(s, admin, "number.assigned", "business_number", number.id, old=list(current), new=wanted)
