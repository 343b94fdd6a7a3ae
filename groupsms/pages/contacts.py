"""/contacts: list, search, create, edit, delete, DND, merging duplicates and CSV import with a
preview (E9, R8, R10).

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
    contact_row,
    import_summary_text,
)
from groupsms.components.contact_list import contacts_page
from groupsms.components.contact_merge import DuplicateHint, MergeField
from groupsms.components.forms import form_text
from groupsms.errors import ValidationError
from groupsms.pages import Page
from groupsms.pages.session import SessionState, signed_in
from groupsms.services import contacts, imports, users
from groupsms.services._duplicates import possible_duplicates

_MAX_SEARCH = 100
# The service's field names → this page's error field and input id, in the form's order.
_FIELD_ERRORS = {"name": "name_error", "primary phone": "primary_error", "secondary phone": "secondary_error",
                 "assigned user": "assigned_error"}
_FIELD_IDS = {"name": "contact-name", "primary phone": "contact-primary", "secondary phone": "contact-secondary",
              "assigned user": "contact-assigned"}
_PAGE_SIZE = 500  # the most the contacts service lists at once; searching narrows it down
_MAX_CSV_CHARS = imports.MAX_CSV_BYTES  # the service measures bytes; this only stops absurd payloads


def _under_field(field: str, message: str) -> str:
    """"Primary phone: enter a phone number" reads "Enter a phone number" under Primary phone."""
    prefix = f"{field}: "
    if message.lower().startswith(prefix.lower()):
        message = message[len(prefix):]
    return message[:1].upper() + message[1:]


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
    # Each field's own error, shown under it ("" when fine).
    name_error: str = ""
    primary_error: str = ""
    secondary_error: str = ""
    assigned_error: str = ""

    # Confirmations: delete, and turning DND on (it locks groups). The texts stay while it closes.
    confirm_open: bool = False
    confirm_kind: str = ""  # "delete" | "dnd"
    confirm_id: int = 0
    confirm_name: str = ""

    # Merging a duplicate into the contact to keep (ids as the selects hold them: strings).
    merge_open: bool = False
    merge_keep: str = ""
    merge_other: str = ""
    merge_fields: list[MergeField] = []
    merge_error: str = ""
    duplicates: list[DuplicateHint] = []

    # CSV import.
    import_open: bool = False
    import_error: str = ""
    import_summary: str = ""
    import_errors: list[str] = []
    import_warnings: list[str] = []
    preview_summary: str = ""
    preview_rows: list[str] = []

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
            self.duplicates = [DuplicateHint(a, b, why) for a, b, why in possible_duplicates(found.value)]
            self.load_error = ""
        else:
            self.rows, self.load_error, self.duplicates = [], found.error, []
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
        self._reset_fields(*_FIELD_ERRORS.values())
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
        self._reset_fields("editor_error", *_FIELD_ERRORS.values())
        if self.editor_id:
            done = await self._attempt(
                contacts.update_contact, actor, self.editor_id, name=name, primary_phone=primary,
                secondary_phone=secondary or None, assigned_user_id=assignee,
            )
            saved = self.editor_id
        else:
            done = await self._attempt(
                contacts.create_contact, actor, name, primary, secondary or None, self.editor_dnd, assignee,
            )
            saved = done.value
        if not done.ok:
            return self._show_refusal(done)
        self.editor_open = False
        self.notice = f"{' '.join(name.split())} saved"
        found = await self._attempt(contacts.duplicate_number_warnings, actor, saved)
        self.warnings = list(found.value) if found.ok else []
        return await self._refresh(actor)

    def _show_refusal(self, done):
        """A refused save: each wrong field's error under it, focus on the first; the banner only
        names them (or says what is wrong with the whole form)."""
        marked = []
        for field, message in (done.exc.fields if isinstance(done.exc, ValidationError) else {}).items():
            var = _FIELD_ERRORS.get(field)
            if var and not getattr(self, var):
                setattr(self, var, _under_field(field, message))
                marked.append(field)
        if not marked:
            self.editor_error = done.error
            return None
        order = [f for f in _FIELD_ERRORS if f in marked]
        self.editor_error = "Check " + " and ".join(f.capitalize() for f in order) + " below."
        return rx.call_script(forms.focus_js(_FIELD_IDS[order[0]]))

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

    # -- merge ------------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def open_merge(self, actor, keep_id=None, other_id=None):
        self._reset_fields("error", "notice", "warnings", "merge_error")
        keep, other = forms.browser_id(keep_id), forms.browser_id(other_id)
        self.merge_keep = str(keep) if keep else ""
        self.merge_other = str(other) if other else ""
        self._merge_choices()
        self.merge_open = True

    @rx.event
    @signed_in
    async def set_merge_keep(self, actor, value):
        if isinstance(value, str) and len(value) <= 12:
            self.merge_keep = value
            self._merge_choices()

    @rx.event
    @signed_in
    async def set_merge_other(self, actor, value):
        if isinstance(value, str) and len(value) <= 12:
            self.merge_other = value
            self._merge_choices()

    def _merge_choices(self) -> None:
        """Once both contacts are chosen: one choice per field, showing both values."""
        rows = {str(r.id): r for r in self.rows}
        keep, other = rows.get(self.merge_keep), rows.get(self.merge_other)
        if keep is None or other is None or keep.id == other.id:
            self.merge_fields = []
            return
        self.merge_fields = [
            MergeField("name", "Name", keep.name, other.name),
            MergeField("primary_phone", "Primary phone", keep.primary, other.primary),
            MergeField("secondary_phone", "Secondary phone", keep.secondary, other.secondary),
        ]

    @rx.event
    @signed_in
    async def close_merge(self, actor, is_open=False):
        self._close_dialog("merge_open", is_open)

    @rx.event
    @signed_in(error="merge_error")
    async def merge(self, actor, form_data):
        keep = forms.browser_id(form_text(form_data, "keep", 12))
        other = forms.browser_id(form_text(form_data, "other", 12))
        if not keep or not other:
            self.merge_error = "Choose the contact to keep and the duplicate to remove."
            return None
        choices = {}
        for field in contacts.MERGE_FIELDS:
            choice = form_text(form_data, "choice_" + field, 8) or "auto"
            if choice not in ("auto", "keep", "other"):
                self.merge_error = "Choose keep or duplicate for each field."
                return None
            if choice != "auto":
                choices[field] = choice
        names = {r.id: r.name for r in self.rows}
        await self._call(contacts.merge_contacts, actor, keep, other, choices)
        self._assign(merge_open=False, merge_error="")
        self.notice = (f"{names.get(other, 'The duplicate')} merged into {names.get(keep, 'the kept contact')}. "
                       "Its groups keep the names and numbers they captured.")
        return await self._refresh(actor)

    # -- CSV import -------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def open_import(self, actor):
        self._reset_fields("import_error", "import_summary", "import_errors", "import_warnings",
                           "preview_summary", "preview_rows")
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
        self._reset_fields("import_summary", "import_errors", "import_warnings", "preview_summary", "preview_rows")
        if text is None:
            self.import_error = "The CSV is too large: import at most 1 MB at a time."
            return None
        if not text.strip():
            self.import_error = "Paste the CSV first (a header row, then one row per contact)."
            return None
        report = await self._call(imports.import_contacts_csv, actor, text)
        self._reset_fields("import_error", "preview_summary", "preview_rows")
        self.import_summary = import_summary_text(report)
        self.import_errors = list(report.errors)
        self.import_warnings = list(report.warnings)
        return await self._refresh(actor)


    @rx.event
    @signed_in(error="import_error")
    async def preview_csv(self, actor, text):
        """What importing the pasted text would do, row by row; nothing is written."""
        self._reset_fields("import_error", "import_summary", "import_errors", "import_warnings",
                           "preview_summary", "preview_rows")
        if not isinstance(text, str) or len(text) > _MAX_CSV_CHARS:
            self.import_error = "The CSV is too large: import at most 1 MB at a time."
            return None
        if not text.strip():
            self.import_error = "Paste the CSV first (a header row, then one row per contact)."
            return None
        preview = await self._call(imports.preview_contacts_csv, actor, text)
        self.preview_summary = preview.summary
        self.preview_rows = [r.text for r in preview.rows]
        return None


def page() -> rx.Component:
    return contacts_page(ContactsState, page_size=_PAGE_SIZE, max_search=_MAX_SEARCH)


PAGE = Page("/contacts", page, "Contacts · groupsms", ContactsState.load)
