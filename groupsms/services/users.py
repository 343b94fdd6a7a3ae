"""Users of a location: create, role, data access, password (admins; a user may change their own password)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.access.fetch import location_user
from groupsms.errors import ValidationError
from groupsms.models import DATA_ACCESS, ROLES, AuthSession, User
from groupsms.security import check_password_strength, hash_password
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
]


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
    with db.transaction() as s:
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
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        email = _clean_email(email)
        name = clean_text(name, "name", max_length=200)
        role = clean_choice(role, "role", ROLES)
        data_access = clean_choice(data_access, "data access", DATA_ACCESS)
        password = _check_password(password)
        if s.exec(select(User.id).where(func.lower(User.email) == email)).first():
            raise ValidationError(f"A user with the email {email} already exists", "email")
        ref = f"user-{email}"
        user = User(
            location_id=admin.location_id, ref=ref[:64], email=email, name=name, role=role,
            data_access=data_access, password_hash=hash_password(password),
        )
        s.add(user)
        s.flush()
        audit(s, admin, "user.created", "user", user.id, email=email, role=role, data_access=data_access)
        return user.id


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


def set_user_password(actor: Actor | None, user_id: Any, password: Any) -> None:
    """Admins set anyone's password; users their own. Every session of that user ends (sign in again)."""
    with db.transaction() as s:
        me = acting_user(s, actor)
        target = location_user(s, me, user_id)
        if target.id != me.id:
            require(s, me, "user", "manage")
        password = _check_password(password)
        target.password_hash = hash_password(password)
        s.add(target)
        for session_row in s.exec(select(AuthSession).where(AuthSession.user_id == target.id)):
            s.delete(session_row)
        audit(s, me, "user.password_changed", "user", target.id)
