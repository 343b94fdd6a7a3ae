"""/users: users of the location (role, data access, password) and the role permission policy (E9).

Admins only: anyone else gets a refusal and no data (the services refuse them as well).
"""

from __future__ import annotations

import reflex as rx

from groupsms.components import forms
from groupsms.components.forms import form_text
from groupsms.components.failed_events import FailedEventRow, failed_event_row
from groupsms.components.layout import app_shell
from groupsms.components.user_admin import (
    ACCESS_LABELS,
    MAX_EMAIL,
    MAX_NAME,
    ROLE_LABELS,
    AuditRow,
    PermissionCell,
    PersonChoice,
    UserRow,
    admin_view,
    audit_row,
    permission_cell,
)
from groupsms.models import DATA_ACCESS, ROLES
from groupsms.pages import Page
from groupsms.pages.integrations import integrations_section
from groupsms.pages.session import SessionState, signed_in
from groupsms.services import audit, inbound_events, policy, users

_MAX_PASSWORD = 1024
REFUSAL = "Only admins can manage users"
_AUDIT_FILTER_FIELDS = ("audit_person", "audit_kind", "audit_from", "audit_to")


class UsersState(SessionState):
    allowed: bool = False
    loaded: bool = False
    load_error: str = ""
    rows: list[UserRow] = []
    permissions: list[PermissionCell] = []
    audit_rows: list[AuditRow] = []
    # The audit log's filters (as the form holds them), its page and its cursors.
    audit_people: list[PersonChoice] = []
    audit_person: str = ""
    audit_kind: str = ""
    audit_from: str = ""
    audit_to: str = ""
    audit_zone: str = ""
    audit_has_older: bool = False
    audit_has_newer: bool = False
    audit_error: str = ""
    _audit_oldest: int = 0
    _audit_newest: int = 0
    failed_events: list[FailedEventRow] = []
    error: str = ""
    notice: str = ""
    policy_error: str = ""
    policy_notice: str = ""

    create_open: bool = False
    create_error: str = ""

    password_open: bool = False
    password_id: int = 0
    password_name: str = ""
    password_error: str = ""

    @rx.event
    @signed_in(shell=True)
    async def load(self, actor):
        self._reset_fields("error", "notice", "policy_error", "policy_notice")
        return await self._refresh(actor)

    async def _refresh(self, actor):
        # The page is for admins; the services check `user:manage` and `policy:manage` on every call.
        if actor.role != "admin":
            self._reset_fields("rows", "permissions", "audit_rows", "audit_people", "failed_events", "allowed")
            self.loaded = True
            return None
        team = await self._attempt(users.list_users, actor)
        perms = await self._attempt(policy.list_role_permissions, actor)
        log_error = await self._load_audit(actor)
        failed = await self._attempt(inbound_events.list_failed_inbound_events, actor, 20)
        self.allowed = True
        self.rows = [
            UserRow(u.id, u.name, u.email, u.role, u.data_access, u.id == actor.user_id, u.is_active)
            for u in (team.value if team.ok else [])
        ]
        self.permissions = [permission_cell(p) for p in perms.value] if perms.ok else []
        self.audit_people = [PersonChoice(str(u.id), u.name) for u in (team.value if team.ok else [])] + [
            PersonChoice("system", "groupsms (automatic)")]
        self.audit_error = log_error
        self.failed_events = [failed_event_row(e, actor.clock) for e in failed.value] if failed.ok else []
        self.load_error = team.error or perms.error
        self.loaded = True
        return None

    # -- audit log ----------------------------------------------------------------------------------

    def _audit_filters(self) -> dict:
        return {"person": self.audit_person, "kind": self.audit_kind, "date_from": self.audit_from,
                "date_to": self.audit_to}

    async def _load_audit(self, actor, *, before_id=None, after_id=None) -> str:
        """One page of the log with the current filters; the error to show ("" when fine)."""
        found = await self._attempt(audit.audit_page, actor, **self._audit_filters(), before_id=before_id,
                                    after_id=after_id)
        self.audit_zone = actor.clock.zone_name
        if not found.ok:
            self._assign(audit_rows=[], audit_has_older=False, audit_has_newer=False)
            return found.error
        page = found.value
        self.audit_rows = [audit_row(e, actor.clock) for e in page.entries]
        self._assign(audit_has_older=page.has_older, audit_has_newer=page.has_newer)
        if page.entries:
            self._audit_newest, self._audit_oldest = page.entries[0].id, page.entries[-1].id
        return ""

    @rx.event
    @signed_in
    async def set_audit_filter(self, actor, field, value):
        """One filter control changed (applied with "Apply filters")."""
        if field in _AUDIT_FILTER_FIELDS and isinstance(value, str) and len(value) <= 20:
            setattr(self, field, value)
        return None

    @rx.event
    @signed_in(error="audit_error")
    async def filter_audit(self, actor, form_data):
        """Show the log for the person, kind and dates of the filter form (from its first page)."""
        values = [form_text(form_data, key, 20) for key in ("person", "kind", "date_from", "date_to")]
        if None in values:
            self.audit_error = "Pick the filters again."
            return None
        self.audit_person, self.audit_kind, self.audit_from, self.audit_to = (v.strip() for v in values)
        self.audit_error = await self._load_audit(actor)
        return None

    @rx.event
    @signed_in(error="audit_error")
    async def clear_audit_filters(self, actor):
        self._reset_fields("audit_person", "audit_kind", "audit_from", "audit_to")
        self.audit_error = await self._load_audit(actor)
        return None

    @rx.event
    @signed_in(error="audit_error")
    async def audit_older(self, actor):
        self.audit_error = await self._load_audit(actor, before_id=self._audit_oldest or None)
        return None

    @rx.event
    @signed_in(error="audit_error")
    async def audit_newer(self, actor):
        self.audit_error = await self._load_audit(actor, after_id=self._audit_newest or None)
        return None

    @rx.event
    @signed_in(error="audit_error")
    async def export_audit(self, actor):
        """The filtered log as a CSV download (times in the viewer's zone)."""
        self.audit_error = ""
        text = await self._call(audit.audit_csv, actor, **self._audit_filters())
        return rx.download(data=text, filename="audit-log.csv", mime_type="text/csv")

    def _user_by_id(self, user_id) -> UserRow | None:
        uid = forms.browser_id(user_id)
        return next((r for r in self.rows if r.id == uid), None) if uid else None

    # -- create ---------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def open_create(self, actor):
        self.create_error = self.error = self.notice = ""
        self.create_open = True
        return None

    @rx.event
    @signed_in
    async def close_create(self, actor, is_open=False):
        self._close_dialog("create_open", is_open)

    @rx.event
    @signed_in(error="create_error")
    async def create_user(self, actor, form_data):
        email = form_text(form_data, "email", MAX_EMAIL)
        name = form_text(form_data, "name", MAX_NAME)
        password = form_text(form_data, "password", _MAX_PASSWORD)
        role = form_text(form_data, "role", 20)
        access = form_text(form_data, "data_access", 20)
        if None in (email, name, password, role, access):
            self.create_error = "Some fields are too long or not text."
            return None
        await self._call(users.create_user, actor, email, name, password, role, access)
        self.create_open = False
        self.notice = f"{' '.join(name.split())} can now sign in with {email.strip().lower()}"
        return await self._refresh(actor)

    # -- role and data access ---------------------------------------------------------------------

    @rx.event
    @signed_in
    async def set_role(self, actor, user_id, role):
        return await self._change(actor, user_id, users.set_user_role, role, ROLES, "role", ROLE_LABELS)

    @rx.event
    @signed_in
    async def set_data_access(self, actor, user_id, access):
        return await self._change(actor, user_id, users.set_user_data_access, access, DATA_ACCESS, "data access",
                                  ACCESS_LABELS)

    @rx.event
    @signed_in
    async def set_active(self, actor, user_id, active):
        """Deactivate (their sessions end at once) or reactivate a user."""
        return await self._change(actor, user_id, users.set_user_active, active, (True, False), "account",
                                  {True: "active", False: "deactivated: they can no longer sign in"})

    async def _change(self, actor, user_id, service, value, choices, what: str, labels: dict):
        row = self._user_by_id(user_id)
        self.error = self.notice = ""
        if row is None or not any(value is c or (isinstance(c, str) and value == c) for c in choices):
            self.error = "Pick the user and the value again."
            return await self._refresh(actor)
        done = await self._attempt(service, actor, row.id, value)
        self._assign(notice=f"{row.name}: {what} is now {labels[value]}" if done.ok else "", error=done.error)
        return await self._refresh(actor)  # also puts a refused select back to the stored value

    # -- password ---------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def open_password(self, actor, user_id):
        self.error = self.notice = self.password_error = ""
        row = self._require(self._user_by_id(user_id), "User")
        self.password_id, self.password_name = row.id, row.name
        self.password_open = True
        return None

    @rx.event
    @signed_in
    async def close_password(self, actor, is_open=False):
        self._close_dialog("password_open", is_open)

    @rx.event
    @signed_in(error="password_error")
    async def reset_password(self, actor, form_data):
        password = form_text(form_data, "password", _MAX_PASSWORD)
        if password is None:
            self.password_error = "That password is too long."
            return None
        # Resetting your own password ends your sessions too: then the kernel goes to sign-in.
        await self._call(users.set_user_password, actor, self.password_id, password)
        self.password_open = False
        self.notice = f"{self.password_name}'s password was changed; they need to sign in again"
        return None

    # -- role permissions -------------------------------------------------------------------------

    @rx.event
    @signed_in(error="policy_error")
    async def set_permission(self, actor, key, role, allowed):
        self.policy_error = self.policy_notice = ""
        cell = next((c for c in self.permissions if isinstance(key, str) and c.key == key), None)
        if cell is None or role not in ROLES or not isinstance(allowed, bool):
            self.policy_error = "Pick the permission again."
            return await self._refresh(actor)
        obj, _, act = cell.key.partition(":")
        done = await self._attempt(policy.set_role_permission, actor, role, obj, act, allowed)
        verb = "may now" if allowed else "may no longer"
        self._assign(policy_notice=f"{ROLE_LABELS[role]}s {verb}: {cell.description.lower()}" if done.ok else "",
                     policy_error=done.error)
        return await self._refresh(actor)


# -- view (the admin's view: components/user_admin.py) ------------------------------------------


def _refusal() -> rx.Component:
    return rx.vstack(
        rx.heading("Users & access", size="6", as_="h1"),
        rx.callout(REFUSAL + ". Ask an admin of your location to change roles, access or permissions.",
                   icon="shield-alert", color_scheme="amber", role="alert", width="100%"),
        spacing="4", width="100%",
    )


def page() -> rx.Component:
    return app_shell(
        rx.cond(
            UsersState.loaded,
            rx.cond(UsersState.allowed, rx.fragment(admin_view(UsersState), integrations_section()), _refusal()),
            forms.loading("users"),
        ),
        max_width="64rem",
    )


PAGE = Page("/users", page, "Users & access · groupsms", UsersState.load)
