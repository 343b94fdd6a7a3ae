"""API tokens: admins create, list and revoke them; the API turns a bearer token into its Actor.

A token acts as the user it was made for, with that user's access (R11–R14) as it is at each
request, narrowed by its scopes. The token is shown once, when it is made; the database keeps only
its hash (`security.token_hash`, keyed by GROUPSMS_SECRET_KEY when that is set) and its first
characters, to tell tokens apart in lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import func, select

from groupsms import db
from groupsms.access.fetch import clean_id, location_user
from groupsms.errors import NotFound, ValidationError
from groupsms.models import ApiToken, User, utcnow
from groupsms.security import new_token, token_hash
from groupsms.services._base import Actor, acting_user, audit, clean_text, require

__all__ = [
    "SCOPES", "TOKEN_PREFIX", "TokenView", "TokenGrant", "list_tokens", "create_token", "revoke_token",
    "issue_token", "authenticate",
]

# What a token may be limited to. A token without scopes may do whatever its user may.
SCOPES: dict[str, str] = {
    "read": "Read numbers, contacts, groups, messages and waiting texts",
    "send": "Create groups, send messages, route waiting texts",
    "contacts:write": "Create, update and delete contacts",
    "admin": "Manage webhook subscriptions (an admin's token only)",
}
TOKEN_PREFIX = "gsm_"
_SHOWN = 12  # characters of the token kept to tell tokens apart ("gsm_" and 8 more)
# Recording the last use on every request would write on every read: once a minute is enough.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    prefix: str
    user_id: int
    user_name: str
    user_email: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class TokenGrant:
    """What a request's token grants: who it acts as and which scopes (empty: all)."""

    actor: Actor
    token_id: int
    scopes: tuple[str, ...]

    def allows(self, scope: str) -> bool:
        return not self.scopes or scope in self.scopes


def _clean_scopes(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Scopes must be a list of scope names", "scopes")
    unknown = sorted({v for v in value if v not in SCOPES})
    if unknown:
        raise ValidationError(f"Unknown scope {unknown[0]!r}: use {', '.join(SCOPES)}", "scopes")
    return tuple(s for s in SCOPES if s in value)  # a fixed order, each once


def _view(t: ApiToken, u: User) -> TokenView:
    return TokenView(t.id, t.name, t.prefix, u.id, u.name, u.email, tuple(t.scopes.split()),
                     t.created_at, t.last_used_at, t.revoked_at is not None)


def list_tokens(actor: Actor | None, include_revoked: bool = False) -> list[TokenView]:
    """The location's tokens, newest first (admins)."""
    with db.read() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        query = (select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                 .where(ApiToken.location_id == admin.location_id))
        if not include_revoked:
            query = query.where(ApiToken.revoked_at.is_(None))
        return [_view(t, u) for t, u in s.exec(query.order_by(ApiToken.id.desc()).limit(200))]


def _new(s, owner: User, name: Any, scopes: Any, creator: User | None) -> tuple[int, str]:
    name = clean_text(name, "name", max_length=100)
    scopes = _clean_scopes(scopes)
    if "admin" in scopes and owner.role != "admin":
        raise ValidationError("Only an admin's token can have the admin scope", "scopes")
    raw = TOKEN_PREFIX + new_token()
    token = ApiToken(location_id=owner.location_id, user_id=owner.id, name=name, prefix=raw[:_SHOWN],
                     token_hash=token_hash(raw), scopes=" ".join(scopes),
                     created_by_id=creator.id if creator else None)
    s.add(token)
    s.flush()
    audit(s, creator, "api_token.created", "api_token", token.id, location_id=owner.location_id,
          name=name, for_user=owner.id, scopes=list(scopes))
    return token.id, raw


def create_token(actor: Actor | None, user_id: Any, name: Any, scopes: Any = None) -> tuple[int, str]:
    """A new token acting as `user_id` (a user of the admin's location). Returns (id, token): the
    token itself is never shown again."""
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        owner = location_user(s, admin, user_id)
        if not owner.is_active:
            raise ValidationError("That user is deactivated", "user")
        return _new(s, owner, name, scopes, admin)


def issue_token(email: str, name: Any, scopes: Any = None) -> tuple[int, str]:
    """The install owner's `groupsms api-token create`: a token for the active user with this email."""
    with db.transaction() as s:
        owner = s.exec(select(User).where(func.lower(User.email) == str(email).strip().lower())).first()
        if owner is None or not owner.is_active:
            raise NotFound("Active user with that email")
        return _new(s, owner, name, scopes, None)


def revoke_token(actor: Actor | None, token_id: Any) -> None:
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "user", "manage")
        token = s.get(ApiToken, clean_id(token_id, "Token"))
        if token is None or token.location_id != admin.location_id:
            raise NotFound("Token")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            s.add(token)
            audit(s, admin, "api_token.revoked", "api_token", token.id, name=token.name, for_user=token.user_id)


def authenticate(raw: object) -> TokenGrant | None:
    """The grant of a live token, or None for a missing, unknown or revoked one, or one whose user is
    deactivated. Records the last use (at most once a minute)."""
    if not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX) or not (20 <= len(raw) <= 100):
        return None
    now = utcnow()
    with db.transaction() as s:
        token = s.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(raw))).first()
        if token is None or token.revoked_at is not None:
            return None
        user = s.get(User, token.user_id)
        if user is None or not user.is_active or user.location_id != token.location_id:
            return None
        if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
            token.last_used_at = now
            s.add(token)
        return TokenGrant(Actor.of(user), token.id, tuple(token.scopes.split()))
