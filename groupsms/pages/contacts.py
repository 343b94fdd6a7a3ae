"""/contacts: list, search, create, edit, delete, DND and CSV import (E9, R10).

The page only shows what `services.contacts` and `services.imports` return and forwards what the
browser sends, checked for type and size; the services decide who may do what. Every handler goes
through the `signed_in` kernel: a refusal lands in `error` unless the handler names its own field.
"""

from __future__ import annotations

import reflex as rx

from groupsms.components import forms
from groupsms.components.contact_dialogs import (
    MAX_NAME,
    MAX_PHONE,
    ContactRow,
    UserOption,
    confirm_dialog,
    contact_editor,
    contact_item,
    contact_row,
    import_dialog,
    import_summary_text,
    shared_number_warnings,
)
from groupsms.components.forms import form_text
from groupsms.components.layout import app_shell
from groupsms.pages import Page
from groupsms.pages.session import SessionState, signed_in
from groupsms.services import contacts, imports, users

_MAX_SEARCH = 100
_PAGE_SIZE = 500  # the most the contacts service lists at once; searching narrows it down
_MAX_CSV_CHARS = imports.MAX_CSV_BYTES  # the service measures bytes; this only stops absurd payloads


class ContactsState(SessionState):
    rows: list[ContactRow] = []
    assignees: list[UserOption] = []
    search: str = ""
    loaded: bool = False
    load_error: str = ""
    error: str = ""
    notice: str = ""
    # After a save: other contacts of the location hold one of the saved contact's numbers.
    warnings: list[str] = []

    # The create/edit dialog (`editor_id` 0: a new contact).
    editor_open: bool = False
    editor_id: int = 0
    editor_name: str = ""
    editor_primary: str = ""
    editor_secondary: str = ""
    editor_assigned: str = ""
    editor_dnd: bool = False
    editor_error: str = ""

    # Confirmations: delete, and turning DND on (it locks groups). The texts stay while it closes.
    confirm_open: bool = False
    confirm_kind: str = ""  # "delete" | "dnd"
    confirm_id: int = 0
    confirm_name: str = ""

    # CSV import.
    import_open: bool = False
    import_error: str = ""
    import_summary: str = ""
    import_errors: list[str] = []
    import_warnings: list[str] = []

    @rx.event
    @signed_in(shell=True)
    async def load(self, actor):
        self._reset_fields("error", "notice", "warnings")
        return await self._refresh(actor, with_users=True)

    async def _refresh(self, actor, *, with_users: bool = False):
        if with_users or not self.assignees:
            team = await self._attempt(users.list_users, actor)
            if team.ok:
                mine = next((u for u in team.value if u.id == actor.user_id), None)
                full = actor.role == "admin" or (mine is not None and mine.data_access == "all")
                # Assigned-only users may only assign contacts to themselves (the service says so too).
                self.assignees = [UserOption(str(u.id), u.name) for u in team.value
                                  if u.is_active and (full or u.id == actor.user_id)]
        found = await self._attempt(contacts.list_contacts, actor, self.search, _PAGE_SIZE)
        if found.ok:
            names = {int(u.id): u.name for u in self.assignees}
            self.rows = [contact_row(c, names) for c in found.value]
            self.load_error = ""
        else:
            self.rows, self.load_error = [], found.error
        self.loaded = True
        return None

    @rx.event
    @signed_in
    async def set_search(self, actor, value):
        if not isinstance(value, str):
            return None
        self.search = value[:_MAX_SEARCH]
        return await self._refresh(actor)

    # -- create / edit ------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def open_new(self, actor):
        self._fill_editor(0, "", "", "", "", False)
        return None

    @rx.event
    @signed_in
    async def open_edit(self, actor, contact_id):
        row = self._row_by_id(contact_id)
        self._fill_editor(row.id, row.name, row.primary, row.secondary, row.assigned_id, row.dnd)
        return None

    def _fill_editor(self, cid: int, name: str, primary: str, secondary: str, assigned: str, dnd: bool) -> None:
        self.editor_id, self.editor_name = cid, name
        self.editor_primary, self.editor_secondary = primary, secondary
        if not assigned and cid == 0 and len(self.assignees) == 1:
            assigned = self.assignees[0].id  # assigned-only users: themselves
        self.editor_assigned, self.editor_dnd = assigned, dnd
        self.editor_error, self.error, self.notice = "", "", ""
        self.warnings = []
        self.editor_open = True

    def _row_by_id(self, contact_id) -> ContactRow:
        """The row this tab shows for an id the browser sent; else "Contact not found"."""
        cid = forms.browser_id(contact_id)
        return self._require(next((r for r in self.rows if r.id == cid), None) if cid else None, "Contact")

    @rx.event
    @signed_in
    async def set_editor_dnd(self, actor, value):
        if isinstance(value, bool):
            self.editor_dnd = value
        return None

    @rx.event
    @signed_in
    async def close_editor(self, actor, is_open=False):
        self._close_dialog("editor_open", is_open)

    @rx.event
    @signed_in(error="editor_error")
    async def save_contact(self, actor, form_data):
        name = form_text(form_data, "name", MAX_NAME)
        primary = form_text(form_data, "primary_phone", MAX_PHONE)
        secondary = form_text(form_data, "secondary_phone", MAX_PHONE)
        assigned = form_text(form_data, "assigned_user", 12)
        if None in (name, primary, secondary, assigned) or (assigned and not assigned.isdigit()):
            self.editor_error = "Some fields are too long or not text."
            return None
        # Keep what was typed if the service refuses it (the dialog re-renders with these values).
        self.editor_name, self.editor_primary, self.editor_secondary = name, primary, secondary
        self.editor_assigned = assigned
        assignee = int(assigned) if assigned else None
        if self.editor_id:
            await self._call(
                contacts.update_contact, actor, self.editor_id, name=name, primary_phone=primary,
                secondary_phone=secondary or None, assigned_user_id=assignee,
            )
            saved = self.editor_id
        else:
            saved = await self._call(
                contacts.create_contact, actor, name, primary, secondary or None, self.editor_dnd, assignee,
            )
        self.editor_open = False
        self.notice = f"{' '.join(name.split())} saved"
        found = await self._attempt(contacts.duplicate_number_warnings, actor, saved)
        self.warnings = list(found.value) if found.ok else []
        return await self._refresh(actor)

    # -- delete and DND -------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def ask_delete(self, actor, contact_id):
        self._ask("delete", contact_id)
        return None

    @rx.event
    @signed_in
    async def set_dnd(self, actor, contact_id, value):
        """The DND switch of a row: turning it off happens at once, turning it on asks first."""
        if not isinstance(value, bool):
            return None
        if value:
            self._ask("dnd", contact_id)
            return None
        return await self._change_dnd(actor, contact_id, False)

    def _ask(self, kind: str, contact_id) -> None:
        self._reset_fields("error", "notice", "warnings")
        row = self._row_by_id(contact_id)
        self.confirm_kind, self.confirm_id, self.confirm_name = kind, row.id, row.name
        self.confirm_open = True

    @rx.event
    @signed_in
    async def cancel_confirm(self, actor, is_open=False):
        self._close_dialog("confirm_open", is_open)

    @rx.event
    @signed_in
    async def confirm(self, actor):
        if not self.confirm_open:
            return None
        kind, cid, name = self.confirm_kind, self.confirm_id, self.confirm_name
        self.confirm_open = False
        if kind == "dnd":
            return await self._change_dnd(actor, cid, True)
        if kind != "delete":
            return None
        done = await self._attempt(contacts.delete_contact, actor, cid)
        self._assign(notice=f"{name} deleted. Groups keep the number and show a Deleted tag." if done.ok else "",
                     error=done.error)
        return await self._refresh(actor)

    async def _change_dnd(self, actor, contact_id, value: bool):
        row = self._row_by_id(contact_id)
        done = await self._attempt(contacts.set_contact_dnd, actor, row.id, value)
        if not done.ok:
            self.error = done.error
        elif value:
            locked = len(done.value)
            groups = "no group was" if locked == 0 else ("1 group is" if locked == 1 else f"{locked} groups are")
            self.notice = f"DND is on for {row.name}: {groups} now locked."
        else:
            self.notice = f"DND is off for {row.name}. Groups locked earlier stay locked."
            if row.opted_out:  # E1: staff cannot lift what the number asked for by text
                self.notice += f" {row.opted_out}: only a START texted from that number lifts it."
        return await self._refresh(actor)

    # -- CSV import -------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def open_import(self, actor):
        self._reset_fields("import_error", "import_summary", "import_errors", "import_warnings")
        self.import_open = True
        return None

    @rx.event
    @signed_in
    async def close_import(self, actor, is_open=False):
        self._close_dialog("import_open", is_open)

    @rx.event
    @signed_in(error="import_error")
    async def import_csv(self, actor, form_data):
        text = form_text(form_data, "csv", _MAX_CSV_CHARS)
        self._reset_fields("import_summary", "import_errors", "import_warnings")
        if text is None:
            self.import_error = "The CSV is too large: import at most 1 MB at a time."
            return None
        if not text.strip():
            self.import_error = "Paste the CSV first (a header row, then one row per contact)."
            return None
        report = await self._call(imports.import_contacts_csv, actor, text)
        self.import_error = ""
        self.import_summary = import_summary_text(report)
        self.import_errors = list(report.errors)
        self.import_warnings = list(report.warnings)
        return await self._refresh(actor)


# -- view (the row and the dialogs: components/contact_dialogs.py) -------------------------------


def _list() -> rx.Component:
    s = ContactsState
    return rx.cond(
        s.rows.length() > 0,
        rx.vstack(
            rx.el.ul(rx.foreach(s.rows, lambda row: contact_item(row, s)), aria_label="Contacts",
                     class_name="admin-list"),
            rx.cond(s.rows.length() >= _PAGE_SIZE,
                    rx.text(f"Showing the first {_PAGE_SIZE} contacts: search to find the others.",
                            size="2", color_scheme="gray")),
            spacing="2", width="100%",
        ),
        rx.cond(
            s.search != "",
            forms.empty_state("search-x", "No contacts match", "Try a name or part of a number."),
            forms.empty_state("contact", "No contacts yet", "Create one, or import them from a CSV file."),
        ),
    )


def page() -> rx.Component:
    s = ContactsState
    return app_shell(
        rx.vstack(
            forms.page_header(
                "Contacts",
                "The people you text. DND contacts can't join groups, and turning DND on locks their groups.",
                rx.button(rx.icon("file-up", size=16), "Import CSV", variant="soft", on_click=s.open_import),
                rx.button(rx.icon("plus", size=16), "New contact", on_click=s.open_new),
            ),
            forms.field(
                "Search contacts", "contacts-search",
                rx.input(id="contacts-search", type="search", placeholder="Name or number, any format",
                         value=s.search, on_change=s.set_search, debounce_timeout=300, width="100%",
                         max_length=_MAX_SEARCH),
            ),
            forms.done_notice(s.notice),
            shared_number_warnings(s.warnings, "Shared number"),
            forms.error_notice(s.error),
            forms.error_notice(s.load_error),
            rx.cond(s.loaded, _list(), forms.loading("contacts")),
            spacing="4",
            width="100%",
        ),
        contact_editor(s),
        confirm_dialog(s),
        import_dialog(s),
    )


PAGE = Page("/contacts", page, "Contacts · groupsms", ContactsState.load)
