"""Sign-in, sessions and sign-out. The browser keeps a random token; the database keeps its hash."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import select

from groupsms import config, db
from groupsms.errors import AuthError
from groupsms.models import AuthSession, LoginAttempt, User, utcnow
from groupsms.security import new_token, token_hash, verify_password
from groupsms.services._base import Actor, acting_user, audit

MAX_FAILED_ATTEMPTS = 5
THROTTLE_WINDOW = timedelta(minutes=15)
TOUCH_EVERY = timedelta(minutes=5)

__all__ = ["sign_in", "actor_for_token", "sign_out"]


def sign_in(email: object, password: object) -> tuple[str, Actor]:
    """Check the credentials; return a new session token and the actor. Public entry point."""
    if not isinstance(email, str) or not isinstance(password, str) or not email.strip():
        raise AuthError("Enter your email and password")
    email = email.strip().lower()[:254]
    now = utcnow()
    with db.transaction() as s:
        recent = s.exec(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.email == email, LoginAttempt.at > now - THROTTLE_WINDOW)
        ).one()
        if recent >= MAX_FAILED_ATTEMPTS:
            raise AuthError("Too many failed sign-ins for this email. Try again in 15 minutes.")
        user = s.exec(select(User).where(func.lower(User.email) == email)).first()
        ok = verify_password(user.password_hash if user else None, password[:256])
        if not ok or not user.is_active:
            s.add(LoginAttempt(email=email, at=now))
            failure = True
        else:
            failure = False
            token = new_token()
            days = config.load().session_days
            s.add(AuthSession(user_id=user.id, token_hash=token_hash(token), expires_at=now + timedelta(days=days)))
            s.exec(delete(LoginAttempt).where(LoginAttempt.email == email))
            audit(s, user, "session.signed_in", "user", user.id)
            actor = Actor.of(user)
    if failure:  # the failed attempt above is committed before we refuse
        raise AuthError("Wrong email or password")
    return token, actor


def actor_for_token(token: object) -> Actor | None:
    """The actor of a live session, or None for a missing, unknown or expired token."""
    if not isinstance(token, str) or not (20 <= len(token) <= 100):
        return None
    now = utcnow()
    with db.transaction() as s:
        row = s.exec(select(AuthSession).where(AuthSession.token_hash == token_hash(token))).first()
        if row is None or row.expires_at <= now:
            return None
        user = s.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
            s.add(row)
        return Actor.of(user)


def sign_out(actor: Actor | None, token: object) -> None:
    """End the actor's session identified by `token` (other sessions of theirs stay)."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        if isinstance(token, str):
            s.exec(
                delete(AuthSession).where(
                    AuthSession.token_hash == token_hash(token), AuthSession.user_id == user.id
                )
            )
        audit(s, user, "session.signed_out", "user", user.id)
