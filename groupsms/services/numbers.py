"""Business numbers of a location: label, set the default, assign to users (R1, R12, R14).

A location's numbers are given to it by the install owner from the provider account's numbers
(services/inventory.py); a location admin cannot bring in a number of their own. A number of another
location, or one that does not exist, is the same "Number not found" in every function here.
Every change publishes `NumberChanged` on commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import location_number, location_user
from groupsms.domain.phones import format_display
from groupsms.errors import ValidationError
from groupsms.messaging import events, notify
from groupsms.models import BusinessNumber, NumberAssignment
from groupsms.services._base import (
    Actor,
    acting_user,
    audit,
    clean_text,
    require,
)

__all__ = ["NumberView", "list_numbers", "set_number_label", "set_default_number", "assign_number"]


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
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "number", "read")
        rows = s.exec(
            scopes.numbers_for(user).order_by(BusinessNumber.is_default.desc(), BusinessNumber.label)
        ).all()
        return _views(s, list(rows))


def set_number_label(actor: Actor | None, number_id: Any, label: Any) -> None:
    """Rename a number of the location; a blank label shows the formatted number."""
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "number", "manage")
        number = location_number(s, admin, number_id)
        label = clean_text(label, "label", max_length=100, required=False) or format_display(number.e164)
        if label == number.label:
            return
        old, number.label = number.label, label
        s.add(number)
        audit(s, admin, "number.labelled", "business_number", number.id, old=old, new=label)
        notify.publish(s, events.NumberChanged(number.location_id, number.id))


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
        notify.publish(s, events.NumberChanged(number.location_id, number.id))  # the old default's list rows too


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
        notify.publish(s, events.NumberChanged(number.location_id, number.id))
