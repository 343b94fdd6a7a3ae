"""The audit log (E8): who created groups, sent messages, and changed contacts, numbers, users and
permissions, and when. Read by admins (`audit:read`), one location at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from groupsms import db
from groupsms.models import AuditEvent, User
from groupsms.services._base import Actor, acting_user, clean_limit, require

__all__ = ["AuditEntry", "list_audit_events"]

# Sign-ins are audited too but would drown the log of changes.
_HIDDEN = ("session.signed_in", "session.signed_out")


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str  # the user's name, or "groupsms" for loads and automatic changes
    action: str  # e.g. "user.role_changed"
    object: str  # e.g. "user 12"
    detail: str  # the recorded detail as "key: value" pairs


def _detail(raw: str) -> str:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return ""
    return ", ".join(f"{key}: {value}" for key, value in sorted(data.items()))[:300]


def list_audit_events(actor: Actor | None, limit: Any = 50) -> list[AuditEntry]:
    """The newest changes in the actor's location."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "audit", "read")
        rows = s.exec(
            select(AuditEvent, User)
            .join(User, User.id == AuditEvent.actor_user_id, isouter=True)
            .where(AuditEvent.location_id == user.location_id, AuditEvent.action.not_in(_HIDDEN))
            .order_by(AuditEvent.id.desc())
            .limit(clean_limit(limit, 50, 200))
        ).all()
        return [
            AuditEntry(e.created_at, u.name if u else "groupsms", e.action,
                       f"{e.object_type} {e.object_id}" if e.object_id is not None else e.object_type,
                       _detail(e.detail))
            for e, u in rows
        ]
