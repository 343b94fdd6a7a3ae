"""What the service modules share: the acting user, permission checks, audit events, input
cleaning, and the few reads more than one of them makes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from groupsms.access import policy, scopes
from groupsms.access.fetch import location_user
from groupsms.domain.clock import UTC_CLOCK, Clock
from groupsms.domain.phones import PhoneError, normalize
from groupsms.errors import Forbidden, NotAuthenticated, ValidationError
from groupsms.models import AuditEvent, AuthSession, Participant, User


@dataclass(frozen=True)
class Actor:
    """Who is asking. Services reload the user on every call, so role changes apply at once."""

    user_id: int
    location_id: int
    name: str
    email: str
    role: str
    data_access: str = "all"
    # How this person reads times: the profile's zone and clock, else the browser's at sign-in.
    clock: Clock = UTC_CLOCK

    @classmethod
    def of(cls, user: User, session: AuthSession | None = None) -> Actor:
        clock = Clock.resolve(user.time_zone, user.clock, session.browser_zone if session else "",
                              session.browser_locale if session else "")
        return cls(user.id, user.location_id, user.name, user.email, user.role, user.data_access,
                   clock)


def acting_user(session: Session, actor: Actor | None) -> User:
    if not isinstance(actor, Actor):
        raise NotAuthenticated()
    user = session.get(User, actor.user_id)
    if user is None or not user.is_active or user.location_id != actor.location_id:
        raise NotAuthenticated()
    return user


def require(session: Session, user: User, obj: str, act: str) -> None:
    if not policy.ENFORCER.allowed(session, user.role, user.location_id, obj, act):
        what = policy.PERMISSIONS.get((obj, act), f"{act} {obj}")
        raise Forbidden(f"Your role may not do this: {what.lower()}")


def audit(
    session: Session,
    user: User | None,
    action: str,
    object_type: str,
    object_id: int | None,
    location_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(
            location_id=location_id if location_id is not None else (user.location_id if user else None),
            actor_user_id=user.id if user else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=json.dumps(detail, default=str, sort_keys=True),
        )
    )


def clean_text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{field.capitalize()} must be text", field)
    value = " ".join(value.split())
    if required and not value:
        raise ValidationError(f"{field.capitalize()} is required", field)
    if len(value) > max_length:
        raise ValidationError(f"{field.capitalize()} must be at most {max_length} characters", field)
    return value


def clean_choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        allowed = " or ".join(f'"{c}"' for c in choices)
        raise ValidationError(f"{field.capitalize()} must be {allowed}, got {value!r}", field)
    return value


def clean_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field.capitalize()} must be true or false", field)
    return value


def clean_limit(value: Any, default: int = 50, maximum: int = 200) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError("Limit must be a positive whole number", "limit")
    return min(value, maximum)


def clean_query(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("Search must be text", "search")
    return value.strip()[:100]


def clean_phone(value: Any, field: str, *, required: bool) -> str | None:
    """A contact's phone number as E.164 (any country), None when blank and not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"{field.capitalize()} is required", field)
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field.capitalize()} must be text", field)
    try:
        return normalize(value)
    except PhoneError as exc:
        raise ValidationError(f"{field.capitalize()}: {exc}", field) from exc


def clean_assignee(s: Session, user: User, value: Any) -> int | None:
    """A contact's assignee: a user of the location; assigned-only users may pick only themselves."""
    if value is None or value == "":
        assignee = None
    else:
        assignee = location_user(s, user, value).id
    if not scopes.has_full_data_access(user) and assignee != user.id:
        raise ValidationError("You can only assign contacts to yourself", "assigned user")
    return assignee


def participant_names(s: Session, group_ids) -> dict[int, list[str]]:
    """Group id → its participants' names in order (what titles are made of): one statement. The
    caller has checked that the user may see these groups."""
    wanted = sorted(set(group_ids))
    names: dict[int, list[str]] = {}
    if not wanted:
        return names
    for gid, name in s.exec(
        select(Participant.group_id, Participant.name)
        .where(Participant.group_id.in_(wanted)).order_by(Participant.group_id, Participant.position)
    ):
        names.setdefault(gid, []).append(name)
    return names
