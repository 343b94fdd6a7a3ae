"""Sign-in and sessions, users and the role permission policy (E9: access admin; E8 where audited).

Argon2 is slow by design: the world fixture pre-hashes its users, and these tests hash as few new
passwords as they can.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func
from sqlmodel import Session, select

from groupsms import db, security
from groupsms.access import policy as access_policy
from groupsms.errors import (
    AuthError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    ValidationError,
)
from groupsms.models import AuditEvent, AuthSession, LoginAttempt, User, utcnow
from groupsms.services import Actor, contacts, groups, policy, sessions, users
from tests.services.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture
def fast_passwords(world, monkeypatch):
    """Argon2 with its cheapest parameters, world passwords rehashed: the same code, far less CPU.
    (Two tests below keep the real parameters.)"""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("not-a-real-password"))
    with Session(db.engine()) as s:
        for user in s.exec(select(User)):
            user.password_hash = cheap.hash(PASSWORD)
            s.add(user)
        s.commit()


def count(model) -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def sessions_of(user_id: int) -> list[AuthSession]:
    with db.transaction() as s:
        return list(s.exec(select(AuthSession).where(AuthSession.user_id == user_id)))


# -- sessions -------------------------------------------------------------------------------------

def test_e9_sign_in_stores_only_the_hash_of_the_token(world):
    token, actor = sessions.sign_in("ada@acme.test", PASSWORD)
    assert isinstance(token, str) and len(token) >= 32
    assert (actor.user_id, actor.location_id, actor.role) == (
        world.users["ada"], world.locations["acme"], "admin")
    rows = sessions_of(world.users["ada"])
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert rows[0].token_hash != token
    assert rows[0].expires_at > utcnow() + timedelta(days=1)
    with db.transaction() as s:
        assert s.exec(select(AuthSession).where(AuthSession.token_hash == token)).first() is None
    assert sessions.actor_for_token(token) == actor


def test_e9_sign_in_ignores_email_case_and_spaces(world, fast_passwords):
    _, actor = sessions.sign_in("  Bo@ACME.test ", PASSWORD)
    assert actor.user_id == world.users["bo"]


def test_e9_each_sign_in_gets_its_own_token(world, fast_passwords):
    t1, _ = sessions.sign_in("bo@acme.test", PASSWORD)
    t2, _ = sessions.sign_in("bo@acme.test", PASSWORD)
    assert t1 != t2
    assert len(sessions_of(world.users["bo"])) == 2


@pytest.mark.parametrize("email, password", [
    ("ada@acme.test", "wrong-password"),
    ("nobody@acme.test", PASSWORD),
    ("ada@acme.test", PASSWORD.upper()),
])
def test_e9_wrong_credentials_are_refused_with_one_message(world, fast_passwords, email, password):
    with pytest.raises(AuthError) as info:
        sessions.sign_in(email, password)
    assert str(info.value) == "Wrong email or password"  # never says which one was wrong
    assert count(AuthSession) == 0


@pytest.mark.parametrize("email, password", [
    (None, PASSWORD), ("ada@acme.test", None), ("", PASSWORD), (123, PASSWORD), ("ada@acme.test", 123),
    (["ada@acme.test"], PASSWORD),
])
def test_e9_malformed_credentials_are_refused(world, fast_passwords, email, password):
    with pytest.raises(AuthError):
        sessions.sign_in(email, password)
    assert count(AuthSession) == 0


def test_e9_five_failures_throttle_even_the_right_password(world, fast_passwords):
    for _ in range(5):
        with pytest.raises(AuthError, match="Wrong email or password"):
            sessions.sign_in("bo@acme.test", "wrong-password")
    with pytest.raises(AuthError) as info:
        sessions.sign_in("bo@acme.test", PASSWORD)
    assert "Too many" in str(info.value)
    assert count(AuthSession) == 0
    with pytest.raises(AuthError, match="Too many"):  # the email is throttled however it is spelled
        sessions.sign_in(" BO@acme.test", PASSWORD)
    _, actor = sessions.sign_in("dana@acme.test", PASSWORD)  # other emails are not
    assert actor.user_id == world.users["dana"]


def test_e9_throttle_ends_after_the_window(world, fast_passwords):
    for _ in range(5):
        with pytest.raises(AuthError):
            sessions.sign_in("bo@acme.test", "wrong-password")
    with Session(db.engine()) as s:
        for row in s.exec(select(LoginAttempt)):
            row.at = utcnow() - sessions.THROTTLE_WINDOW - timedelta(seconds=1)
            s.add(row)
        s.commit()
    _, actor = sessions.sign_in("bo@acme.test", PASSWORD)
    assert actor.user_id == world.users["bo"]


def test_e9_a_successful_sign_in_clears_earlier_failures(world, fast_passwords):
    for _ in range(4):
        with pytest.raises(AuthError):
            sessions.sign_in("bo@acme.test", "wrong-password")
    sessions.sign_in("bo@acme.test", PASSWORD)
    with pytest.raises(AuthError, match="Wrong"):
        sessions.sign_in("bo@acme.test", "wrong-password")
    sessions.sign_in("bo@acme.test", PASSWORD)


def test_e9_inactive_user_cannot_sign_in_and_loses_sessions(world, fast_passwords):
    token, _ = sessions.sign_in("bo@acme.test", PASSWORD)
    with Session(db.engine()) as s:
        bo = s.get(User, world.users["bo"])
        bo.is_active = False
        s.add(bo)
        s.commit()
    assert sessions.actor_for_token(token) is None
    with pytest.raises(AuthError):
        sessions.sign_in("bo@acme.test", PASSWORD)
    with pytest.raises(NotAuthenticated):
        groups.list_groups(world.actors["bo"])


@pytest.mark.parametrize("token", [None, 123, "x", "", "a" * 43, "a" * 5000, b"a" * 43, ["a" * 43]])
def test_e9_actor_for_token_refuses_unknown_and_garbage(world, fast_passwords, token):
    sessions.sign_in("ada@acme.test", PASSWORD)
    assert sessions.actor_for_token(token) is None


def test_e9_expired_session_is_refused(world, fast_passwords):
    token, _ = sessions.sign_in("ada@acme.test", PASSWORD)
    with Session(db.engine()) as s:
        row = s.exec(select(AuthSession)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
        s.commit()
    assert sessions.actor_for_token(token) is None


def test_e9_session_sees_role_changes_at_once(world, fast_passwords):
    token, _ = sessions.sign_in("dana@acme.test", PASSWORD)
    users.set_user_role(world.actors["ada"], world.users["dana"], "admin")
    assert sessions.actor_for_token(token).role == "admin"


def test_e9_sign_out_ends_only_that_session(world, fast_passwords):
    t1, bo = sessions.sign_in("bo@acme.test", PASSWORD)
    t2, _ = sessions.sign_in("bo@acme.test", PASSWORD)
    ta, _ = sessions.sign_in("ada@acme.test", PASSWORD)
    sessions.sign_out(bo, t1)
    assert sessions.actor_for_token(t1) is None
    assert sessions.actor_for_token(t2) == bo
    assert sessions.actor_for_token(ta) is not None


def test_e9_sign_out_cannot_end_someone_elses_session(world, fast_passwords):
    ta, ada = sessions.sign_in("ada@acme.test", PASSWORD)
    _, bo = sessions.sign_in("bo@acme.test", PASSWORD)
    sessions.sign_out(bo, ta)
    assert sessions.actor_for_token(ta) == ada


def test_e9_sign_out_without_actor_is_refused(world, fast_passwords):
    token, _ = sessions.sign_in("ada@acme.test", PASSWORD)
    with pytest.raises(NotAuthenticated):
        sessions.sign_out(None, token)
    assert sessions.actor_for_token(token) is not None


def test_e9_password_change_ends_that_users_sessions(world, fast_passwords):
    t1, _ = sessions.sign_in("bo@acme.test", PASSWORD)
    t2, _ = sessions.sign_in("bo@acme.test", PASSWORD)
    ta, _ = sessions.sign_in("ada@acme.test", PASSWORD)
    users.set_user_password(world.actors["ada"], world.users["bo"], NEW_PASSWORD)
    assert sessions.actor_for_token(t1) is None and sessions.actor_for_token(t2) is None
    assert sessions.actor_for_token(ta) is not None
    with pytest.raises(AuthError):
        sessions.sign_in("bo@acme.test", PASSWORD)
    _, actor = sessions.sign_in("bo@acme.test", NEW_PASSWORD)
    assert actor.user_id == world.users["bo"]


# -- users ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("email, name, password, role, access, field", [
    ("not-an-email", "N", NEW_PASSWORD, "user", "assigned", "email"),
    ("a@b", "N", NEW_PASSWORD, "user", "assigned", "email"),
    ("@acme.test", "N", NEW_PASSWORD, "user", "assigned", "email"),
    ("a b@acme.test", "N", NEW_PASSWORD, "user", "assigned", "email"),
    ("", "N", NEW_PASSWORD, "user", "assigned", "email"),
    (None, "N", NEW_PASSWORD, "user", "assigned", "email"),
    ("new@acme.test", "", NEW_PASSWORD, "user", "assigned", "name"),
    ("new@acme.test", "N", "short", "user", "assigned", "password"),
    ("new@acme.test", "N", None, "user", "assigned", "password"),
    ("new@acme.test", "N", "x" * 257, "user", "assigned", "password"),
    ("new@acme.test", "N", NEW_PASSWORD, "owner", "assigned", "role"),
    ("new@acme.test", "N", NEW_PASSWORD, "Admin", "assigned", "role"),
    ("new@acme.test", "N", NEW_PASSWORD, "user", "some", "data access"),
])
def test_e9_create_user_validates_its_input(
    world, fast_passwords, email, name, password, role, access, field
):
    before = count(User)
    with pytest.raises(ValidationError) as info:
        users.create_user(world.actors["ada"], email, name, password, role, access)
    assert info.value.errors[0].field == field
    assert str(info.value)
    assert count(User) == before


def test_e9_create_user_refuses_an_email_with_two_at_signs(world, fast_passwords):
    with pytest.raises(ValidationError):
        users.create_user(world.actors["ada"], "a@b@acme.test", "N", NEW_PASSWORD)


@pytest.mark.parametrize("email", ["ADA@acme.test", " ada@ACME.TEST ", "zed@birch.test"])
def test_e9_create_user_refuses_a_taken_email(world, fast_passwords, email):
    before = count(User)
    with pytest.raises(ValidationError) as info:
        users.create_user(world.actors["ada"], email, "Copy", NEW_PASSWORD)
    assert info.value.errors[0].field == "email"
    assert str(info.value) == users.EMAIL_UNAVAILABLE
    assert count(User) == before


def test_user_email_in_other_location_not_revealed(world, fast_passwords):
    """Zed's email (birch) and Bo's (acme, Ada's own location) get the very same answer: Ada
    cannot tell that birch has a user with that email, let alone who."""
    answers = {}
    for email in ("zed@birch.test", "bo@acme.test"):
        with pytest.raises(ValidationError) as info:
            users.create_user(world.actors["ada"], email, "Copy", NEW_PASSWORD)
        answers[email] = str(info.value)
    assert answers["zed@birch.test"] == answers["bo@acme.test"]
    assert "birch" not in answers["zed@birch.test"].lower() and "exists" not in answers["zed@birch.test"]


def test_e9_admin_creates_a_user_who_can_sign_in(world):
    uid = users.create_user(world.actors["ada"], " New@Acme.test ", "New  Person", NEW_PASSWORD,
                            "user", "all")
    listed = {u.id: u for u in users.list_users(world.actors["ada"])}
    assert (listed[uid].email, listed[uid].name, listed[uid].role, listed[uid].data_access) == (
        "new@acme.test", "New Person", "user", "all")
    _, actor = sessions.sign_in("new@acme.test", NEW_PASSWORD)
    assert (actor.user_id, actor.location_id) == (uid, world.locations["acme"])
    with db.transaction() as s:
        stored = s.get(User, uid).password_hash
    assert NEW_PASSWORD not in stored and stored.startswith("$argon2")
    event = _one_event("user.created")
    assert (event.actor_user_id, event.object_id) == (world.users["ada"], uid)


def test_e9_new_user_lands_in_the_admins_location(world, fast_passwords):
    uid = users.create_user(world.actors["zed"], "newbirch@birch.test", "Birch New", NEW_PASSWORD)
    assert uid in {u.id for u in users.list_users(world.actors["zed"])}
    assert uid not in {u.id for u in users.list_users(world.actors["ada"])}


@pytest.mark.parametrize("who", ["dana", "bo"])
def test_e9_non_admin_cannot_create_or_manage_users(world, fast_passwords, who):
    actor = world.actors[who]
    before = count(User)
    with pytest.raises(Forbidden):
        users.create_user(actor, "new@acme.test", "New", NEW_PASSWORD)
    with pytest.raises(Forbidden):
        users.set_user_role(actor, world.users[who], "admin")
    with pytest.raises(Forbidden):
        users.set_user_data_access(actor, world.users["bo"], "all")
    assert count(User) == before
    with db.transaction() as s:
        assert s.get(User, world.users[who]).role == "user"
        assert s.get(User, world.users["bo"]).data_access == "assigned"


def test_e9_last_admin_cannot_be_demoted(world, fast_passwords):
    ada = world.actors["ada"]
    with pytest.raises(ValidationError) as info:
        users.set_user_role(ada, world.users["ada"], "user")
    assert "at least one admin" in str(info.value)
    users.set_user_role(ada, world.users["dana"], "admin")
    users.set_user_role(ada, world.users["ada"], "user")  # Dana is still an admin
    with pytest.raises(ValidationError):
        users.set_user_role(world.actors["dana"], world.users["dana"], "user")
    roles = {u.email: u.role for u in users.list_users(world.actors["dana"])}
    assert roles == {"ada@acme.test": "user", "dana@acme.test": "admin", "bo@acme.test": "user"}
    with pytest.raises(Forbidden):  # Ada's old Actor is reloaded: she is no longer an admin
        users.set_user_role(ada, world.users["ada"], "admin")


def test_e9_another_locations_admin_does_not_count_as_an_admin_here(world, fast_passwords):
    # Zed is an admin, but of birch: Ada is still acme's last admin.
    with pytest.raises(ValidationError):
        users.set_user_role(world.actors["ada"], world.users["ada"], "user")


@pytest.mark.parametrize("role", ["owner", None, "", 1])
def test_e9_set_user_role_refuses_unknown_roles(world, fast_passwords, role):
    with pytest.raises(ValidationError):
        users.set_user_role(world.actors["ada"], world.users["bo"], role)
    with db.transaction() as s:
        assert s.get(User, world.users["bo"]).role == "user"


def test_e9_user_changes_own_password_but_not_someone_elses(world, fast_passwords):
    bo = world.actors["bo"]
    with pytest.raises(Forbidden):
        users.set_user_password(bo, world.users["dana"], NEW_PASSWORD)
    with pytest.raises(Forbidden):
        users.set_user_password(bo, world.users["ada"], NEW_PASSWORD)
    _, dana = sessions.sign_in("dana@acme.test", PASSWORD)  # unchanged
    users.set_user_password(bo, world.users["bo"], NEW_PASSWORD)
    _, actor = sessions.sign_in("bo@acme.test", NEW_PASSWORD)
    assert actor.user_id == world.users["bo"]
    with pytest.raises(ValidationError):
        users.set_user_password(bo, world.users["bo"], "short")


def test_e9_unauthenticated_calls_are_refused(world, fast_passwords):
    for call in (
        lambda: users.list_users(None),
        lambda: users.create_user(None, "new@acme.test", "N", NEW_PASSWORD),
        lambda: users.set_user_password("ada@acme.test", world.users["ada"], NEW_PASSWORD),
        lambda: groups.list_groups({"user_id": world.users["ada"]}),
    ):
        with pytest.raises(NotAuthenticated):
            call()


def test_e9_forged_actor_for_another_location_is_refused(world, fast_passwords):
    forged = Actor(world.users["bo"], world.locations["birch"], "Bo", "bo@acme.test", "admin")
    with pytest.raises(NotAuthenticated):
        contacts.list_contacts(forged)
    role_forged = Actor(world.users["bo"], world.locations["acme"], "Bo", "bo@acme.test", "admin")
    with pytest.raises(Forbidden):  # the role comes from the database, not from the Actor
        users.create_user(role_forged, "new@acme.test", "N", NEW_PASSWORD)


# -- role permission policy -----------------------------------------------------------------------

def _one_event(action: str) -> AuditEvent:
    with db.transaction() as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action)).one()


def test_e9_revoking_a_role_permission_applies_at_once(world, fast_passwords):
    ada, dana, bo = world.actors["ada"], world.actors["dana"], world.actors["bo"]
    assert policy.set_role_permission(ada, "user", "contact", "write", False) is True
    with pytest.raises(Forbidden) as info:
        contacts.create_contact(dana, "Rae Renter", "+15125550141")
    assert "create and edit contacts" in str(info.value)
    with pytest.raises(Forbidden):
        contacts.update_contact(bo, world.contacts["carla"], name="Carla X")
    with pytest.raises(Forbidden):
        contacts.set_contact_dnd(bo, world.contacts["carla"], True)
    contacts.create_contact(ada, "Admin Still Can", "+15125550142")
    rows = {(r.obj, r.act): r.roles for r in policy.list_role_permissions(ada)}
    assert rows[("contact", "write")] == ("admin",)
    assert policy.set_role_permission(ada, "user", "contact", "write", False) is False  # no change
    assert policy.set_role_permission(ada, "user", "contact", "write", True) is True
    contacts.create_contact(dana, "Rae Renter", "+15125550141")
    event = _first_policy_event()
    assert event.actor_user_id == world.users["ada"]


def _first_policy_event() -> AuditEvent:
    with db.transaction() as s:
        query = select(AuditEvent).where(AuditEvent.action == "policy.changed").order_by(AuditEvent.id)
        return s.exec(query).first()


def test_e9_granting_a_role_permission_applies_at_once(world, fast_passwords):
    with pytest.raises(Forbidden):
        contacts.delete_contact(world.actors["dana"], world.contacts["hal"])
    policy.set_role_permission(world.actors["ada"], "user", "contact", "delete", True)
    contacts.delete_contact(world.actors["dana"], world.contacts["hal"])
    assert contacts.get_contact(world.actors["ada"], world.contacts["hal"]).deleted


def test_e9_policy_change_reaches_an_enforcer_of_another_process(world, fast_passwords):
    # A second enforcer stands for another worker process that cached the policy before the change.
    other = access_policy._Enforcer()
    acme = world.locations["acme"]
    with Session(db.engine()) as s:
        assert other.allowed(s, "user", acme, "contact", "write") is True
    policy.set_role_permission(world.actors["ada"], "user", "contact", "write", False)
    with Session(db.engine()) as s:
        assert other.allowed(s, "user", acme, "contact", "write") is False
        assert other.allowed(s, "admin", acme, "contact", "write") is True
    policy.set_role_permission(world.actors["ada"], "user", "contact", "write", True)
    with Session(db.engine()) as s:
        assert other.allowed(s, "user", acme, "contact", "write") is True


def test_e9_admins_cannot_remove_their_own_policy_right(world, fast_passwords):
    ada = world.actors["ada"]
    with pytest.raises(ValidationError):
        policy.set_role_permission(ada, "admin", "policy", "manage", False)
    rows = {(r.obj, r.act): r.roles for r in policy.list_role_permissions(ada)}
    assert "admin" in rows[("policy", "manage")]
    policy.set_role_permission(ada, "user", "contact", "write", False)  # still allowed to manage


@pytest.mark.parametrize("role, obj, act, allowed", [
    ("owner", "contact", "write", False),
    ("user", "contact", "fly", False),
    ("user", "spaceship", "write", False),
    ("user", "contact", "write", "no"),
    ("user", "contact", "write", None),
    (None, None, None, None),
])
def test_e9_set_role_permission_validates_its_input(world, fast_passwords, role, obj, act, allowed):
    with pytest.raises(ValidationError):
        policy.set_role_permission(world.actors["ada"], role, obj, act, allowed)
    contacts.create_contact(world.actors["dana"], "Still Allowed", "+15125550143")


def test_e9_only_admins_manage_the_policy(world, fast_passwords):
    for who in ("dana", "bo"):
        with pytest.raises(Forbidden):
            policy.set_role_permission(world.actors[who], "user", "contact", "delete", True)
        with pytest.raises(Forbidden):
            policy.list_role_permissions(world.actors[who])
    with pytest.raises(Forbidden):
        contacts.delete_contact(world.actors["dana"], world.contacts["hal"])


def test_e9_policy_list_matches_the_default_policy(world, fast_passwords):
    rows = {(r.obj, r.act): set(r.roles) for r in policy.list_role_permissions(world.actors["ada"])}
    assert set(rows) == set(access_policy.PERMISSIONS)
    assert all("admin" in roles for roles in rows.values())
    user_rights = {perm for perm, roles in rows.items() if "user" in roles}
    assert user_rights == {("group", "create"), ("group", "read"), ("message", "send"),
                           ("contact", "read"), ("contact", "write"), ("number", "read")}


def test_e9_not_found_user_ids(world, fast_passwords):
    with pytest.raises(NotFound):
        users.set_user_role(world.actors["ada"], 987_654, "user")


def test_e9_session_hash_is_keyed_by_the_secret_key(world, monkeypatch):
    monkeypatch.setenv("GROUPSMS_SECRET_KEY", "a-long-random-server-key")
    token, _ = sessions.sign_in("ada@acme.test", PASSWORD)
    with db.transaction() as s:
        stored = {row.token_hash for row in s.exec(select(AuthSession))}
    assert hashlib.sha256(token.encode()).hexdigest() not in stored and len(stored) == 1
    assert sessions.actor_for_token(token) is not None
    monkeypatch.setenv("GROUPSMS_SECRET_KEY", "another-key")
    assert sessions.actor_for_token(token) is None


# -- sign-in throttles, idle sessions, accounts ----------------------------------------------------


class Clock:
    """The services' clock, moved by the test (throttles and idle times without sleeping)."""

    def __init__(self, monkeypatch):
        self.now = utcnow()
        for module in (sessions, users):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _refused_for(call) -> float:
    with pytest.raises(sessions.SignInThrottled) as info:
        call()
    return info.value.retry_after


def test_password_hash_runs_outside_any_transaction(world, fast_passwords, monkeypatch):
    """On SQLite a transaction holds the write lock: argon2 must run with none open."""
    from sqlalchemy import event

    open_transactions = []
    engine = db.engine()
    begin = lambda conn: open_transactions.append(conn)  # noqa: E731
    end = lambda conn: open_transactions.remove(conn) if conn in open_transactions else None  # noqa: E731
    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)
    seen: list[int] = []
    real = sessions.verify_password

    def verifier(stored, password):
        seen.append(len(open_transactions))
        return real(stored, password)

    monkeypatch.setattr(sessions, "verify_password", verifier)
    try:
        sessions.sign_in("bo@acme.test", PASSWORD, "10.0.0.1")
        with pytest.raises(AuthError):
            sessions.sign_in("bo@acme.test", "wrong-password", "10.0.0.1")
        with pytest.raises(AuthError):
            sessions.sign_in("nobody@acme.test", "wrong-password", "10.0.0.1")
    finally:
        event.remove(engine, "begin", begin)
        event.remove(engine, "commit", end)
        event.remove(engine, "rollback", end)
    assert seen == [0, 0, 0]


def test_throttle_grows_per_client_and_globally_not_lockout(world, fast_passwords, monkeypatch):
    clock = Clock(monkeypatch)
    # Per client: random emails from one address. Free tries first, then waits that double.
    free = sessions.CLIENT.free
    for i in range(free):
        with pytest.raises(AuthError, match="Wrong email"):
            sessions.sign_in(f"guess{i}@acme.test", "wrong-password", "198.51.100.7")
    waits = []
    for i in range(4):
        wait = _refused_for(lambda: sessions.sign_in(f"x{i}@acme.test", "wrong-password", "198.51.100.7"))
        waits.append(wait)
        clock.advance(wait)  # waiting is enough: no lock to sit out
        with pytest.raises(AuthError, match="Wrong email"):
            sessions.sign_in(f"late{i}@acme.test", "wrong-password", "198.51.100.7")
    assert waits == [2, 4, 8, 16]
    # The right password from another device is not affected by that client's failures.
    _, actor = sessions.sign_in("bo@acme.test", PASSWORD, "203.0.113.9")
    assert actor.user_id == world.users["bo"]

    # Per email: a stranger fails on Dana's email; Dana waits at most the capped delay.
    for i in range(sessions.EMAIL.free + 10):
        clock.advance(sessions.EMAIL.cap)
        with pytest.raises(AuthError, match="Wrong email"):
            sessions.sign_in("dana@acme.test", "wrong-password", f"192.0.2.{i}")
    assert _refused_for(lambda: sessions.sign_in("dana@acme.test", PASSWORD, "203.0.113.10")) <= sessions.EMAIL.cap
    clock.advance(sessions.EMAIL.cap)
    _, dana = sessions.sign_in("dana@acme.test", PASSWORD, "203.0.113.10")
    assert dana.user_id == world.users["dana"]

    # Globally: a flood from many addresses slows every sign-in for a few seconds at most.
    monkeypatch.setattr(sessions, "GLOBAL", sessions.Throttle("this site", free=3, base=1.0, cap=5.0))
    for i in range(3):
        with pytest.raises(AuthError, match="Wrong email"):
            sessions.sign_in(f"flood{i}@acme.test", "wrong-password", f"100.64.0.{i}")
    wait = _refused_for(lambda: sessions.sign_in("ada@acme.test", PASSWORD, "203.0.113.11"))
    assert 1 <= wait <= 5
    clock.advance(wait)
    _, ada = sessions.sign_in("ada@acme.test", PASSWORD, "203.0.113.11")
    assert ada.user_id == world.users["ada"]


def test_refused_tries_do_not_grow_the_wait(world, fast_passwords, monkeypatch):
    Clock(monkeypatch)
    for _ in range(sessions.EMAIL.free):
        with pytest.raises(AuthError):
            sessions.sign_in("bo@acme.test", "wrong-password")
    first = _refused_for(lambda: sessions.sign_in("bo@acme.test", "wrong-password"))
    for _ in range(20):
        assert _refused_for(lambda: sessions.sign_in("bo@acme.test", "wrong-password")) == first
    assert count(LoginAttempt) == sessions.EMAIL.free


def test_idle_session_ends(world, fast_passwords, monkeypatch):
    clock = Clock(monkeypatch)
    monkeypatch.setenv("GROUPSMS_SESSION_IDLE_HOURS", "2")
    token, bo = sessions.sign_in("bo@acme.test", PASSWORD)
    clock.advance(3600)
    assert sessions.actor_for_token(token) == bo  # used within the limit: it lives on, from now
    clock.advance(2 * 3600 - 5)
    assert sessions.actor_for_token(token) == bo
    clock.advance(2 * 3600 + 1)
    assert sessions.actor_for_token(token) is None
    assert sessions_of(world.users["bo"]) == []
    monkeypatch.delenv("GROUPSMS_SESSION_IDLE_HOURS")
    assert sessions._idle_limit() == timedelta(hours=12)


def test_session_last_seen_is_written_at_most_every_minute(world, fast_passwords, monkeypatch):
    clock = Clock(monkeypatch)
    token, _ = sessions.sign_in("bo@acme.test", PASSWORD)
    start = sessions_of(world.users["bo"])[0].last_seen_at
    clock.advance(30)
    sessions.actor_for_token(token)
    assert sessions_of(world.users["bo"])[0].last_seen_at == start
    clock.advance(31)
    sessions.actor_for_token(token)
    assert sessions_of(world.users["bo"])[0].last_seen_at > start


@pytest.mark.parametrize("raw", ["zero", "0", "-1", "nan"])
def test_idle_hours_must_be_a_positive_number(monkeypatch, raw):
    monkeypatch.setenv("GROUPSMS_SESSION_IDLE_HOURS", raw)
    with pytest.raises(SystemExit, match="GROUPSMS_SESSION_IDLE_HOURS"):
        sessions._idle_limit()


def test_deactivated_user_sessions_end_and_sign_in_refused(world, fast_passwords):
    t1, _ = sessions.sign_in("bo@acme.test", PASSWORD)
    users.set_user_active(world.actors["ada"], world.users["bo"], False)
    assert sessions.actor_for_token(t1) is None
    assert sessions_of(world.users["bo"]) == []
    with pytest.raises(AuthError, match="deactivated"):
        sessions.sign_in("bo@acme.test", PASSWORD)
    with pytest.raises(AuthError, match="Wrong email or password"):  # no hint without the password
        sessions.sign_in("bo@acme.test", "wrong-password")
    assert _one_event("user.deactivated").object_id == world.users["bo"]
    assert {u.id: u.is_active for u in users.list_users(world.actors["ada"])}[world.users["bo"]] is False
    users.set_user_active(world.actors["ada"], world.users["bo"], True)
    _, bo = sessions.sign_in("bo@acme.test", PASSWORD)
    assert bo.user_id == world.users["bo"]


def test_admin_cannot_deactivate_themself_or_the_last_admin(world, fast_passwords):
    ada = world.actors["ada"]
    with pytest.raises(ValidationError, match="yourself"):
        users.set_user_active(ada, world.users["ada"], False)
    users.set_user_role(ada, world.users["dana"], "admin")
    users.set_user_active(ada, world.users["dana"], False)  # Ada is still an active admin
    with pytest.raises(ValidationError, match="at least one"):  # an inactive admin does not count
        users.set_user_role(ada, world.users["ada"], "user")
    with pytest.raises(Forbidden):
        users.set_user_active(world.actors["bo"], world.users["ada"], False)
    with pytest.raises(NotFound):  # another location's user is simply not found (R14)
        users.set_user_active(ada, world.users["zed"], False)
    with pytest.raises(ValidationError):
        users.set_user_active(ada, world.users["bo"], "no")
    with db.transaction() as s:
        assert s.get(User, world.users["zed"]).is_active and s.get(User, world.users["ada"]).is_active


def test_change_password_needs_current_and_ends_other_sessions(world, fast_passwords):
    here, bo = sessions.sign_in("bo@acme.test", PASSWORD)
    other, _ = sessions.sign_in("bo@acme.test", PASSWORD)
    ada_token, _ = sessions.sign_in("ada@acme.test", PASSWORD)
    with pytest.raises(ValidationError, match="current password is wrong"):
        users.change_own_password(bo, "not-my-password", NEW_PASSWORD, here)
    with pytest.raises(ValidationError, match="at least"):
        users.change_own_password(bo, PASSWORD, "short", here)
    assert sessions.actor_for_token(other) == bo
    users.change_own_password(bo, PASSWORD, NEW_PASSWORD, here)
    assert sessions.actor_for_token(here) == bo  # this browser stays signed in
    assert sessions.actor_for_token(other) is None
    assert sessions.actor_for_token(ada_token) is not None
    with db.transaction() as s:
        assert s.get(User, world.users["bo"]).password_changed_at is not None
    with pytest.raises(AuthError):
        sessions.sign_in("bo@acme.test", PASSWORD)
    sessions.sign_in("bo@acme.test", NEW_PASSWORD)


def test_wrong_current_password_is_throttled_like_a_sign_in(world, fast_passwords, monkeypatch):
    Clock(monkeypatch)
    bo = world.actors["bo"]
    for _ in range(sessions.EMAIL.free):
        with pytest.raises(ValidationError):
            users.change_own_password(bo, "guess", NEW_PASSWORD)
    with pytest.raises(sessions.SignInThrottled):
        users.change_own_password(bo, PASSWORD, NEW_PASSWORD)


def test_demo_reload_keeps_changed_password(clean_db):
    from groupsms.demo import load_demo

    load_demo()
    _, bo = sessions.sign_in("bo@acme.test", "bo-demo-pass")
    _, ada = sessions.sign_in("admin@acme.test", "admin-demo-pass")
    users.change_own_password(bo, "bo-demo-pass", NEW_PASSWORD)
    users.set_user_password(ada, ada.user_id, "ada-own-new-passphrase")  # also a change made in the app
    load_demo()
    for email, old, new in (("bo@acme.test", "bo-demo-pass", NEW_PASSWORD),
                            ("admin@acme.test", "admin-demo-pass", "ada-own-new-passphrase")):
        with pytest.raises(AuthError):
            sessions.sign_in(email, old)
        sessions.sign_in(email, new)
    sessions.sign_in("dana@acme.test", "dana-demo-pass")  # untouched accounts keep the demo password
