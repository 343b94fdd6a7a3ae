"""/numbers: the location's business numbers (R1, R12, R14, E9). The install owner gives numbers to
the location from the provider account; admins label them, set the default and assign them to users;
everyone else sees the numbers they may use, read-only."""

from __future__ import annotations

import dataclasses

import reflex as rx

from groupsms.components import forms
from groupsms.components.forms import form_text
from groupsms.components.intro_setting import intro_setting_card
from groupsms.components.layout import app_shell
from groupsms.pages import Page
from groupsms.pages.session import SessionState, signed_in
from groupsms.services import numbers, users
from groupsms.services.numbers import NumberView

_MAX_LABEL = 100
_MAX_USERS = 1000


@dataclasses.dataclass
class NumberRow:
    id: int
    label: str
    display: str
    is_default: bool
    assigned: str  # "Ada Admin, Bo Assigned", or "" when unassigned


@dataclasses.dataclass
class UserChoice:
    id: str
    name: str
    checked: bool


def _row(n: NumberView, names: dict[int, str]) -> NumberRow:
    assigned = ", ".join(names.get(uid, "a former user") for uid in n.assigned_user_ids)
    return NumberRow(n.id, n.label, n.display, n.is_default, assigned)


class NumbersState(SessionState):
    rows: list[NumberRow] = []
    loaded: bool = False
    load_error: str = ""
    error: str = ""
    notice: str = ""

    label_open: bool = False
    label_id: int = 0
    label_current: str = ""
    label_error: str = ""

    assign_open: bool = False
    assign_id: int = 0
    assign_label: str = ""
    assign_users: list[UserChoice] = []
    assign_error: str = ""

    # Which users each number is assigned to (ids), kept server-side for the assign dialog.
    _assigned: dict[int, tuple[int, ...]] = {}
    _names: dict[int, str] = {}

    @rx.event
    @signed_in(shell=True)
    async def load(self, actor):
        self._reset_fields("error", "notice")
        return await self._refresh(actor)

    async def _refresh(self, actor):
        team = await self._attempt(users.list_users, actor)
        self._names = {u.id: u.name for u in team.value} if team.ok else {}
        found = await self._attempt(numbers.list_numbers, actor)
        if found.ok:
            self.rows = [_row(n, self._names) for n in found.value]
            self._assigned = {n.id: n.assigned_user_ids for n in found.value}
            self.load_error = ""
        else:
            self.rows, self._assigned, self.load_error = [], {}, found.error
        self.loaded = True
        return None

    # -- label --------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def open_label(self, actor, number_id):
        self.error = self.notice = self.label_error = ""
        row = self._row_by_id(number_id)
        self.label_id, self.label_current = row.id, row.label
        self.label_open = True
        return None

    @rx.event
    @signed_in
    async def close_label(self, actor, is_open=False):
        self._close_dialog("label_open", is_open)

    @rx.event
    @signed_in(error="label_error")
    async def save_label(self, actor, form_data):
        label = form_text(form_data, "label", _MAX_LABEL)
        if label is None:
            self.label_error = f"The label is too long (at most {_MAX_LABEL} characters)."
            return None
        await self._call(numbers.set_number_label, actor, self.label_id, label)
        self.label_open = False
        self.notice = "Label saved"
        return await self._refresh(actor)

    # -- default --------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def make_default(self, actor, number_id):
        self.error = self.notice = ""
        row = self._row_by_id(number_id)
        done = await self._attempt(numbers.set_default_number, actor, row.id)
        self._assign(notice=f"{row.label} is now the default number" if done.ok else "", error=done.error)
        return await self._refresh(actor)

    def _row_by_id(self, number_id) -> NumberRow:
        """The row this tab shows for an id the browser sent; else "Number not found"."""
        nid = forms.browser_id(number_id)
        return self._require(next((r for r in self.rows if r.id == nid), None) if nid else None, "Number")

    # -- assign ---------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def open_assign(self, actor, number_id):
        self.error = self.notice = self.assign_error = ""
        row = self._row_by_id(number_id)
        current = set(self._assigned.get(row.id, ()))
        self.assign_id, self.assign_label = row.id, row.label
        self.assign_users = [UserChoice(str(uid), name, uid in current) for uid, name in self._names.items()]
        self.assign_open = True
        return None

    @rx.event
    @signed_in
    async def close_assign(self, actor, is_open=False):
        self._close_dialog("assign_open", is_open)

    @rx.event
    @signed_in(error="assign_error")
    async def save_assign(self, actor, form_data):
        if not isinstance(form_data, dict) or len(form_data) > _MAX_USERS:
            self.assign_error = "Pick the users again."
            return None
        chosen = []
        for key, value in form_data.items():
            if isinstance(key, str) and key.startswith("user-") and value in ("on", True):
                uid = forms.browser_id(key.removeprefix("user-"))
                if uid is None:
                    self.assign_error = "Pick the users again."
                    return None
                chosen.append(uid)
        await self._call(numbers.assign_number, actor, self.assign_id, chosen)
        self.assign_open = False
        self.notice = (f"{self.assign_label} is assigned to {len(chosen)} user{'' if len(chosen) == 1 else 's'}"
                       if chosen else f"{self.assign_label} is now unassigned: every user may use it")
        return await self._refresh(actor)


# -- components ---------------------------------------------------------------------------------


def _number_item(row: NumberRow) -> rx.Component:
    s = NumbersState
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(row.label, size="3", as_="h2"),
                    rx.cond(row.is_default, rx.badge(rx.icon("star", size=12), "Default", color_scheme="green")),
                    align="center", spacing="2", wrap="wrap",
                ),
                rx.text(row.display, size="2", class_name="mono"),
                rx.text(
                    rx.cond(row.assigned != "", "Assigned to " + row.assigned,
                            "Unassigned: every user may use it"),
                    size="1", color_scheme="gray",
                ),
                spacing="1", min_width="0",
            ),
            rx.spacer(),
            rx.cond(
                SessionState.is_admin,
                rx.hstack(
                    rx.cond(
                        row.is_default,
                        rx.fragment(),
                        rx.button(rx.icon("star", size=14), "Make default", variant="soft", size="2",
                                  aria_label="Make " + row.label + " the default",
                                  on_click=s.make_default(row.id)),
                    ),
                    rx.button(rx.icon("pencil", size=14), "Rename", variant="soft", size="2",
                              aria_label="Rename " + row.label, on_click=s.open_label(row.id)),
                    rx.button(rx.icon("users", size=14), "Assign", variant="soft", size="2",
                              aria_label="Assign " + row.label, on_click=s.open_assign(row.id)),
                    spacing="2", wrap="wrap",
                ),
            ),
            direction={"initial": "column", "sm": "row"},
            gap="3",
            align={"initial": "start", "sm": "center"},
            width="100%",
        ),
        aria_label=row.label,
        class_name="admin-item",
    )


def _label_dialog() -> rx.Component:
    s = NumbersState
    return forms.dialog(
        "Rename " + s.label_current,
        "The label is shown in the number pickers; leave it blank to show the number itself.",
        s.label_open,
        s.close_label,
        rx.form(
            rx.vstack(
                forms.text_field("Label", "number-label", "label", max_length=_MAX_LABEL,
                                 placeholder="Front desk", default_value=s.label_current),
                forms.error_notice(s.label_error),
                forms.dialog_buttons("Save", s.close_label(False)),
                spacing="3", width="100%",
            ),
            on_submit=s.save_label,
            reset_on_submit=False,
            key=s.label_id.to_string(),
        ),
    )


def _assign_dialog() -> rx.Component:
    s = NumbersState
    return forms.dialog(
        "Assign " + s.assign_label,
        "Users see the default number, their own numbers and unassigned ones. Admins see all.",
        s.assign_open,
        s.close_assign,
        rx.form(
            rx.vstack(
                rx.el.fieldset(
                    rx.el.legend("Users", class_name="field-label"),
                    rx.vstack(
                        rx.foreach(
                            s.assign_users,
                            lambda u: rx.el.label(
                                rx.el.input(type="checkbox", name="user-" + u.id, default_checked=u.checked,
                                            class_name="native-checkbox"),
                                u.name,
                                class_name="check-label",
                            ),
                        ),
                        spacing="2",
                    ),
                    class_name="plain-fieldset",
                ),
                forms.error_notice(s.assign_error),
                forms.dialog_buttons("Save", s.close_assign(False)),
                spacing="3", width="100%",
            ),
            on_submit=s.save_assign,
            reset_on_submit=False,
            key=s.assign_id.to_string(),
        ),
    )


def page() -> rx.Component:
    s = NumbersState
    return app_shell(
        rx.vstack(
            forms.page_header(
                "Numbers",
                "The business numbers groups are sent from.",
            ),
            rx.text("Numbers come from the provider account and are given to this location by the "
                    "install owner. To get another number, ask them.", size="2", color_scheme="gray"),
            rx.cond(~SessionState.is_admin,
                    rx.text("These are the numbers you may use. Only admins can label or assign them.",
                            size="2", color_scheme="gray")),
            forms.done_notice(s.notice),
            forms.error_notice(s.error),
            forms.error_notice(s.load_error),
            rx.cond(
                s.loaded,
                rx.cond(
                    s.rows.length() > 0,
                    rx.el.ul(rx.foreach(s.rows, _number_item), aria_label="Business numbers",
                             class_name="admin-list"),
                    forms.empty_state("phone", "No business numbers yet",
                                      "Ask the install owner to give this location a number."),
                ),
                forms.loading("numbers"),
            ),
            rx.cond(SessionState.is_admin, intro_setting_card()),  # a location setting: what numbers text
            spacing="4", width="100%",
        ),
        _label_dialog(),
        _assign_dialog(),
    )


PAGE = Page("/numbers", page, "Numbers · groupsms", NumbersState.load)
