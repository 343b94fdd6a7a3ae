"""Role permissions through Casbin: one enforcer per process, reloaded when the policy version moves.

Casbin's enforcer is not safe to call from several threads at once, so every use holds a lock.
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import casbin
from casbin import persist
from sqlalchemy import func
from sqlmodel import Session, select

from groupsms.models import CasbinRule, PolicyVersion, utcnow

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
MODEL_PATH = POLICY_DIR / "model.conf"
DEFAULT_POLICY_PATH = POLICY_DIR / "default.csv"

# Every permission the product knows: (object, action) -> what it lets a role do.
PERMISSIONS: dict[tuple[str, str], str] = {
    ("group", "create"): "Create group conversations",
    ("group", "read"): "See group conversations",
    ("message", "send"): "Send messages in groups",
    ("contact", "read"): "See contacts",
    ("contact", "write"): "Create and edit contacts",
    ("contact", "delete"): "Delete contacts",
    ("number", "read"): "See business numbers",
    ("number", "manage"): "Add business numbers, set the default, assign them",
    ("user", "manage"): "Manage users and their access",
    ("policy", "manage"): "Change role permissions",
    ("audit", "read"): "Read the audit log",
}
ROLES = ("admin", "user")


class _RuleAdapter(persist.Adapter):
    """Loads rules through the caller's session, so a reload sees the same transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def load_policy(self, model) -> None:  # noqa: ANN001
        for rule in self._session.exec(select(CasbinRule).order_by(CasbinRule.id)):
            persist.load_policy_line(str(rule), model)


class _Enforcer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._enforcer: casbin.Enforcer | None = None
        self._version: int | None = None

    def allowed(self, session: Session, role: str, location_id: int, obj: str, act: str) -> bool:
        version = current_version(session)
        with self._lock:
            if self._enforcer is None or version != self._version:
                enforcer = casbin.Enforcer(str(MODEL_PATH))
                enforcer.set_adapter(_RuleAdapter(session))
                enforcer.load_policy()
                self._enforcer, self._version = enforcer, version
            return bool(self._enforcer.enforce(role, str(location_id), obj, act))

    def forget(self) -> None:
        with self._lock:
            self._enforcer, self._version = None, None


ENFORCER = _Enforcer()


_VERSION_KEY = "groupsms_policy_version"


def current_version(session: Session) -> int:
    """The policy version, read once per transaction: every permission check of one service call
    then answers from the same policy (and costs no statement after the first)."""
    cached = session.info.get(_VERSION_KEY)
    if cached is not None and cached[0] is session.get_transaction():
        return cached[1]
    row = session.get(PolicyVersion, 1)
    version = row.version if row else 0
    session.info[_VERSION_KEY] = (session.get_transaction(), version)
    return version


def bump_version(session: Session) -> int:
    row = session.get(PolicyVersion, 1)
    if row is None:
        row = PolicyVersion(id=1, version=0)
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    session.info[_VERSION_KEY] = (session.get_transaction(), row.version)
    return row.version


def default_rules() -> list[tuple[str, ...]]:
    rules = []
    with DEFAULT_POLICY_PATH.open() as fh:
        for row in csv.reader(line for line in fh if line.strip() and not line.startswith("#")):
            ptype, *values = (v.strip() for v in row)
            if ptype != "p" or len(values) != 5 or values[4] not in ("allow", "deny"):
                raise ValueError(f"{DEFAULT_POLICY_PATH}: bad rule {row!r}")
            rules.append(tuple(values))
    return rules


def seed_default_policy(session: Session) -> bool:
    """Load policies/default.csv when the rule table is empty. Returns True if it seeded."""
    if session.exec(select(func.count()).select_from(CasbinRule)).one():
        return False
    for sub, dom, obj, act, eft in default_rules():
        session.add(CasbinRule(ptype="p", v0=sub, v1=dom, v2=obj, v3=act, v4=eft))
    bump_version(session)
    return True


def granted(session: Session, location_id: int) -> set[tuple[str, str, str]]:
    """(role, object, action) in effect for one location."""
    return {
        (role, obj, act)
        for role in ROLES
        for obj, act in PERMISSIONS
        if ENFORCER.allowed(session, role, location_id, obj, act)
    }


def set_rule(session: Session, role: str, location_id: int, obj: str, act: str, allowed: bool) -> bool:
    """Grant or revoke one role permission in one location. Returns True when something changed.

    The location's own rule (allow or deny) replaces any earlier one of that location; when the
    wanted effect is what the shared "*" rules give anyway, the location keeps no rule at all.
    """
    if ENFORCER.allowed(session, role, location_id, obj, act) == allowed:
        return False
    dom = str(location_id)
    own = session.exec(
        select(CasbinRule).where(
            CasbinRule.ptype == "p", CasbinRule.v0 == role, CasbinRule.v1 == dom,
            CasbinRule.v2 == obj, CasbinRule.v3 == act,
        )
    ).all()
    for rule in own:  # delete exactly these rows (never remove_policies(): it over-deletes)
        session.delete(rule)
    session.flush()
    bump_version(session)
    if ENFORCER.allowed(session, role, location_id, obj, act) != allowed:
        effect = "allow" if allowed else "deny"
        session.add(CasbinRule(ptype="p", v0=role, v1=dom, v2=obj, v3=act, v4=effect))
        session.flush()
        bump_version(session)
    return True
