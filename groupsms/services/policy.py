"""The role permission policy (Casbin rules), for admins of a location. An admin's change applies
to their own location only. Changes reach every process at once: each enforcer reloads when the
stored policy version moves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from groupsms import db
from groupsms.access import policy
from groupsms.errors import ValidationError
from groupsms.services._base import (
    Actor,
    acting_user,
    audit,
    clean_bool,
    clean_choice,
    require,
)

__all__ = ["PermissionRow", "list_role_permissions", "set_role_permission"]


@dataclass(frozen=True)
class PermissionRow:
    obj: str
    act: str
    description: str
    roles: tuple[str, ...]  # roles that have it


def list_role_permissions(actor: Actor | None) -> list[PermissionRow]:
    with db.read() as s:
        admin = acting_user(s, actor)
        require(s, admin, "policy", "manage")
        granted = policy.granted(s, admin.location_id)
        return [
            PermissionRow(obj, act, text, tuple(r for r in policy.ROLES if (r, obj, act) in granted))
            for (obj, act), text in policy.PERMISSIONS.items()
        ]


def set_role_permission(actor: Actor | None, role: Any, obj: Any, act: Any, allowed: Any) -> bool:
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "policy", "manage")
        role = clean_choice(role, "role", policy.ROLES)
        if (obj, act) not in policy.PERMISSIONS:
            raise ValidationError(f"Unknown permission {obj!r} {act!r}", "permission")
        allowed = clean_bool(allowed, "allowed")
        if role == "admin" and (obj, act) == ("policy", "manage") and not allowed:
            raise ValidationError("Admins must keep the right to change permissions", "permission")
        changed = policy.set_rule(s, role, admin.location_id, obj, act, allowed)
        if changed:
            audit(s, admin, "policy.changed", "policy", None, role=role, permission=f"{obj}:{act}", allowed=allowed)
        return changed
