"""/numbers: the location's business numbers (R1, R12, E9). Admins add numbers, set the default and
assign numbers to users; everyone else sees the numbers they may use, read-only."""

from __future__ import annotations

import dataclasses

import reflex as rx

from groupsms.components import forms
from groupsms.components.forms import call_service, form_text
from groupsms.components.layout import app_shell
from groupsms.pages import Page
from groupsms.pages.session import LOGIN_ROUTE, SessionState
from groupsms.services import numbers, users
from groupsms.services.numbers import NumberView

_MAX_NUMBER = 40
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

    add_open: bool = False
    add_error: str = ""

    assign_open: bool = False
    assign_id: int = 0
    assign_label: str = ""
    assign_users: list[UserChoice] = []
    assign_error: str = ""

    # Which users each number is assigned to (ids), kept server-side for the assign dialog.
    _assigned: dict[int, tuple[int, ...]] = {}
    _names: dict[int, str] = {}

    @rx.event
    async def load(self):
        actor = await self._signed_in()
        if actor is None:
            return self._to_login()
        self.error = self.notice = ""
        return await self._refresh(actor)

    def _to_login(self):
        self.rows, self.loaded = [], False
        return rx.redirect(LOGIN_ROUTE, replace=True)

    async def _refresh(self, actor):
        team = await call_service(users.list_users, actor)
        if team.signed_out:
            return self._to_login()
        self._names = {u.id: u.name for u in team.value} if team.ok else {}
        found = await call_service(numbers.list_numbers, actor)
        if found.signed_out:
            return self._to_login()
        if found.ok:
            self.rows = [_row(n, self._names) for n in found.value]
            self._assigned = {n.id: n.assigned_user_ids for n in found.value}
            self.load_error = ""
        else:
            self.rows, self._assigned, self.load_error = [], {}, found.error
        self.loaded = True
        return None

    # -- add ------------------------------------------------------------------------------------

    @rx.event
    async def open_add(self):
        if await self._actor() is None:
            return self._to_login()
        self.add_error = self.error = self.notice = ""
        self.add_open = True
        return None

    @rx.event
    async def close_add(self, is_open=False):
        if is_open is not True:
            self.add_open = False
        return None

    @rx.event
    async def add_number(self, form_data):
        actor = await self._actor()
        if actor is None:
            return self._to_login()
        number = form_text(form_data, "number", _MAX_NUMBER)
        label = form_text(form_data, "label", _MAX_LABEL)
        default = isinstance(form_data, dict) and form_data.get("default") in ("on", True)
        if number is None or label is None:
            self.add_error = "The number or the label is too long."
            return None
        if not number.strip():
            self.add_error = "Enter the number, e.g. (512) 555-0199 or +1 512 555 0199."
            return None
        outcome = await call_service(numbers.create_number, actor, number, label, default)
        if outcome.signed_out:
            return self._to_login()
        if not outcome.ok:
            self.add_error = outcome.error
            return None
        self.add_open = False
        self.notice = "Number added" + (" and made the default" if default else "")
        return await self._refresh(actor)

    # -- default --------------------------------------------------------------------------------

    @rx.event
    async def make_default(self, number_id):
        actor = await self._actor()
        if actor is None:
            return self._to_login()
        row = self._row_by_id(number_id)
        self.error = self.notice = ""
        if row is None:
            self.error = "Number not found"
            return None
        outcome = await call_service(numbers.set_default_number, actor, row.id)
        if outcome.signed_out:
            return self._to_login()
        if outcome.ok:
            self.notice = f"{row.label} is now the default number"
        else:
            self.error = outcome.error
        return await self._refresh(actor)

    def _row_by_id(self, number_id) -> NumberRow | None:
        nid = forms.browser_id(number_id)
        return next((r for r in self.rows if r.id == nid), None) if nid else None

    # -- assign ---------------------------------------------------------------------------------

    @rx.event
    async def open_assign(self, number_id):
        actor = await self._actor()
        if actor is None:
            return self._to_login()
        row = self._row_by_id(number_id)
        self.error = self.notice = self.assign_error = ""
        if row is None:
            self.error = "Number not found"
            return None
        current = set(self._assigned.get(row.id, ()))
        self.assign_id, self.assign_label = row.id, row.label
        self.assign_users = [UserChoice(str(uid), name, uid in current) for uid, name in self._names.items()]
        self.assign_open = True
        return None

    @rx.event
    async def close_assign(self, is_open=False):
        if is_open is not True:
            self.assign_open = False
        return None

    @rx.event
    async def save_assign(self, form_data):
        actor = await self._actor()
        if actor is None:
            return self._to_login()
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
        outcome = await call_service(numbers.assign_number, actor, self.assign_id, chosen)
        if outcome.signed_out:
            return self._to_login()
        if not outcome.ok:
            self.assign_error = outcome.error
            return None
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


def _add_dialog() -> rx.Component:
    s = NumbersState
    return forms.dialog(
        "Add a business number",
        "A US or Canada number your Vonage account can text from, in any format.",
        s.add_open,
        s.close_add,
        rx.form(
            rx.vstack(
                forms.text_field("Phone number", "number-e164", "number", type="tel", required=True,
                                 max_length=_MAX_NUMBER, placeholder="(512) 555-0199"),
                forms.text_field("Label", "number-label", "label", max_length=_MAX_LABEL,
                                 placeholder="Front desk", hint="Optional: shown in the number pickers"),
                rx.el.label(
                    rx.el.input(type="checkbox", name="default", class_name="native-checkbox"),
                    "Make it the default number",
                    class_name="field-label check-label",
                ),
                forms.error_notice(s.add_error),
                forms.dialog_buttons("Add number", s.close_add(False)),
                spacing="3", width="100%",
            ),
            on_submit=s.add_number,
            reset_on_submit=False,
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
                rx.cond(SessionState.is_admin,
                        rx.button(rx.icon("plus", size=16), "Add number", on_click=s.open_add)),
            ),
            rx.cond(~SessionState.is_admin,
                    rx.text("These are the numbers you may use. Only admins can change them.",
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
                                      rx.cond(SessionState.is_admin, "Add the first one to start texting.",
                                              "Ask an admin to add one.")),
                ),
                forms.loading("numbers"),
            ),
            spacing="4", width="100%",
        ),
        _add_dialog(),
        _assign_dialog(),
    )


PAGE = Page("/numbers", page, "Numbers · groupsms", NumbersState.load)
