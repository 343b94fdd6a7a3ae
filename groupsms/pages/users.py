"""/users: users of the location (role, data access, password) and the role permission policy (E9).

Admins only: anyone else gets a refusal and no data (the services refuse them as well).
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from groupsms.components import forms
from groupsms.components.forms import call_service, form_text
from groupsms.components.layout import app_shell
from groupsms.models import DATA_ACCESS, ROLES
from groupsms.pages import Page
from groupsms.pages.session import LOGIN_ROUTE, SessionState
from groupsms.services import policy, users
from groupsms.security import MIN_PASSWORD_LENGTH
from groupsms.services.policy import PermissionRow

_MAX_EMAIL = 254
_MAX_NAME = 200
_MAX_PASSWORD = 1024
REFUSAL = "Only admins can manage users"
_ROLE_LABELS = {"admin": "Admin", "user": "User"}
_ACCESS_LABELS = {"all": "All data", "assigned": "Assigned data only"}


@dataclasses.dataclass
class UserRow:
    id: int
    name: str
    email: str
    role: str
    data_access: str
    is_me: bool
    active: bool


@dataclasses.dataclass
class PermissionCell:
    key: str  # "contact:write" (what the browser sends back)
    description: str
    admin: bool
    user: bool


def _cell(p: PermissionRow) -> PermissionCell:
    return PermissionCell(f"{p.obj}:{p.act}", p.description, "admin" in p.roles, "user" in p.roles)


class UsersState(SessionState):
    allowed: bool = False
    loaded: bool = False
    load_error: str = ""
    rows: list[UserRow] = []
    permissions: list[PermissionCell] = []
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
    async def load(self):
        actor = await self._signed_in()
        if actor is None:
            return self._to_login()
        self.error = self.notice = self.policy_error = self.policy_notice = ""
        return await self._refresh(actor)

    def _to_login(self):
        self._forget()
        return rx.redirect(LOGIN_ROUTE, replace=True)

    def _forget(self) -> None:
        self.rows, self.permissions, self.allowed, self.loaded = [], [], False, False

    async def _refresh(self, actor):
        # The page is for admins; the services check `user:manage` and `policy:manage` on every call.
        if actor.role != "admin":
            self._forget()
            self.loaded = True
            return None
        team = await call_service(users.list_users, actor)
        perms = await call_service(policy.list_role_permissions, actor)
        if team.signed_out or perms.signed_out:
            return self._to_login()
        self.allowed = True
        self.rows = [
            UserRow(u.id, u.name, u.email, u.role, u.data_access, u.id == actor.user_id, u.is_active)
            for u in (team.value if team.ok else [])
        ]
        self.permissions = [_cell(p) for p in perms.value] if perms.ok else []
        self.load_error = team.error or perms.error
        self.loaded = True
        return None

    def _user_by_id(self, user_id) -> UserRow | None:
        uid = forms.browser_id(user_id)
        return next((r for r in self.rows if r.id == uid), None) if uid else None

    # -- create ---------------------------------------------------------------------------------

    @rx.event
    async def open_create(self):
        if await self._actor() is None:
            return self._to_login()
        self.create_error = self.error = self.notice = ""
        self.create_open = True
        return None

    @rx.event
    async def close_create(self, is_open=False):
        if is_open is not True:
            self.create_open = False
        return None

    @rx.event
    async def create_user(self, form_data):
        actor = await self._actor()
        if actor is None:
            return self._to_login()
        email = form_text(form_data, "email", _MAX_EMAIL)
        name = form_text(form_data, "name", _MAX_NAME)
        password = form_text(form_data, "password", _MAX_PASSWORD)
        role = form_text(form_data, "role", 20)
        access = form_text(form_data, "data_access", 20)
        if None in (email, name, password, role, access):
            self.create_error = "Some fields are too long or not text."
            return None
        outcome = await call_service(users.create_user, actor, email, name, password, role, access)
        if outcome.signed_out:
            return self._to_login()
        if not outcome.ok:
            self.create_error = outcome.error
            return None
        self.create_open = False
        self.notice = f"{' '.join(name.split())} can now sign in with {email.strip().lower()}"
        return await self._refresh(actor)

    # -- role and data access ---------------------------------------------------------------------

    @rx.event
    async def set_role(self, user_id, role):
        return await self._change(user_id, users.set_user_role, role, ROLES, "role", _ROLE_LABELS)

    @rx.event
    async def set_data_access(self, user_id, access):
        return await self._change(user_id, users.set_user_data_access, access, DATA_ACCESS, "data access",
                           _ACCESS_LABELS)

    async def _change(self, user_id, service, value, choices, what: str, labels: dict[str, str]):
        actor = await self._actor()
        if actor is None:
            return self._to_login()
        row = self._user_by_id(user_id)
        self.error = self.notice = ""
        if row is None or value not in choices:
            self.error = "Pick the user and the value again."
            return await self._refresh(actor)
        outcome = await call_service(service, actor, row.id, value)
        if outcome.signed_out:
            return self._to_login()
        if outcome.ok:
            self.notice = f"{row.name}: {what} is now {labels[value]}"
        else:
            self.error = outcome.error
        return await self._refresh(actor)  # also puts a refused select back to the stored value

    # -- password ---------------------------------------------------------------------------------

    @rx.event
    async def open_password(self, user_id):
        if await self._actor() is None:
            return self._to_login()
        row = self._user_by_id(user_id)
        self.error = self.notice = self.password_error = ""
        if row is None:
            self.error = "User not found"
            return None
        self.password_id, self.password_name = row.id, row.name
        self.password_open = True
        return None

    @rx.event
    async def close_password(self, is_open=False):
        if is_open is not True:
            self.password_open = False
        return None

    @rx.event
    async def reset_password(self, form_data):
        actor = await self._actor()
        if actor is None:
            return self._to_login()
        password = form_text(form_data, "password", _MAX_PASSWORD)
        if password is None:
            self.password_error = "That password is too long."
            return None
        outcome = await call_service(users.set_user_password, actor, self.password_id, password)
        if outcome.signed_out:
            return self._to_login()  # resetting your own password ends your sessions too
        if not outcome.ok:
            self.password_error = outcome.error
            return None
        self.password_open = False
        self.notice = f"{self.password_name}'s password was changed; they need to sign in again"
        return None

    # -- role permissions -------------------------------------------------------------------------

    @rx.event
    async def set_permission(self, key, role, allowed):
        actor = await self._actor()
        if actor is None:
            return self._to_login()
        self.policy_error = self.policy_notice = ""
        cell = next((c for c in self.permissions if isinstance(key, str) and c.key == key), None)
        if cell is None or role not in ROLES or not isinstance(allowed, bool):
            self.policy_error = "Pick the permission again."
            return await self._refresh(actor)
        obj, _, act = cell.key.partition(":")
        outcome = await call_service(policy.set_role_permission, actor, role, obj, act, allowed)
        if outcome.signed_out:
            return self._to_login()
        if outcome.ok:
            verb = "may now" if allowed else "may no longer"
            self.policy_notice = f"{_ROLE_LABELS[role]}s {verb}: {cell.description.lower()}"
        else:
            self.policy_error = outcome.error
        return await self._refresh(actor)


# -- components ---------------------------------------------------------------------------------


def _choices(labels: dict[str, str]) -> list[rx.Component]:
    return [forms.option(label, value) for value, label in labels.items()]


def _user_item(row: UserRow) -> rx.Component:
    s = UsersState
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(row.name, size="3", as_="h3"),
                    rx.cond(row.is_me, rx.badge("You", variant="soft")),
                    rx.cond(~row.active, rx.badge("Inactive", color_scheme="gray")),
                    spacing="2", align="center", wrap="wrap",
                ),
                rx.text(row.email, size="2", color_scheme="gray", class_name="preview"),
                spacing="1", min_width="0",
            ),
            rx.spacer(),
            rx.flex(
                rx.vstack(
                    rx.el.label("Role", html_for="role-" + row.id.to_string(), class_name="field-label"),
                    forms.native_select("role-" + row.id.to_string(), "role", _choices(_ROLE_LABELS),
                                        value=row.role, aria_label="Role of " + row.name,
                                        on_change=lambda v: s.set_role(row.id, v)),
                    spacing="1",
                ),
                rx.vstack(
                    rx.el.label("Data access", html_for="access-" + row.id.to_string(), class_name="field-label"),
                    forms.native_select("access-" + row.id.to_string(), "data_access", _choices(_ACCESS_LABELS),
                                        value=row.data_access, aria_label="Data access of " + row.name,
                                        on_change=lambda v: s.set_data_access(row.id, v)),
                    spacing="1",
                ),
                rx.button(rx.icon("key-round", size=14), "Reset password", variant="soft", size="2",
                          aria_label="Reset password of " + row.name, on_click=s.open_password(row.id)),
                class_name="user-controls",
            ),
            direction={"initial": "column", "md": "row"},
            gap="3",
            align={"initial": "start", "md": "center"},
            width="100%",
        ),
        aria_label=row.name,
        class_name="admin-item",
    )


def _permission_row(cell: PermissionCell) -> rx.Component:
    s = UsersState

    def box(role: str, checked: rx.Var) -> rx.Component:
        return rx.el.td(
            rx.checkbox(
                checked=checked,
                on_change=lambda value: s.set_permission(cell.key, role, value),
                aria_label=f"{_ROLE_LABELS[role]}: " + cell.description,
            ),
            class_name="perm-cell",
        )

    return rx.el.tr(
        rx.el.th(cell.description, rx.el.div(cell.key, class_name="perm-key"), scope="row"),
        box("admin", cell.admin),
        box("user", cell.user),
    )


def _permissions() -> rx.Component:
    s = UsersState
    return rx.vstack(
        rx.heading("Role permissions", size="5", as_="h2"),
        rx.text("What each role may do in this location. Changes apply at once, in every open browser.",
                size="2", color_scheme="gray"),
        forms.done_notice(s.policy_notice),
        forms.error_notice(s.policy_error),
        rx.box(
            rx.el.table(
                rx.el.caption("Role permissions", class_name="visually-hidden"),
                rx.el.thead(rx.el.tr(
                    rx.el.th("Permission", scope="col"),
                    rx.el.th("Admin", scope="col", class_name="perm-cell"),
                    rx.el.th("User", scope="col", class_name="perm-cell"),
                )),
                rx.el.tbody(rx.foreach(s.permissions, _permission_row)),
                class_name="perm-table",
            ),
            width="100%",
            overflow_x="auto",
        ),
        spacing="3", width="100%",
    )


def _create_dialog() -> rx.Component:
    s = UsersState
    return forms.dialog(
        "New user",
        "They sign in with this email and password.",
        s.create_open,
        s.close_create,
        rx.form(
            rx.vstack(
                forms.text_field("Email", "user-email", "email", type="email", required=True,
                                 max_length=_MAX_EMAIL, auto_complete="off"),
                forms.text_field("Name", "user-name", "name", required=True, max_length=_MAX_NAME,
                                 auto_complete="off"),
                forms.text_field("Password", "user-password", "password", type="password", required=True,
                                 auto_complete="new-password", hint=f"At least {MIN_PASSWORD_LENGTH} characters"),
                rx.flex(
                    forms.field("Role", "user-role", forms.native_select(
                        "user-role", "role", _choices(_ROLE_LABELS), default_value="user")),
                    forms.field("Data access", "user-access", forms.native_select(
                        "user-access", "data_access", _choices(_ACCESS_LABELS), default_value="assigned")),
                    gap="3", width="100%", direction={"initial": "column", "sm": "row"},
                ),
                forms.error_notice(s.create_error),
                forms.dialog_buttons("Create user", s.close_create(False)),
                spacing="3", width="100%",
            ),
            on_submit=s.create_user,
            reset_on_submit=False,
        ),
    )


def _password_dialog() -> rx.Component:
    s = UsersState
    return forms.dialog(
        "Reset password of " + s.password_name,
        "Their open sessions end: they sign in again with the new password.",
        s.password_open,
        s.close_password,
        rx.form(
            rx.vstack(
                forms.text_field("New password", "reset-password", "password", type="password", required=True,
                                 auto_complete="new-password", hint=f"At least {MIN_PASSWORD_LENGTH} characters"),
                forms.error_notice(s.password_error),
                forms.dialog_buttons("Set password", s.close_password(False)),
                spacing="3", width="100%",
            ),
            on_submit=s.reset_password,
            reset_on_submit=True,
        ),
    )


def _admin_view() -> rx.Component:
    s = UsersState
    return rx.vstack(
        forms.page_header(
            "Users & access",
            "Who can sign in, their role, and whether they see all data or only what is assigned to them.",
            rx.button(rx.icon("user-plus", size=16), "New user", on_click=s.open_create),
        ),
        forms.done_notice(s.notice),
        forms.error_notice(s.error),
        forms.error_notice(s.load_error),
        rx.heading("Users", size="5", as_="h2", class_name="visually-hidden"),
        rx.el.ul(rx.foreach(s.rows, _user_item), aria_label="Users", class_name="admin-list"),
        rx.divider(margin_y="0.5rem"),
        _permissions(),
        _create_dialog(),
        _password_dialog(),
        spacing="4", width="100%",
    )


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
            rx.cond(UsersState.allowed, _admin_view(), _refusal()),
            forms.loading("users"),
        ),
        max_width="64rem",
    )


PAGE = Page("/users", page, "Users & access · groupsms", UsersState.load)
