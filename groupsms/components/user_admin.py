"""/users, the admin's view: the users of the location and the role permission table (E9).

Pure layout: the functions that show the page's vars take its state class (`s`), so this module
never imports the page (which imports it).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from groupsms.components import forms
from groupsms.components.failed_events import failed_events_section
from groupsms.domain.audit_text import KINDS
from groupsms.domain.clock import UTC_CLOCK, Clock
from groupsms.security import MIN_PASSWORD_LENGTH
from groupsms.services.audit import AuditEntry
from groupsms.services.policy import PermissionRow

MAX_EMAIL = 254
MAX_NAME = 200
ROLE_LABELS = {"admin": "Admin", "user": "User"}
ACCESS_LABELS = {"all": "All data", "assigned": "Assigned data only"}


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


@dataclasses.dataclass
class AuditRow:
    when: str  # "Yesterday, 2:46 PM" in the viewer's zone
    when_full: str  # "Dec 1, 2026, 2:46 PM CST" (the tooltip)
    actor: str
    kind: str  # "Contacts"
    sentence: str  # "Ada changed Carla Mendes's name from 'Carla M.' to 'Carla Mendes'"


@dataclasses.dataclass
class PersonChoice:
    value: str  # a user id, or "system"
    label: str


def audit_row(e: AuditEntry, clock: Clock = UTC_CLOCK) -> AuditRow:
    return AuditRow(clock.stamp(e.at), clock.full(e.at), e.actor, KINDS.get(e.kind, ("Other",))[0], e.sentence)


def _audit_filters(s: Any) -> rx.Component:
    kinds = [forms.option("All changes", "")] + [forms.option(label, key) for key, (label, _) in KINDS.items()]
    return rx.form(
        rx.vstack(
            rx.grid(
                forms.field("Person", "audit-person", forms.native_select(
                    "audit-person", "person",
                    [forms.option("Everyone", ""),
                     rx.foreach(s.audit_people, lambda p: forms.option(p.label, p.value))],
                    value=s.audit_person, on_change=lambda v: s.set_audit_filter("audit_person", v))),
                forms.field("Kind", "audit-kind", forms.native_select(
                    "audit-kind", "kind", kinds, value=s.audit_kind,
                    on_change=lambda v: s.set_audit_filter("audit_kind", v))),
                forms.field("From", "audit-from", rx.el.input(
                    type="date", id="audit-from", name="date_from", value=s.audit_from,
                    on_change=lambda v: s.set_audit_filter("audit_from", v), class_name="native-select")),
                forms.field("To", "audit-to", rx.el.input(
                    type="date", id="audit-to", name="date_to", value=s.audit_to,
                    on_change=lambda v: s.set_audit_filter("audit_to", v), class_name="native-select")),
                columns={"initial": "1", "sm": "2", "md": "4"},
                gap="3",
                width="100%",
            ),
            rx.flex(
                rx.button(rx.icon("filter", size=14), "Apply filters", type="submit", size="2"),
                rx.button("Clear", type="button", variant="soft", size="2", on_click=s.clear_audit_filters),
                rx.button(rx.icon("download", size=14), "Download CSV", type="button", variant="soft", size="2",
                          on_click=s.export_audit),
                gap="2", wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=s.filter_audit,
        reset_on_submit=False,
        aria_label="Filter the audit log",
        width="100%",
    )


def _audit_log(s: Any) -> rx.Component:
    """E8: who changed what, newest first, as sentences; filters, pages of 50 and a CSV export."""
    return rx.vstack(
        rx.heading("Recent changes", size="5", as_="h2"),
        rx.text("Who created groups, sent messages, and changed contacts, numbers, users and permissions. "
                "Times are in " + s.audit_zone + ".", size="2", color_scheme="gray"),
        _audit_filters(s),
        forms.error_notice(s.audit_error),
        rx.box(
            rx.el.table(
                rx.el.caption("Recent changes", class_name="visually-hidden"),
                rx.el.thead(rx.el.tr(*(rx.el.th(h, scope="col") for h in ("When", "Who", "Kind", "What")))),
                rx.el.tbody(rx.foreach(s.audit_rows, lambda r: rx.el.tr(
                    rx.el.td(rx.el.time(r.when, title=r.when_full), white_space="nowrap"), rx.el.td(r.actor),
                    rx.el.td(r.kind, white_space="nowrap"), rx.el.td(r.sentence),
                ))),
                class_name="perm-table audit-table",
                # Four columns of sentences stay readable on a phone: the table keeps this width and
                # scrolls inside its box instead of squeezing "What" into letter-by-letter lines.
                min_width="36rem",
            ),
            width="100%",
            overflow="auto",
            max_height="36rem",
            tab_index=0,  # scrollable by keyboard
            aria_label="Recent changes, scrollable",
        ),
        rx.cond(s.audit_rows.length() == 0, rx.text("No changes match these filters.", size="2",
                                                     color_scheme="gray")),
        rx.flex(
            rx.button(rx.icon("chevron-left", size=14), "Newer", variant="soft", size="2",
                      disabled=~s.audit_has_newer, on_click=s.audit_newer),
            rx.button("Older", rx.icon("chevron-right", size=14), variant="soft", size="2",
                      disabled=~s.audit_has_older, on_click=s.audit_older),
            gap="2", justify="end", width="100%",
        ),
        spacing="3", width="100%",
    )


def permission_cell(p: PermissionRow) -> PermissionCell:
    return PermissionCell(f"{p.obj}:{p.act}", p.description, "admin" in p.roles, "user" in p.roles)


def _choices(labels: dict[str, str]) -> list[rx.Component]:
    return [forms.option(label, value) for value, label in labels.items()]


def _user_item(row: UserRow, s: Any) -> rx.Component:
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
                    forms.native_select("role-" + row.id.to_string(), "role", _choices(ROLE_LABELS),
                                        value=row.role, aria_label="Role of " + row.name,
                                        on_change=lambda v: s.set_role(row.id, v)),
                    spacing="1",
                ),
                rx.vstack(
                    rx.el.label("Data access", html_for="access-" + row.id.to_string(), class_name="field-label"),
                    forms.native_select("access-" + row.id.to_string(), "data_access", _choices(ACCESS_LABELS),
                                        value=row.data_access, aria_label="Data access of " + row.name,
                                        on_change=lambda v: s.set_data_access(row.id, v)),
                    spacing="1",
                ),
                rx.button(rx.icon("key-round", size=14), "Reset password", variant="soft", size="2",
                          aria_label="Reset password of " + row.name, on_click=s.open_password(row.id)),
                # Not for yourself: an admin cannot lock themself out (the service refuses it too).
                rx.cond(
                    row.is_me,
                    rx.fragment(),
                    rx.cond(
                        row.active,
                        rx.button(rx.icon("user-x", size=14), "Deactivate", variant="soft", color_scheme="red",
                                  size="2", aria_label="Deactivate " + row.name,
                                  on_click=s.set_active(row.id, False)),
                        rx.button(rx.icon("user-check", size=14), "Reactivate", variant="soft", size="2",
                                  aria_label="Reactivate " + row.name, on_click=s.set_active(row.id, True)),
                    ),
                ),
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


def _permission_row(cell: PermissionCell, s: Any) -> rx.Component:
    def box(role: str, checked: rx.Var) -> rx.Component:
        return rx.el.td(
            rx.checkbox(
                checked=checked,
                on_change=lambda value: s.set_permission(cell.key, role, value),
                aria_label=f"{ROLE_LABELS[role]}: " + cell.description,
            ),
            class_name="perm-cell",
        )

    return rx.el.tr(
        rx.el.th(cell.description, rx.el.div(cell.key, class_name="perm-key"), scope="row"),
        box("admin", cell.admin),
        box("user", cell.user),
    )


def _permissions(s: Any) -> rx.Component:
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
                rx.el.tbody(rx.foreach(s.permissions, lambda cell: _permission_row(cell, s))),
                class_name="perm-table",
            ),
            width="100%",
            overflow_x="auto",
        ),
        spacing="3", width="100%",
    )


def _create_dialog(s: Any) -> rx.Component:
    return forms.dialog(
        "New user",
        "They sign in with this email and password.",
        s.create_open,
        s.close_create,
        rx.form(
            rx.vstack(
                forms.text_field("Email", "user-email", "email", type="email", required=True,
                                 max_length=MAX_EMAIL, auto_complete="off"),
                forms.text_field("Name", "user-name", "name", required=True, max_length=MAX_NAME,
                                 auto_complete="off"),
                forms.text_field("Password", "user-password", "password", type="password", required=True,
                                 auto_complete="new-password", hint=f"At least {MIN_PASSWORD_LENGTH} characters"),
                rx.flex(
                    forms.field("Role", "user-role", forms.native_select(
                        "user-role", "role", _choices(ROLE_LABELS), default_value="user")),
                    forms.field("Data access", "user-access", forms.native_select(
                        "user-access", "data_access", _choices(ACCESS_LABELS), default_value="assigned")),
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


def _password_dialog(s: Any) -> rx.Component:
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


def admin_view(s: Any) -> rx.Component:
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
        rx.el.ul(rx.foreach(s.rows, lambda row: _user_item(row, s)), aria_label="Users", class_name="admin-list"),
        rx.divider(margin_y="0.5rem"),
        _permissions(s),
        rx.divider(margin_y="0.5rem"),
        failed_events_section(s),
        _audit_log(s),
        _create_dialog(s),
        _password_dialog(s),
        spacing="4", width="100%",
    )
