"""Users of a location: create, role, data access, active or not, password (admins); every user
changes their own password by giving the current one.

Emails are unique across the install (signing in asks only for the email), so an email another
location uses cannot be given to a user here. The refusal says only that the address can't be used,
the same words as for an email of this location: it never says where, or whose, it is (R14).

Argon2 is slow by design: passwords are hashed and verified with no transaction open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.access.fetch import location_user
from groupsms.domain.clock import CLOCKS, valid_zone
from groupsms.errors import ValidationError
from groupsms.models import DATA_ACCESS, ROLES, AuthSession, LoginAttempt, User, utcnow
from groupsms.security import check_password_strength, hash_password, token_hash, verify_password
from groupsms.services._base import (
    Actor,
    acting_user,
    audit,
    clean_choice,
    clean_text,
    require,
)

__all__ = [
    "UserView",
    "list_users",
    "create_user",
    "set_user_role",
    "set_user_data_access",
    "set_user_password",
    "set_user_active",
    "change_own_password",
    "Preferences",
    "get_my_preferences",
    "set_my_preferences",
    "EMAIL_UNAVAILABLE",
]

# One answer whether the email is taken here or in another location (R14).
EMAIL_UNAVAILABLE = "That email can't be used. Choose another."


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    email: str
    role: str
    data_access: str
    is_active: bool


def _view(u: User) -> UserView:
    return UserView(u.id, u.name, u.email, u.role, u.data_access, u.is_active)


def list_users(actor: Actor | None) -> list[UserView]:
    """Teammates of the actor's location (for assignee pickers and the users page)."""
    with db.read() as s:
        user = acting_user(s, actor)
        rows = s.exec(select(User).where(User.location_id == user.location_id).order_by(User.name))
        return [_view(u) for u in rows]


def _clean_email(value: Any) -> str:
    email = clean_text(value, "email", max_length=254).lower()
    local, _, domain = email.partition("@")
    if not local or "@" in domain or "." not in domain.strip(".") or " " in email:
        raise ValidationError(f"{email!r} is not an email address", "email")
    return email


def _check_password(password: Any) -> str:
    problem = check_password_strength(password)
    if problem:
        raise ValidationError(problem, "password")
    return password


def create_user(
    actor: Actor | None,
    email: Any,
    name: Any,
    password: Any,
    role: Any = "user",
    data_access: Any = "assigned",
) -> int:
    email = _clean_email(email)
    name = clean_text(name, "name", max_length=200)
    role = clean_choice(role, "role", ROLES)
    data_access = clean_choice(data_access, "data access", DATA_ACCESS)
    password = _check_password(password)
    _check_new_user(actor, email)  # before hashing: refused callers cost no argon2 work
    password_hash = hash_password(password)
    with db.transaction() as s:
        admin = _check_new_user(actor, email, s)
        ref = f"user-{email}"
        user = User(
            location_id=admin.location_id, ref=ref[:64], email=email, name=name, role=role,
            data_access=data_access, password_hash=password_hash,
        )
        s.add(user)
        s.flush()
        audit(s, admin, "user.created", "user", user.id, email=email, role=role, data_access=data_access)
        return user.id


def _check_new_user(actor: Actor | None, email: str, s=None) -> User:
    if s is None:
        with db.transaction() as fresh:
            return _check_new_user(actor, email, fresh)
    admin = acting_user(s, actor)
    require(s, admin, "user", "manage")
    if s.exec(select(User.id).where(func.lower(User.email) == email)).first():
        raise ValidationError(EMAIL_UNAVAILABLE, "email")
    return admin


def _admins_left(s, location_id: int, excluding: int) -> int:
    return s.exec(
        select(func.count()).select_from(User).where(
            User.location_id == location_id, User.role == "admin", User.is_active, User.id != excluding
        )
    ).one()


def set_user_role(actor: Actor | None, user_id: Any, role: Any) -> None:
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        target = location_user(s, admin, user_id)
        role = clean_choice(role, "role", ROLES)
        if target.role == role:
            return
        if target.role == "admin" and _admins_left(s, target.location_id, target.id) == 0:
            raise ValidationError("The location needs at least one admin", "role")
        audit(s, admin, "user.role_changed", "user", target.id, old=target.role, new=role)
        target.role = role
        s.add(target)


def set_user_data_access(actor: Actor | None, user_id: Any, data_access: Any) -> None:
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        target = location_user(s, admin, user_id)
        data_access = clean_choice(data_access, "data access", DATA_ACCESS)
        if target.data_access == data_access:
            return
        audit(s, admin, "user.data_access_changed", "user", target.id, old=target.data_access, new=data_access)
        target.data_access = data_access
        s.add(target)


def _end_sessions(s, user_id: int, *, keep_token: str | None = None) -> None:
    for session_row in s.exec(select(AuthSession).where(AuthSession.user_id == user_id)):
        if keep_token is None or session_row.token_hash != token_hash(keep_token):
            s.delete(session_row)


def set_user_password(actor: Actor | None, user_id: Any, password: Any) -> None:
    """Admins set anyone's password; users their own. Every session of that user ends (sign in again).
    The change is kept when the demo or a load file is loaded again (`password_changed_at`)."""
    password = _check_password(password)
    with db.transaction() as s:  # refuse before the slow hash
        me = acting_user(s, actor)
        target = location_user(s, me, user_id)
        if target.id != me.id:
            require(s, me, "user", "manage")
    password_hash = hash_password(password)
    with db.transaction() as s:
        me = acting_user(s, actor)
        target = location_user(s, me, user_id)
        if target.id != me.id:
            require(s, me, "user", "manage")
        target.password_hash = password_hash
        target.password_changed_at = utcnow()
        s.add(target)
        _end_sessions(s, target.id)
        audit(s, me, "user.password_changed", "user", target.id)


def change_own_password(actor: Actor | None, current: Any, new: Any, keep_token: Any = None) -> None:
    """The signed-in user changes their password by giving the current one. Their other sessions
    end; the one named by `keep_token` (this browser) stays. A wrong current password counts as a
    failed sign-in for the email, so a borrowed session cannot be used to guess it quickly."""
    from groupsms.services import sessions  # sessions imports this package's _base only

    if not isinstance(current, str) or not current:
        raise ValidationError("Enter your current password", "current password")
    new = _check_password(new)
    with db.transaction() as s:
        me = acting_user(s, actor)
        sessions._check_email_throttle(s, me.email)  # shared with sign-in
        stored, email = me.password_hash, me.email
    if not verify_password(stored, current[:256]):
        with db.transaction() as s:
            s.add(LoginAttempt(email=email.lower(), at=utcnow()))
        raise ValidationError("The current password is wrong", "current password")
    password_hash = hash_password(new)
    with db.transaction() as s:
        me = acting_user(s, actor)
        if me.password_hash != stored:
            raise ValidationError("Your password was changed meanwhile: sign in again", "current password")
        me.password_hash = password_hash
        me.password_changed_at = utcnow()
        s.add(me)
        _end_sessions(s, me.id, keep_token=keep_token if isinstance(keep_token, str) else None)
        audit(s, me, "user.password_changed", "user", me.id, own=True)


def set_user_active(actor: Actor | None, user_id: Any, active: Any) -> None:
    """Admins deactivate (or reactivate) a user of their location. A deactivated user's sessions
    end at once and they cannot sign in; their groups, messages and contacts stay. Admins cannot
    deactivate themselves, nor the location's last active admin."""
    if not isinstance(active, bool):
        raise ValidationError("Active must be true or false", "active")
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        target = location_user(s, admin, user_id)
        if target.is_active == active:
            return
        if not active:
            if target.id == admin.id:
                raise ValidationError("You cannot deactivate yourself", "active")
            if target.role == "admin" and _admins_left(s, target.location_id, target.id) == 0:
                raise ValidationError("The location needs at least one active admin", "active")
            _end_sessions(s, target.id)
        target.is_active = active
        s.add(target)
        audit(s, admin, "user.activated" if active else "user.deactivated", "user", target.id)


# -- how the user reads times ---------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    time_zone: str  # "" = the browser's
    clock: str  # "", "12h" or "24h"; "" = the browser locale's
    browser_zone: str  # what this browser reported at sign-in ("" when it said nothing usable)
    browser_locale: str


def get_my_preferences(actor: Actor | None, token: Any = None) -> Preferences:
    """The signed-in user's own time zone and clock settings, with what the browser of the session
    named by `token` reported at sign-in (for "Automatic (browser: …)")."""
    with db.read() as s:
        me = acting_user(s, actor)
        row = None
        if isinstance(token, str) and token:
            row = s.exec(select(AuthSession).where(AuthSession.token_hash == token_hash(token),
                                                   AuthSession.user_id == me.id)).first()
        return Preferences(me.time_zone, me.clock, row.browser_zone if row else "",
                           row.browser_locale if row else "")


def set_my_preferences(actor: Actor | None, time_zone: Any, clock: Any) -> None:
    """The signed-in user sets their own time zone (an IANA name, or "" for the browser's) and
    clock ("12h", "24h", or "" for the browser locale's). Every page uses them from the next event."""
    if not isinstance(time_zone, str):
        raise ValidationError("Time zone must be text", "time zone")
    time_zone = time_zone.strip()
    if time_zone == "UTC":
        pass
    elif time_zone and not valid_zone(time_zone):
        shown = time_zone if len(time_zone) <= 64 else time_zone[:64] + "…"
        raise ValidationError(f"{shown!r} is not a time zone: pick one from the list, like America/Chicago",
                              "time zone")
    if clock not in ("", *CLOCKS):
        raise ValidationError(f'Clock must be "12h", "24h" or "" (automatic), got {str(clock)[:20]!r}', "clock")
    with db.transaction() as s:
        me = acting_user(s, actor)
        if me.time_zone == time_zone and me.clock == clock:
            return
        audit(s, me, "user.preferences_changed", "user", me.id,
              before={"time_zone": me.time_zone, "clock": me.clock},
              after={"time_zone": time_zone, "clock": clock})
        me.time_zone, me.clock = time_zone, clock
        s.add(me)
